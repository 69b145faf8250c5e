#include "CtlHistory.h"

#include "history/HistoryStore.h"
#include "history/HistoryTransfer.h"
#include "storage/ProfileStore.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QFileInfo>
#include <QJsonDocument>

#include <cstdio>

namespace ccs::ctl {

namespace {

void writeLine(FILE *stream, const QString &line)
{
    const QByteArray bytes = line.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
    std::fputc('\n', stream);
}

QString csvField(const QString &text)
{
    if (!text.contains(u',') && !text.contains(u'"') && !text.contains(u'\n') && !text.contains(u'\r'))
        return text;
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QString payloadOf(const history::HistoryRow &row)
{
    const QJsonObject object = QJsonDocument::fromJson(row.json.toUtf8()).object();
    QJsonObject payload;
    if (object.contains(QLatin1String("data")))
        payload.insert(QStringLiteral("data"), object.value(QLatin1String("data")));
    if (object.contains(QLatin1String("notification")))
        payload.insert(QStringLiteral("notification"), object.value(QLatin1String("notification")));
    return payload.isEmpty() ? QString()
                             : QString::fromUtf8(QJsonDocument(payload).toJson(QJsonDocument::Compact));
}

} // namespace

// history --import FILE [--file PATH]: a new history that is only read afterwards.
int runImport(const CtlOptions &options)
{
    QFile in(options.historyImport);
    if (!in.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "ccsctl: cannot read %s: %s\n", qPrintable(options.historyImport),
            qPrintable(in.errorString()));
        return ExitIncomplete;
    }
    const QString path = options.historyFile.isEmpty() ? history::newImportPath(options.historyImport)
                                                       : options.historyFile;
    const history::ImportResult result
        = history::importJsonLines(&in, QFileInfo(options.historyImport).fileName(), path);
    if (!result.ok()) {
        std::fprintf(stderr, "ccsctl: %s\n", qPrintable(result.error));
        return ExitIncomplete;
    }
    for (const history::ImportProblem &problem : result.problems)
        std::fprintf(stderr, "ccsctl: %s:%lld: not imported: %s\n", qPrintable(options.historyImport),
            problem.line, qPrintable(problem.reason));
    if (options.json) {
        QJsonArray problems;
        for (const history::ImportProblem &problem : result.problems)
            problems.append(QJsonObject {{QStringLiteral("line"), problem.line},
                {QStringLiteral("reason"), problem.reason}});
        writeLine(stdout,
            QString::fromUtf8(QJsonDocument(QJsonObject {{QStringLiteral("path"), path},
                                                {QStringLiteral("imported"), result.imported},
                                                {QStringLiteral("not_imported"), problems}})
                                  .toJson(QJsonDocument::Compact)));
    } else {
        writeLine(stdout, QDir::toNativeSeparators(path));
        std::fprintf(stderr, "%lld message(s) imported, %lld line(s) not; read it with: ccsctl history --file %s\n",
            result.imported, qint64(result.problems.size()), qPrintable(QDir::toNativeSeparators(path)));
    }
    std::fflush(stdout);
    return result.problems.isEmpty() && result.imported > 0 ? ExitOk : ExitIncomplete;
}

int runHistory(const CtlOptions &options)
{
    if (!options.historyImport.isEmpty())
        return runImport(options);
    QString path = options.historyFile;
    if (path.isEmpty()) {
        const QString profile = options.profile.isEmpty()
            ? QString::fromLatin1(storage::ProfileStore::kLocalEmulator)
            : options.profile;
        path = history::databasePathForProfile(profile);
        if (!QFileInfo::exists(path)) {
            std::fprintf(stderr, "ccsctl: no history for profile \"%s\" yet (%s)\n", qPrintable(profile),
                qPrintable(path));
            return ExitIncomplete;
        }
    }
    history::HistoryStore store;
    // Read-only: looking never changes the file, and works beside a running ccs-admin.
    const history::OpenResult opened = store.open(path, true);
    if (!opened.ok()) {
        std::fprintf(stderr, "ccsctl: %s\n", qPrintable(opened.error));
        return ExitIncomplete;
    }
    if (options.csv)
        writeLine(stdout,
            QStringLiteral(
                "kind,time,message_id,token,state,nack,connection,attempts,retries,times_seen,payload"));
    history::HistoryQuery query = options.historyQuery;
    constexpr qint64 kPage = 500;
    qint64 printed = 0;
    QVector<history::HistoryRow> rows;
    for (;;) {
        const qint64 left = options.historyLimit > 0 ? options.historyLimit - printed : kPage;
        if (left <= 0)
            break;
        query.limit = int(std::min(left, kPage));
        if (!store.search(query, &rows)) {
            std::fprintf(stderr, "ccsctl: the history search failed: %s\n", qPrintable(store.lastError()));
            return ExitIncomplete;
        }
        for (const history::HistoryRow &row : std::as_const(rows)) {
            const QString time
                = QDateTime::fromMSecsSinceEpoch(row.atMs, Qt::UTC).toString(Qt::ISODateWithMs);
            if (options.json) {
                // The format the window exports and --import reads back.
                writeLine(stdout, QString::fromUtf8(history::jsonLine(row)));
            } else if (options.csv) {
                writeLine(stdout,
                    QStringList {history::rowKindName(row.kind), time, csvField(row.messageId),
                        csvField(row.token), csvField(row.state), csvField(row.nackCode),
                        QString::number(row.connection), QString::number(row.attempts),
                        QString::number(row.retries), QString::number(row.timesSeen),
                        csvField(payloadOf(row))}
                        .join(u','));
            } else {
                const QString direction = row.kind == history::RowKind::Downstream ? QStringLiteral("to")
                                                                                   : QStringLiteral("from");
                QString line = QStringLiteral("%1  %2  %3  %4 %5  %6")
                                   .arg(time, history::rowKindName(row.kind).leftJustified(10), row.messageId,
                                       direction, row.token, row.state);
                if (!row.nackCode.isEmpty())
                    line += QStringLiteral(" (%1)").arg(row.nackCode);
                if (row.connection)
                    line += QStringLiteral("  connection %1").arg(row.connection);
                const QString payload = payloadOf(row);
                if (!payload.isEmpty())
                    line += QStringLiteral("  ") + payload;
                writeLine(stdout, line);
            }
        }
        printed += rows.size();
        if (rows.size() < query.limit)
            break;
        query.after = history::HistoryStore::cursorAfter(rows.last());
    }
    std::fflush(stdout);
    if (!options.json && !options.csv)
        std::fprintf(stderr, "%lld message(s)\n", printed);
    return ExitOk;
}

} // namespace ccs::ctl
