#pragma once

#include "HistoryDatabase.h"

#include <QJsonObject>
#include <QString>
#include <QVector>

#include <optional>

namespace ccs::history {

enum class RowKind { Receipt = 0, Upstream = 1, Downstream = 2 };
QString rowKindName(RowKind kind); // "downstream", "upstream", "receipt"

// One message found in the history, whatever its direction.
struct HistoryRow {
    RowKind kind = RowKind::Downstream;
    qint64 rowId = 0;
    qint64 sessionId = 0;
    qint64 atMs = 0; // queued (downstream) or received (upstream, receipt)
    QString messageId; // a receipt's own dr2: id
    QString token; // downstream: to; upstream: from; receipt: the device
    QString state; // downstream: its state; upstream: "Received"; receipt: its message_status
    QString nackCode;
    QString errorDescription;
    int connection = 0;
    int attempts = 0;
    int retries = 0;
    int timesSeen = 1;
    qint64 ackedMs = 0, deliveredMs = 0;
    QString originalMessageId; // receipts
    QString json; // downstream: the request as sent; upstream and receipt: the message
    QString historyJson; // downstream: its state history
    QJsonObject toJson() const; // one JSON Lines record
};

// Where the next page starts: after the last row of the previous one.
struct HistoryCursor {
    qint64 atMs = 0;
    RowKind kind = RowKind::Downstream;
    qint64 rowId = 0;
};

struct HistoryQuery {
    bool downstream = true, upstream = true, receipts = true;
    QString token; // to (downstream), from (upstream), the device (receipt)
    QString messageId; // also a receipt's original message id
    QString text; // words inside data / notification (full-text, all words must occur)
    QString state; // downstream state (Acked, Nacked...)
    QString nackCode;
    std::optional<qint64> sinceMs, untilMs; // inclusive, exclusive
    std::optional<int> connection;
    int limit = 100;
    std::optional<HistoryCursor> after; // keyset paging, newest first
};

struct HistoryStats {
    qint64 downstream = 0, upstream = 0, receipts = 0, connectionEvents = 0, sessions = 0;
    qint64 fileBytes = 0; // the database with its WAL
};

// Reads and maintains one profile's history (its own connection, on the thread
// that opened it). Writing new traffic is HistoryWriter's job; the two share the
// file through WAL.
class HistoryStore
{
public:
    HistoryStore();
    ~HistoryStore();
    HistoryStore(const HistoryStore &) = delete;
    HistoryStore &operator=(const HistoryStore &) = delete;

    OpenResult open(const QString &path, bool readOnly = false);
    void close();
    bool isOpen() const { return !m_connectionName.isEmpty(); }
    QString path() const { return m_path; }
    QString lastError() const { return m_lastError; }

    // Newest first; at most query.limit rows; false and lastError() on a bad query or I/O error.
    bool search(const HistoryQuery &query, QVector<HistoryRow> *rows);
    static HistoryCursor cursorAfter(const HistoryRow &row) { return {row.atMs, row.kind, row.rowId}; }

    HistoryStats stats();
    // Retention: drop messages older than maxAgeDays (0: keep) and beyond the newest maxMessages
    // downstream/upstream messages each (0: keep). Returns rows removed, -1 on error.
    qint64 applyRetention(int maxAgeDays, qint64 maxMessages);
    // Empties the history (the file stays, smaller after VACUUM).
    bool deleteAll();
    // PRAGMA integrity_check: "ok" for a sound file.
    QString integrityCheck();
    // Small per-profile settings kept in the database itself (retention).
    QString setting(const QString &key) const;
    bool setSetting(const QString &key, const QString &value);

private:
    bool searchKind(RowKind kind, const HistoryQuery &query, QVector<HistoryRow> *rows);

    QString m_connectionName;
    QString m_path;
    QString m_lastError;
};

// "hello world" -> "\"hello\" \"world\"": every word must occur, none is FTS5 syntax.
QString ftsQueryForWords(const QString &text);

} // namespace ccs::history
