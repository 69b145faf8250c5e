#pragma once

#include "client/MessageLedger.h"
#include "protocol/Messages.h"

#include <QFile>
#include <QJsonObject>
#include <QSaveFile>
#include <QStringList>

#include <memory>

namespace ccs::storage {

enum class ExportFormat { JsonLines, Csv };

// .csv -> Csv, anything else (.jsonl, .ndjson, .json) -> JsonLines.
ExportFormat exportFormatForPath(const QString &path);

// One outbox row: the message as sent, its outcome and its state history.
QJsonObject ledgerEntryToJson(const LedgerEntry &entry);
// Column order for the outbox CSV (keys of ledgerEntryToJson).
QStringList ledgerCsvColumns();

// One inbox row.
QJsonObject upstreamToJson(
    const UpstreamMessage &message, qint64 receivedAtMs, qint64 ackedAtMs, int connectionId, int timesSeen);
QStringList upstreamCsvColumns();

// Writes rows to a file atomically (QSaveFile): the old file stays until
// commit() succeeds. JSON Lines writes each object on one line; CSV writes
// the header, then one line per object with `columns` in order (nested
// objects and arrays as compact JSON), quoted as RFC 4180 asks.
class HistoryWriter
{
public:
    HistoryWriter();
    ~HistoryWriter();

    bool open(
        const QString &path, ExportFormat format, const QStringList &csvColumns, QString *error = nullptr);
    void write(const QJsonObject &row);
    bool commit(QString *error = nullptr);
    int rowsWritten() const { return m_rows; }

    static QByteArray csvField(const QString &value);
    static QString cellText(const QJsonValue &value);

private:
    std::unique_ptr<QSaveFile> m_file;
    ExportFormat m_format = ExportFormat::JsonLines;
    QStringList m_columns;
    int m_rows = 0;
};

} // namespace ccs::storage
