#include "HistoryStore.h"

#include "HistorySql_p.h"
#include "client/SessionTypes.h"

#include <QDateTime>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

#include <algorithm>

namespace ccs::history {

namespace {

QJsonValue parsed(const QString &json)
{
    if (json.isEmpty())
        return QJsonValue::Null;
    const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8());
    if (doc.isObject())
        return doc.object();
    if (doc.isArray())
        return doc.array();
    return json;
}

} // namespace

QString rowKindName(RowKind kind)
{
    switch (kind) {
    case RowKind::Downstream:
        return QStringLiteral("downstream");
    case RowKind::Upstream:
        return QStringLiteral("upstream");
    case RowKind::Receipt:
        return QStringLiteral("receipt");
    }
    return {};
}

QJsonObject HistoryRow::toJson() const
{
    QJsonObject o {{QStringLiteral("kind"), rowKindName(kind)}, {QStringLiteral("at_ms"), atMs},
        {QStringLiteral("at"), QDateTime::fromMSecsSinceEpoch(atMs, Qt::UTC).toString(Qt::ISODateWithMs)},
        {QStringLiteral("message_id"), messageId}, {QStringLiteral("token"), token},
        {QStringLiteral("state"), state}, {QStringLiteral("connection"), connection},
        {QStringLiteral("session"), sessionId}};
    if (kind == RowKind::Downstream) {
        o.insert(QStringLiteral("request"), parsed(json));
        o.insert(QStringLiteral("history"), parsed(historyJson));
        o.insert(QStringLiteral("attempts"), attempts);
        o.insert(QStringLiteral("retries"), retries);
        o.insert(QStringLiteral("nack"), nackCode.isEmpty() ? QJsonValue() : QJsonValue(nackCode));
        if (!errorDescription.isEmpty())
            o.insert(QStringLiteral("error_description"), errorDescription);
        if (ackedMs)
            o.insert(QStringLiteral("acked_ms"), ackedMs);
        if (deliveredMs)
            o.insert(QStringLiteral("delivered_ms"), deliveredMs);
    } else {
        o.insert(QStringLiteral("message"), parsed(json));
        o.insert(QStringLiteral("times_seen"), timesSeen);
        if (kind == RowKind::Receipt)
            o.insert(QStringLiteral("original_message_id"), originalMessageId);
    }
    return o;
}

QString ftsQueryForWords(const QString &text)
{
    // The same splitting as FTS5's unicode61 tokenizer: letters and digits make words.
    static const QRegularExpression separators(QStringLiteral("[^\\p{L}\\p{N}]+"));
    QStringList words;
    for (const QString &word : text.split(separators, Qt::SkipEmptyParts))
        words << QLatin1Char('"') + word + QLatin1Char('"');
    return words.join(QLatin1Char(' '));
}

HistoryStore::HistoryStore() = default;

HistoryStore::~HistoryStore()
{
    close();
}

OpenResult HistoryStore::open(const QString &path, bool readOnly)
{
    close();
    m_connectionName = QStringLiteral("ccs-history-store-%1").arg(QUuid::createUuid().toString(QUuid::Id128));
    QSqlDatabase db;
    const OpenResult result = openDatabase(path, m_connectionName, readOnly, &db);
    if (!result.ok()) {
        m_connectionName.clear();
        m_lastError = result.error;
        return result;
    }
    m_path = path;
    return result;
}

void HistoryStore::close()
{
    if (m_connectionName.isEmpty())
        return;
    closeDatabase(m_connectionName);
    m_connectionName.clear();
}

