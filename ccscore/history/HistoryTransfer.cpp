#include "HistoryTransfer.h"

#include "HistorySql_p.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QIODevice>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

#include <algorithm>

namespace ccs::history {

QByteArray jsonLine(const HistoryRow &row)
{
    return QJsonDocument(row.toJson()).toJson(QJsonDocument::Compact);
}

qint64 exportJsonLines(HistoryStore *store, HistoryQuery query, qint64 limit, QIODevice *out, QString *error)
{
    constexpr qint64 kPage = 500;
    qint64 written = 0;
    QVector<HistoryRow> rows;
    query.after.reset();
    for (;;) {
        const qint64 left = limit > 0 ? limit - written : kPage;
        if (left <= 0)
            break;
        query.limit = int(std::min(left, kPage));
        if (!store->search(query, &rows)) {
            *error = store->lastError();
            return -1;
        }
        for (const HistoryRow &row : std::as_const(rows)) {
            QByteArray line = jsonLine(row);
            line.append('\n');
            if (out->write(line) != line.size()) {
                *error = out->errorString();
                return -1;
            }
        }
        written += rows.size();
        if (rows.size() < query.limit)
            break;
        query.after = HistoryStore::cursorAfter(rows.last());
    }
    return written;
}

namespace {

QString compact(const QJsonValue &value)
{
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    return {};
}

QVariant nullableText(const QJsonValue &value)
{
    const QString text = value.toString();
    return text.isEmpty() ? QVariant(QMetaType(QMetaType::QString)) : QVariant(text);
}

QVariant nullableMs(const QJsonValue &value)
{
    const qint64 ms = value.toInteger();
    return ms > 0 ? QVariant(ms) : QVariant(QMetaType(QMetaType::LongLong));
}

// What full-text search looks in, as the writer stores it: the data, then the notification.
QString searchText(const QJsonObject &message)
{
    QString text = compact(message.value(QLatin1String("data")));
    const QString notification = compact(message.value(QLatin1String("notification")));
    if (!notification.isEmpty())
        text += (text.isEmpty() ? QString() : QStringLiteral(" ")) + notification;
    return text;
}

bool isWholeNumber(const QJsonValue &value)
{
    return value.isDouble() && value.toDouble() == double(value.toInteger());
}

// Why a line cannot be imported, or empty when it can.
QString checkLine(const QJsonObject &o)
{
    const QString kind = o.value(QLatin1String("kind")).toString();
    if (kind != QLatin1String("downstream") && kind != QLatin1String("upstream")
        && kind != QLatin1String("receipt"))
        return QStringLiteral("\"kind\" must be downstream, upstream or receipt");
    if (o.value(QLatin1String("message_id")).toString().isEmpty())
        return QStringLiteral("no \"message_id\"");
    if (!isWholeNumber(o.value(QLatin1String("at_ms"))) || o.value(QLatin1String("at_ms")).toInteger() <= 0)
        return QStringLiteral("no \"at_ms\" (milliseconds since 1970)");
    for (const char *number : {"session", "connection", "attempts", "retries", "times_seen", "acked_ms",
             "delivered_ms"}) {
        const QJsonValue value = o.value(QLatin1String(number));
        if (!value.isUndefined() && !value.isNull() && !isWholeNumber(value))
            return QStringLiteral("\"%1\" is not a number").arg(QLatin1String(number));
    }
    if (kind == QLatin1String("downstream")) {
        if (o.value(QLatin1String("token")).toString().isEmpty())
            return QStringLiteral("no \"token\"");
        if (!o.value(QLatin1String("request")).isObject())
            return QStringLiteral("no \"request\" object");
        if (!o.value(QLatin1String("history")).isUndefined() && !o.value(QLatin1String("history")).isArray())
            return QStringLiteral("\"history\" is not an array");
    } else if (!o.value(QLatin1String("message")).isObject()) {
        return QStringLiteral("no \"message\" object");
    }
    return {};
}

bool insertRow(QSqlQuery &query, const QJsonObject &o, QString *error)
{
    const QString kind = o.value(QLatin1String("kind")).toString();
    const qint64 session = o.value(QLatin1String("session")).toInteger();
    const qint64 atMs = o.value(QLatin1String("at_ms")).toInteger();
    const int connection = int(o.value(QLatin1String("connection")).toInteger());
    const QString messageId = o.value(QLatin1String("message_id")).toString();
    const QString token = o.value(QLatin1String("token")).toString();
    const QJsonObject message = o.value(QLatin1String(kind == QLatin1String("downstream") ? "request" : "message"))
                                    .toObject();
    const int timesSeen = int(std::max<qint64>(1, o.value(QLatin1String("times_seen")).toInteger(1)));
    QVariantList binds;
    if (kind == QLatin1String("downstream")) {
        query.prepare(QStringLiteral(
            "INSERT INTO downstream (session_id, message_id, to_token, request, payload, state, history,"
            " attempts, retries, connection, nack_code, error_description, queued_ms, acked_ms, delivered_ms)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
        const QJsonValue history = o.value(QLatin1String("history"));
        binds << session << messageId << token << compact(message) << searchText(message)
              << o.value(QLatin1String("state")).toString()
              << (history.isArray() ? compact(history) : QStringLiteral("[]"))
              << o.value(QLatin1String("attempts")).toInteger() << o.value(QLatin1String("retries")).toInteger()
              << connection << nullableText(o.value(QLatin1String("nack")))
              << nullableText(o.value(QLatin1String("error_description"))) << atMs
              << nullableMs(o.value(QLatin1String("acked_ms"))) << nullableMs(o.value(QLatin1String("delivered_ms")));
    } else if (kind == QLatin1String("upstream")) {
        query.prepare(QStringLiteral(
            "INSERT INTO upstream (session_id, from_token, message_id, category, payload, message, connection,"
            " received_ms, times_seen) VALUES (?,?,?,?,?,?,?,?,?)"));
        binds << session << token << messageId << nullableText(message.value(QLatin1String("category")))
              << compact(message.value(QLatin1String("data"))) << compact(message) << connection << atMs
              << timesSeen;
    } else {
        query.prepare(QStringLiteral(
            "INSERT INTO receipt (session_id, receipt_id, original_message_id, device_token, status, category,"
            " message, connection, received_ms, times_seen) VALUES (?,?,?,?,?,?,?,?,?,?)"));
        binds << session << messageId << nullableText(o.value(QLatin1String("original_message_id")))
              << nullableText(o.value(QLatin1String("token"))) << nullableText(o.value(QLatin1String("state")))
              << nullableText(message.value(QLatin1String("category"))) << compact(message) << connection << atMs
              << timesSeen;
    }
    for (int i = 0; i < binds.size(); ++i)
        query.bindValue(i, binds.at(i));
    if (query.exec())
        return true;
    const QString text = query.lastError().text();
    *error = text.contains(QLatin1String("UNIQUE"), Qt::CaseInsensitive)
        ? QStringLiteral("the same message as an earlier line (message_id \"%1\", session %2)")
              .arg(messageId)
              .arg(session)
        : text;
    return false;
}

} // namespace

ImportResult importJsonLines(QIODevice *in, const QString &sourceName, const QString &databasePath)
{
    ImportResult result;
    if (QFileInfo::exists(databasePath)) {
        result.error = QStringLiteral("%1 exists already; an import never overwrites a file.")
                           .arg(QDir::toNativeSeparators(databasePath));
        return result;
    }
    const QString connection
        = QStringLiteral("ccs-history-import-%1").arg(QUuid::createUuid().toString(QUuid::Id128));
    QSqlDatabase db;
    const OpenResult opened = openDatabase(databasePath, connection, false, &db);
    if (!opened.ok()) {
        result.error = opened.error;
        return result;
    }
    {
        QSqlQuery query(db);
        bool ok = db.transaction();
        QSqlQuery session(db);
        session.prepare(
            QStringLiteral("INSERT OR IGNORE INTO session (id, started_ms, program) VALUES (?, ?, 'imported')"));
        // First every line is read and checked, in file order (so a repeated message is
        // reported where it repeats); then the good ones are inserted from the last line to
        // the first: an export is newest first, and rows keep their order this way, also
        // among messages of the same millisecond.
        struct Good {
            qint64 line;
            QJsonObject object;
        };
        QVector<Good> good;
        QSet<QString> seen;
        qint64 number = 0;
        while (!in->atEnd()) {
            const QByteArray line = in->readLine().trimmed();
            ++number;
            if (line.isEmpty())
                continue;
            QJsonParseError parseError;
            const QJsonDocument doc = QJsonDocument::fromJson(line, &parseError);
            if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
                result.problems.append({number,
                    doc.isNull() ? QStringLiteral("not JSON (%1 at character %2)")
                                       .arg(parseError.errorString())
                                       .arg(parseError.offset + 1)
                                 : QStringLiteral("not a JSON object")});
                continue;
            }
            const QJsonObject o = doc.object();
            const QString why = checkLine(o);
            if (!why.isEmpty()) {
                result.problems.append({number, why});
                continue;
            }
            // The identity the tables keep unique.
            const QString kind = o.value(QLatin1String("kind")).toString();
            const QString key = kind + QLatin1Char('\n') + o.value(QLatin1String("message_id")).toString()
                + QLatin1Char('\n') + QString::number(o.value(QLatin1String("session")).toInteger())
                + (kind == QLatin1String("upstream") ? QLatin1Char('\n') + o.value(QLatin1String("token")).toString()
                                                     : QString());
            if (seen.contains(key)) {
                result.problems.append({number,
                    QStringLiteral("the same message as an earlier line (message_id \"%1\", session %2)")
                        .arg(o.value(QLatin1String("message_id")).toString())
                        .arg(o.value(QLatin1String("session")).toInteger())});
                continue;
            }
            seen.insert(key);
            good.append({number, o});
        }
        for (qsizetype i = good.size() - 1; ok && i >= 0; --i) {
            const QJsonObject &o = good.at(i).object;
            QString why;
            session.bindValue(0, o.value(QLatin1String("session")).toInteger());
            session.bindValue(1, o.value(QLatin1String("at_ms")).toInteger());
            if (session.exec() && insertRow(query, o, &why)) {
                ++result.imported;
                continue;
            }
            if (why.isEmpty())
                why = session.lastError().text();
            result.problems.append({good.at(i).line, why});
        }
        QString indexError;
        if (ok && !indexRowsAfter(db, {}, &indexError))
            ok = false;
        std::sort(result.problems.begin(), result.problems.end(),
            [](const ImportProblem &a, const ImportProblem &b) { return a.line < b.line; });
        query.prepare(QStringLiteral("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)"));
        for (const auto &[key, value] :
            {std::pair {QString::fromLatin1(kImportedFromSetting), sourceName},
                std::pair {QString::fromLatin1(kImportedAtSetting),
                    QDateTime::currentDateTimeUtc().toString(Qt::ISODate)}}) {
            query.bindValue(0, key);
            query.bindValue(1, value);
            ok = ok && query.exec();
        }
        if (!ok || !db.commit()) {
            result.error = QStringLiteral("The imported history %1 cannot be written (%2).")
                               .arg(QDir::toNativeSeparators(databasePath),
                                   !indexError.isEmpty()          ? indexError
                                       : query.lastError().isValid() ? query.lastError().text()
                                                                     : db.lastError().text());
            db.rollback();
        }
    }
    db = QSqlDatabase();
    closeDatabase(connection);
    if (!result.ok()) {
        // Made by this import and nothing else: no half-made history is left behind.
        for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")})
            QFile::remove(databasePath + suffix);
        result.imported = 0;
    }
    return result;
}

QString importedDirectory()
{
    return historyDirectory() + QStringLiteral("/imported");
}

QString newImportPath(const QString &sourceFile, const QString &directory)
{
    const QString dir = directory.isEmpty() ? importedDirectory() : directory;
    QString base = QFileInfo(sourceFile).completeBaseName();
    if (base.isEmpty())
        base = QStringLiteral("import");
    const QString stem = dir + QLatin1Char('/') + fileNameForProfile(base).chopped(7) + QLatin1Char('-')
        + QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    QString path = stem + QStringLiteral(".sqlite");
    for (int n = 2; QFileInfo::exists(path); ++n)
        path = stem + QStringLiteral("-%1.sqlite").arg(n);
    return path;
}

} // namespace ccs::history
