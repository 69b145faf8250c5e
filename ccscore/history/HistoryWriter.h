#pragma once

#include "HistoryDatabase.h"
#include "client/MessageLedger.h"
#include "client/SessionTypes.h"

#include <QMutex>
#include <QObject>
#include <QString>
#include <QVector>

#include <atomic>
#include <memory>
#include <variant>

class QThread;

namespace ccs::history {

// What the writer is handed. Fields are implicitly shared Qt values, so a record
// costs reference counts, not copies of payloads.
struct DownstreamRecord {
    LedgerEntry entry; // the ledger's entry as it is now (the latest one in a batch wins)
    bool added = false; // new in the ledger: inserted with its request
};
struct UpstreamRecord {
    UpstreamMessage message;
    int connectionId = 0;
    qint64 receivedMs = 0;
    qint64 ackSentMs = 0;
};
struct ReceiptRecord {
    Receipt receipt;
    int connectionId = 0;
    qint64 receivedMs = 0;
};
struct DuplicateRecord {
    QString from;
    QString messageId; // a receipt's dr2: id, or an upstream message's id from `from`
    int timesSeen = 0;
};
struct ConnectionEventRecord {
    qint64 atMs = 0;
    int connectionId = 0;
    QString state;
    QString error;
    QString detail;
};
using HistoryRecord
    = std::variant<DownstreamRecord, UpstreamRecord, ReceiptRecord, DuplicateRecord, ConnectionEventRecord>;

struct SessionInfo {
    QString program; // "ccs-admin", "ccsctl"
    QString host;
    int port = 0;
    QString senderId; // never the API key
};

// Writes the history of one session into a profile's database on a thread of
// its own (with its own connection), in batched transactions: every
// flushIntervalMs, or at once when maxBatchRows records wait (a bound on memory;
// the interval decides at up to 200,000 records/s). A message that changes
// several times within a batch is written once. append() may be
// called from any thread and only takes a mutex for a vector push.
class HistoryWriter : public QObject
{
    Q_OBJECT
public:
    explicit HistoryWriter(QObject *parent = nullptr);
    ~HistoryWriter() override; // flushes what waits, then stops

    void setFlushInterval(int ms) { m_flushIntervalMs = ms; }
    void setMaxBatchRows(int rows) { m_maxBatchRows = rows; }

    // Opens (or creates) the database and starts a session row. Blocks until the file is open.
    OpenResult open(const QString &path, const SessionInfo &session);
    bool isOpen() const { return m_open; }
    QString path() const { return m_path; }
    qint64 sessionId() const { return m_sessionId; }

    void append(HistoryRecord record);
    // Writes what waits now and returns once it is committed (or failed).
    void flush();
    void close();

    // Records committed since open (a downstream message counts once per write).
    qint64 committedRecords() const { return m_committed.load(); }
    int pendingRecords() const;

Q_SIGNALS:
    // After each committed batch: how many records it held, and the total so far.
    void batchCommitted(int records, qint64 total);
    // A batch could not be written (disk full, I/O error). Its records stay queued
    // and are tried again; nothing committed before is touched.
    void writeFailed(const QString &message);
    void writeRecovered();

private:
    class Worker;
    friend class Worker;
    void requestFlush();

    mutable QMutex m_mutex;
    QVector<HistoryRecord> m_queue;
    std::atomic<bool> m_flushRequested {false};
    std::atomic<qint64> m_committed {0};
    QThread *m_thread = nullptr;
    Worker *m_worker = nullptr;
    QString m_path;
    qint64 m_sessionId = 0;
    bool m_open = false;
    int m_flushIntervalMs = 100;
    int m_maxBatchRows = 20000;
};

} // namespace ccs::history