bool HistoryStore::searchKind(RowKind kind, const HistoryQuery &q, QVector<HistoryRow> *rows)
{
    QString table, time, token, columns;
    switch (kind) {
    case RowKind::Downstream:
        table = QStringLiteral("downstream");
        time = QStringLiteral("queued_ms");
        token = QStringLiteral("to_token");
        columns
            = QStringLiteral("id, session_id, queued_ms, message_id, to_token, state, nack_code,"
                             " error_description, connection, attempts, retries, 1, acked_ms, delivered_ms,"
                             " NULL, request, history");
        break;
    case RowKind::Upstream:
        table = QStringLiteral("upstream");
        time = QStringLiteral("received_ms");
        token = QStringLiteral("from_token");
        columns
            = QStringLiteral("id, session_id, received_ms, message_id, from_token, 'Received', NULL, NULL,"
                             " connection, 0, 0, times_seen, ack_sent_ms, NULL, NULL, message, NULL");
        break;
    case RowKind::Receipt:
        table = QStringLiteral("receipt");
        time = QStringLiteral("received_ms");
        token = QStringLiteral("device_token");
        columns = QStringLiteral("id, session_id, received_ms, receipt_id, device_token, status, NULL, NULL,"
                                 " connection, 0, 0, times_seen, ack_sent_ms, NULL, original_message_id,"
                                 " message, NULL");
        break;
    }
    QStringList where;
    QVariantList binds;
    if (!q.token.isEmpty()) {
        where << token + QStringLiteral(" = ?");
        binds << q.token;
    }
    if (!q.messageId.isEmpty()) {
        if (kind == RowKind::Receipt) {
            where << QStringLiteral("(receipt_id = ? OR original_message_id = ?)");
            binds << q.messageId << q.messageId;
        } else {
            where << QStringLiteral("message_id = ?");
            binds << q.messageId;
        }
    }
    if (!q.text.isEmpty()) {
        const QString match = ftsQueryForWords(q.text);
        if (kind == RowKind::Receipt || match.isEmpty())
            return true; // receipts carry no data
        where << QStringLiteral("id IN (SELECT rowid FROM %1_fts WHERE %1_fts MATCH ?)").arg(table);
        binds << match;
    }
    if (!q.state.isEmpty()) {
        if (kind == RowKind::Downstream) {
            // The stored spelling, so that the (state, queued_ms) index serves the search.
            QString canonical;
            for (int s = 0; s <= int(MessageState::Cancelled); ++s)
                if (stateName(MessageState(s)).compare(q.state, Qt::CaseInsensitive) == 0)
                    canonical = stateName(MessageState(s));
            if (canonical.isEmpty())
                return true;
            where << QStringLiteral("state = ?");
            binds << canonical;
        } else if (kind == RowKind::Receipt) {
            where << QStringLiteral("status = ? COLLATE NOCASE");
        } else {
            if (q.state.compare(QLatin1String("Received"), Qt::CaseInsensitive) != 0)
                return true;
        }
        if (kind == RowKind::Receipt)
            binds << q.state;
    }
    if (!q.nackCode.isEmpty()) {
        if (kind != RowKind::Downstream)
            return true;
        where << QStringLiteral("nack_code = ?");
        binds << q.nackCode;
    }
    if (q.sinceMs) {
        where << time + QStringLiteral(" >= ?");
        binds << *q.sinceMs;
    }
    if (q.untilMs) {
        where << time + QStringLiteral(" < ?");
        binds << *q.untilMs;
    }
    if (q.connection) {
        where << QStringLiteral("connection = ?");
        binds << *q.connection;
    }
    if (q.after) {
        const HistoryCursor &c = *q.after;
        // Rows sort by (time, kind, id), newest first; the page starts after the cursor.
        if (int(kind) < int(c.kind)) {
            where << time + QStringLiteral(" <= ?");
            binds << c.atMs;
        } else if (kind == c.kind) {
            where << QStringLiteral("(%1 < ? OR (%1 = ? AND id < ?))").arg(time);
            binds << c.atMs << c.atMs << c.rowId;
        } else {
            where << time + QStringLiteral(" < ?");
            binds << c.atMs;
        }
    }
    QString sql = QStringLiteral("SELECT %1 FROM %2").arg(columns, table);
    if (!where.isEmpty())
        sql += QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
    sql += QStringLiteral(" ORDER BY %1 DESC, id DESC LIMIT %2").arg(time).arg(std::max(1, q.limit));
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery query(db);
    query.setForwardOnly(true);
    if (!query.prepare(sql)) {
        m_lastError = query.lastError().text();
        return false;
    }
    for (int i = 0; i < binds.size(); ++i)
        query.bindValue(i, binds.at(i));
    if (!query.exec()) {
        m_lastError = query.lastError().text();
        return false;
    }
    while (query.next()) {
        HistoryRow row;
        row.kind = kind;
        row.rowId = query.value(0).toLongLong();
        row.sessionId = query.value(1).toLongLong();
        row.atMs = query.value(2).toLongLong();
        row.messageId = query.value(3).toString();
        row.token = query.value(4).toString();
        row.state = query.value(5).toString();
        row.nackCode = query.value(6).toString();
        row.errorDescription = query.value(7).toString();
        row.connection = query.value(8).toInt();
        row.attempts = query.value(9).toInt();
        row.retries = query.value(10).toInt();
        row.timesSeen = query.value(11).toInt();
        row.ackedMs = query.value(12).toLongLong();
        row.deliveredMs = query.value(13).toLongLong();
        row.originalMessageId = query.value(14).toString();
        row.json = query.value(15).toString();
        row.historyJson = query.value(16).toString();
        rows->append(std::move(row));
    }
    return true;
}

bool HistoryStore::search(const HistoryQuery &query, QVector<HistoryRow> *rows)
{
    rows->clear();
    if (!isOpen()) {
        m_lastError = QStringLiteral("The history is not open.");
        return false;
    }
    // Each table gives its newest `limit` rows; the merge keeps the newest `limit` of them all.
    const bool ok = (!query.downstream || searchKind(RowKind::Downstream, query, rows))
        && (!query.upstream || searchKind(RowKind::Upstream, query, rows))
        && (!query.receipts || searchKind(RowKind::Receipt, query, rows));
    if (!ok)
        return false;
    std::sort(rows->begin(), rows->end(), [](const HistoryRow &a, const HistoryRow &b) {
        if (a.atMs != b.atMs)
            return a.atMs > b.atMs;
        if (a.kind != b.kind)
            return int(a.kind) > int(b.kind);
        return a.rowId > b.rowId;
    });
    if (rows->size() > query.limit)
        rows->resize(std::max(0, query.limit));
    return true;
}

HistoryStats HistoryStore::stats()
{
    HistoryStats stats;
    if (!isOpen())
        return stats;
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery query(db);
    auto count = [&](const char *table) -> qint64 {
        // max(id) - min(id) + 1 would be faster but wrong after retention; count(*) uses the smallest index.
        if (query.exec(QStringLiteral("SELECT count(*) FROM %1").arg(QLatin1String(table))) && query.next())
            return query.value(0).toLongLong();
        return 0;
    };
    stats.downstream = count("downstream");
    stats.upstream = count("upstream");
    stats.receipts = count("receipt");
    stats.connectionEvents = count("connection_event");
    stats.sessions = count("session");
    for (const QString &suffix : {QString(), QStringLiteral("-wal")}) {
        const QFileInfo info(m_path + suffix);
        if (info.exists())
            stats.fileBytes += info.size();
    }
    return stats;
}

qint64 HistoryStore::applyRetention(int maxAgeDays, qint64 maxMessages)
{
    if (!isOpen())
        return -1;
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery query(db);
    qint64 removed = 0;
    if (!db.transaction()) {
        m_lastError = db.lastError().text();
        return -1;
    }
    auto run = [&](const QString &sql, const QVariantList &binds) {
        query.prepare(sql);
        for (int i = 0; i < binds.size(); ++i)
            query.bindValue(i, binds.at(i));
        if (!query.exec()) {
            m_lastError = query.lastError().text();
            return false;
        }
        removed += query.numRowsAffected();
        return true;
    };
    bool ok = true;
    if (maxAgeDays > 0) {
        const qint64 cutoff = QDateTime::currentMSecsSinceEpoch() - qint64(maxAgeDays) * 24 * 3600 * 1000;
        ok = run(QStringLiteral("DELETE FROM downstream WHERE queued_ms < ?"), {cutoff})
            && run(QStringLiteral("DELETE FROM upstream WHERE received_ms < ?"), {cutoff})
            && run(QStringLiteral("DELETE FROM receipt WHERE received_ms < ?"), {cutoff})
            && run(QStringLiteral("DELETE FROM connection_event WHERE at_ms < ?"), {cutoff});
    }
    if (ok && maxMessages > 0) {
        ok = run(QStringLiteral("DELETE FROM downstream WHERE id IN (SELECT id FROM downstream"
                                " ORDER BY queued_ms DESC, id DESC LIMIT -1 OFFSET ?)"),
                 {maxMessages})
            && run(QStringLiteral("DELETE FROM upstream WHERE id IN (SELECT id FROM upstream"
                                  " ORDER BY received_ms DESC, id DESC LIMIT -1 OFFSET ?)"),
                {maxMessages})
            && run(QStringLiteral("DELETE FROM receipt WHERE id IN (SELECT id FROM receipt"
                                  " ORDER BY received_ms DESC, id DESC LIMIT -1 OFFSET ?)"),
                {maxMessages});
    }
    if (!ok || !db.commit()) {
        if (ok)
            m_lastError = db.lastError().text();
        db.rollback();
        return -1;
    }
    return removed;
}

bool HistoryStore::deleteAll()
{
    if (!isOpen())
        return false;
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery query(db);
    if (!db.transaction())
        return false;
    for (const char *table : {"downstream", "upstream", "receipt", "connection_event"}) {
        if (!query.exec(QStringLiteral("DELETE FROM %1").arg(QLatin1String(table)))) {
            m_lastError = query.lastError().text();
            db.rollback();
            return false;
        }
    }
    if (!db.commit()) {
        m_lastError = db.lastError().text();
        db.rollback();
        return false;
    }
    // Give the space back; fails harmlessly while a writer is busy.
    query.exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)"));
    query.exec(QStringLiteral("VACUUM"));
    return true;
}

} // namespace ccs::history

namespace ccs::history {

QString HistoryStore::integrityCheck()
{
    if (!isOpen())
        return m_lastError;
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    if (!query.exec(QStringLiteral("PRAGMA integrity_check")))
        return query.lastError().text();
    QStringList lines;
    while (query.next())
        lines << query.value(0).toString();
    return lines.join(QLatin1Char('\n'));
}

QString HistoryStore::setting(const QString &key) const
{
    if (!isOpen())
        return {};
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.prepare(QStringLiteral("SELECT value FROM setting WHERE key = ?"));
    query.addBindValue(key);
    if (query.exec() && query.next())
        return query.value(0).toString();
    return {};
}

bool HistoryStore::setSetting(const QString &key, const QString &value)
{
    if (!isOpen())
        return false;
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.prepare(QStringLiteral("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)"));
    query.addBindValue(key);
    query.addBindValue(value);
    if (!query.exec()) {
        m_lastError = query.lastError().text();
        return false;
    }
    return true;
}

} // namespace ccs::history
