#include "HistoryWriter.h"

#include "HistorySql_p.h"
#include "protocol/JsonCodec.h"
#include "protocol/NackCatalogue.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QTimer>
#include <QUuid>
#include <QVariant>

#include <sqlite3.h>

#include <array>
#include <charconv>

namespace ccs::history {

namespace {

// Escapes what JSON needs escaped in a string; everything else, UTF-8 included, is copied.
void appendJsonString(QByteArray *out, const QString &text)
{
    const QByteArray utf8 = text.toUtf8();
    out->append('"');
    for (const char c : utf8) {
        switch (c) {
        case '"':
            out->append("\\\"");
            break;
        case '\\':
            out->append("\\\\");
            break;
        default:
            if (uchar(c) < 0x20)
                out->append(QByteArray("\\u00") + QByteArray::number(uchar(c), 16).rightJustified(2, '0'));
            else
                out->append(c);
        }
    }
    out->append('"');
}

// A number as text, without the allocation of QByteArray::number.
void appendNumber(QByteArray *out, qint64 value)
{
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out->append(digits, end - digits);
}

// The state history as JSON, written by hand: this runs for every message in every
// batch, and QJsonDocument costs several allocations per value.
QByteArray historyJson(const QVector<LedgerTransition> &history)
{
    static const auto names = [] {
        std::array<QByteArray, int(MessageState::Cancelled) + 1> all;
        for (size_t i = 0; i < all.size(); ++i)
            all[i] = stateName(MessageState(i)).toLatin1();
        return all;
    }();
    QByteArray out;
    out.reserve(64 * history.size() + 2);
    out.append('[');
    for (const LedgerTransition &t : history) {
        if (out.size() > 1)
            out.append(',');
        out.append("{\"state\":\"");
        out.append(names.at(size_t(t.state)));
        out.append("\",\"at_ms\":");
        appendNumber(&out, t.atMs);
        if (t.connectionId) {
            out.append(",\"connection\":");
            appendNumber(&out, t.connectionId);
        }
        if (!t.detail.isEmpty()) {
            out.append(",\"detail\":");
            appendJsonString(&out, t.detail);
        }
        out.append('}');
    }
    out.append(']');
    return out;
}

QByteArray compact(const QJsonObject &object)
{
    return json::serialize(object);
}

// One prepared statement of the writer, on the connection's own sqlite3 handle: values
// are bound in order as they are (UTF-8 bytes, UTF-16 strings, integers), without the
// QVariant, the placeholder name and the copy Qt SQL makes of each. Every value bound
// must stay alive until step().
class Statement
{
public:
    Statement() = default;
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;
    ~Statement() { sqlite3_finalize(m_stmt); }

    bool prepare(sqlite3 *db, const QByteArray &sql)
    {
        m_db = db;
        return sqlite3_prepare_v3(db, sql.constData(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr)
            == SQLITE_OK;
    }
    Statement &integer(qint64 value)
    {
        sqlite3_bind_int64(m_stmt, ++m_next, value);
        return *this;
    }
    Statement &time(qint64 ms) // a time that is not there yet is NULL
    {
        return ms > 0 ? integer(ms) : null();
    }
    Statement &null()
    {
        sqlite3_bind_null(m_stmt, ++m_next);
        return *this;
    }
    Statement &text(const QString &value)
    {
        // constData(), not utf16(): the latter copies a string literal to end it with a 0.
        sqlite3_bind_text16(m_stmt, ++m_next, value.constData(), int(value.size() * 2), SQLITE_STATIC);
        return *this;
    }
    Statement &text(const QByteArray &utf8)
    {
        sqlite3_bind_text(m_stmt, ++m_next, utf8.constData(), int(utf8.size()), SQLITE_STATIC);
        return *this;
    }
    Statement &textOrNull(const QString &value) { return value.isEmpty() ? null() : text(value); }
    // Rows the last run() inserted, updated or deleted.
    int changes() const { return sqlite3_changes(m_db); }
    // Runs it once every value is bound; the bindings are cleared for the next row.
    bool run(QString *error)
    {
        const int rc = sqlite3_step(m_stmt);
        sqlite3_reset(m_stmt);
        m_next = 0;
        if (rc != SQLITE_DONE) {
            *error = QString::fromUtf8(sqlite3_errmsg(m_db));
            return false;
        }
        return true;
    }

private:
    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_stmt = nullptr;
    int m_next = 0;
};

// The connection's own handle: Qt's QSQLITE driver hands it out as "sqlite3*". It is used
// only when the driver runs the SQLite this program is linked with (the same source id;
// on Linux, Windows with vcpkg and macOS with Homebrew, Qt's driver uses the shared library).
sqlite3 *sqliteHandle(const QSqlDatabase &db, QString *error)
{
    const QVariant handle = db.driver()->handle();
    if (!handle.isValid() || qstrcmp(handle.typeName(), "sqlite3*") != 0) {
        *error = QStringLiteral("the Qt SQL driver gives no SQLite handle");
        return nullptr;
    }
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral("SELECT sqlite_source_id()")) || !query.next()
        || query.value(0).toString() != QLatin1String(sqlite3_sourceid())) {
        *error = QStringLiteral("Qt's SQLite driver uses SQLite %1, this program was built with %2")
                     .arg(query.value(0).toString(), QLatin1String(sqlite3_sourceid()));
        return nullptr;
    }
    return *static_cast<sqlite3 *const *>(handle.constData());
}

} // namespace

class HistoryWriter::Worker : public QObject
{
public:
    explicit Worker(HistoryWriter *owner)
        : m_owner(owner)
    { }

    OpenResult open(const QString &path, const SessionInfo &session, qint64 *sessionId)
    {
        m_connectionName
            = QStringLiteral("ccs-history-writer-%1").arg(QUuid::createUuid().toString(QUuid::Id128));
        const OpenResult result = openDatabase(path, m_connectionName, false, &m_db);
        if (!result.ok())
            return result;
        QString why;
        m_sqlite = sqliteHandle(m_db, &why);
        if (!m_sqlite || !prepare(&why)) {
            m_statements.clear();
            m_db = QSqlDatabase();
            closeDatabase(m_connectionName);
            return {OpenStatus::Unreadable,
                QStringLiteral("The history %1 cannot be written (%2).").arg(path, why)};
        }
        QSqlQuery insert(m_db);
        insert.prepare(QStringLiteral("INSERT INTO session (started_ms, program, host, port, sender_id) "
                                      "VALUES (?, ?, ?, ?, ?)"));
        insert.addBindValue(QDateTime::currentMSecsSinceEpoch());
        insert.addBindValue(session.program);
        insert.addBindValue(session.host);
        insert.addBindValue(session.port);
        insert.addBindValue(session.senderId);
        if (!insert.exec()) {
            const QString error = insert.lastError().text();
            insert.finish();
            m_statements.clear();
            m_db = QSqlDatabase();
            closeDatabase(m_connectionName);
            return {OpenStatus::Unreadable,
                QStringLiteral("The history %1 cannot be written (%2).").arg(path, error)};
        }
        m_sessionId = insert.lastInsertId().toLongLong();
        *sessionId = m_sessionId;
        m_timer = new QTimer(this);
        m_timer->setInterval(m_owner->m_flushIntervalMs);
        QObject::connect(m_timer, &QTimer::timeout, this, [this] { flush(); });
        m_timer->start();
        return {};
    }

    void close()
    {
        if (m_timer)
            m_timer->stop();
        flush();
        m_statements.clear();
        if (!m_connectionName.isEmpty()) {
            m_db = QSqlDatabase();
            closeDatabase(m_connectionName);
            m_connectionName.clear();
        }
    }

    void flush()
    {
        m_owner->m_flushRequested = false;
        QVector<HistoryRecord> batch;
        {
            QMutexLocker lock(&m_owner->m_mutex);
            batch.swap(m_owner->m_queue);
        }
        if (!m_retry.isEmpty()) {
            m_retry.append(batch);
            batch.swap(m_retry);
            m_retry.clear();
        }
        if (batch.isEmpty() || !m_db.isOpen())
            return;
        QString error;
        if (!write(batch, &error)) {
            // Kept for the next try, up to a bound, so a full disk does not eat the memory.
            constexpr int kMaxRetained = 500000;
            if (batch.size() > kMaxRetained)
                batch.remove(0, batch.size() - kMaxRetained);
            m_retry = std::move(batch);
            if (!m_failing) {
                m_failing = true;
                Q_EMIT m_owner->writeFailed(error);
            }
            return;
        }
        if (m_failing) {
            m_failing = false;
            Q_EMIT m_owner->writeRecovered();
        }
        const qint64 total = m_owner->m_committed.fetch_add(batch.size()) + batch.size();
        Q_EMIT m_owner->batchCommitted(int(batch.size()), total);
    }

private:
    enum Which {
        InsertDownstream,
        InsertDownstreamRows, // kRowsPerInsert new rows in one statement (see insertDownstream)
        UpdateDownstream,
        InsertUpstream,
        InsertReceipt,
        DuplicateUpstream,
        DuplicateReceipt,
        InsertConnectionEvent,
        StatementCount
    };
    // New downstream messages go in by statements of this many rows: one step of SQLite's
    // program per 64 rows instead of per row.
    static constexpr int kRowsPerInsert = 64;

    bool prepare(QString *error)
    {
        static const char *const kDownstreamColumns
            = "INSERT INTO downstream (session_id, message_id, to_token, request, payload, state, history,"
              " attempts, retries, connection, nack_code, error_description, queued_ms, sent_ms, acked_ms,"
              " delivered_ms) VALUES ";
        static const char *const kDownstreamRow = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
        // A message id seen again in the session (the ledger was cleared and the id used
        // again) keeps one row, with its latest state.
        static const char *const kDownstreamUpsert
            = " ON CONFLICT (message_id, session_id) DO UPDATE SET state = excluded.state,"
              " history = excluded.history, attempts = excluded.attempts, retries = excluded.retries,"
              " connection = excluded.connection, nack_code = excluded.nack_code,"
              " error_description = excluded.error_description, sent_ms = excluded.sent_ms,"
              " acked_ms = excluded.acked_ms, delivered_ms = excluded.delivered_ms";
        QByteArray rows = kDownstreamRow;
        for (int i = 1; i < kRowsPerInsert; ++i)
            rows += QByteArray(",") + kDownstreamRow;
        const QByteArray sql[StatementCount] = {
            QByteArray(kDownstreamColumns) + kDownstreamRow + kDownstreamUpsert,
            // OR IGNORE and no upsert: a row that conflicts is left out instead of ending the
            // statement, so SQLite keeps no statement journal (a copy of every page the
            // statement touches) for it.
            QByteArray(kDownstreamColumns).replace("INSERT INTO", "INSERT OR IGNORE INTO") + rows,
            "UPDATE downstream SET state = ?, history = ?, attempts = ?, retries = ?, connection = ?,"
            " nack_code = ?, error_description = ?, sent_ms = ?, acked_ms = ?, delivered_ms = ?"
            " WHERE session_id = ? AND message_id = ?",
            "INSERT INTO upstream (session_id, from_token, message_id, category, payload, message, "
            "connection, received_ms, ack_sent_ms) VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (message_id, from_token, session_id) DO UPDATE SET times_seen = times_seen + 1",
            "INSERT INTO receipt (session_id, receipt_id, original_message_id, device_token, status, "
            "category, message, connection, received_ms, ack_sent_ms) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (session_id, receipt_id) DO UPDATE SET times_seen = times_seen + 1",
            "UPDATE upstream SET times_seen = ? WHERE session_id = ? AND from_token = ? AND message_id = ?",
            "UPDATE receipt SET times_seen = ? WHERE session_id = ? AND receipt_id = ?",
            "INSERT INTO connection_event (session_id, at_ms, connection, state, error, detail)"
            " VALUES (?,?,?,?,?,?)",
        };
        m_statements.clear();
        for (int i = 0; i < StatementCount; ++i) {
            m_statements.push_back(std::make_unique<Statement>());
            if (!m_statements.back()->prepare(m_sqlite, sql[i])) {
                *error = QString::fromUtf8(sqlite3_errmsg(m_sqlite));
                return false;
            }
        }
        return true;
    }

    Statement &statement(Which which) { return *m_statements[which]; }

    // A downstream message as it is written: the values that do not live in the batch's
    // records are made here and kept until the statement has run.
    struct DownstreamRow {
        const LedgerEntry *entry = nullptr;
        QByteArray request, payload, history;
        QString state, nack;
    };

    static DownstreamRow downstreamRow(const LedgerEntry &e, bool added)
    {
        DownstreamRow row;
        row.entry = &e;
        if (added)
            row.request = json::serializeDownstream(e.message, &row.payload);
        row.history = historyJson(e.history);
        row.state = stateName(e.state);
        row.nack = e.nackText.isEmpty() && e.nackCode ? NackCatalogue::name(*e.nackCode) : e.nackText;
        return row;
    }

    void bindInsert(Statement &s, const DownstreamRow &row) const
    {
        const LedgerEntry &e = *row.entry;
        s.integer(m_sessionId)
            .text(e.message.messageId)
            .text(e.message.to)
            .text(row.request)
            .text(row.payload)
            .text(row.state)
            .text(row.history)
            .integer(e.attempts)
            .integer(e.retries)
            .integer(e.connectionId)
            .textOrNull(row.nack)
            .textOrNull(e.errorDescription)
            .integer(e.queuedAtMs > 0 ? e.queuedAtMs : QDateTime::currentMSecsSinceEpoch())
            .time(e.sentAtMs)
            .time(e.ackedAtMs)
            .time(e.deliveredAtMs);
    }

    // Writes the new messages that wait in `rows`: whole statements of kRowsPerInsert, and
    // with `all`, the rest one by one.
    bool insertDownstream(std::vector<DownstreamRow> *rows, bool all, QString *error)
    {
        size_t done = 0;
        const auto oneByOne = [&](size_t from, size_t to) {
            for (size_t i = from; i < to; ++i) {
                bindInsert(statement(InsertDownstream), (*rows)[i]);
                if (!statement(InsertDownstream).run(error))
                    return false;
            }
            return true;
        };
        for (; rows->size() - done >= size_t(kRowsPerInsert); done += kRowsPerInsert) {
            Statement &s = statement(InsertDownstreamRows);
            for (int i = 0; i < kRowsPerInsert; ++i)
                bindInsert(s, (*rows)[done + i]);
            if (!s.run(error))
                return false;
            // A row was left out because its message id is in the session already: the
            // rows go again through the upsert, which writes the same values into the rows
            // just added and the latest state into the older one.
            if (s.changes() != kRowsPerInsert && !oneByOne(done, done + kRowsPerInsert))
                return false;
        }
        if (all && !oneByOne(done, rows->size()))
            return false;
        if (all)
            done = rows->size();
        rows->erase(rows->begin(), rows->begin() + qsizetype(done));
        return true;
    }

    bool write(const QVector<HistoryRecord> &batch, QString *error)
    {
        // Each downstream message in this batch is written once, with its latest state, at the
        // place of its first record (so rows keep the order in which messages were queued).
        struct Latest {
            int index = 0;
            bool added = false;
            bool written = false;
        };
        std::vector<Latest> latest; // by message, in the order of their first records
        std::vector<int> messageOf(size_t(batch.size()), -1); // record -> its message in `latest`
        {
            QHash<QString, int> byId;
            byId.reserve(batch.size());
            for (int i = 0; i < batch.size(); ++i) {
                if (const auto *d = std::get_if<DownstreamRecord>(&batch[i])) {
                    int &slot = byId[d->entry.message.messageId]; // 1 + its place in `latest`
                    if (!slot) {
                        latest.emplace_back();
                        slot = int(latest.size());
                    }
                    Latest &l = latest[size_t(slot - 1)];
                    l.index = i;
                    l.added = l.added || d->added;
                    messageOf[size_t(i)] = slot - 1;
                }
            }
        }
        if (!m_db.transaction()) {
            *error = m_db.lastError().text();
            return false;
        }
        RowIds before;
        bool ok = lastRowIds(m_db, &before, error);
        // New messages wait here for a whole multi-row statement. Nothing else in the batch
        // refers to them: a message's later records were merged into its row above.
        std::vector<DownstreamRow> inserts;
        inserts.reserve(kRowsPerInsert);
        for (int i = 0; ok && i < batch.size(); ++i) {
            const HistoryRecord &record = batch[i];
            if (std::holds_alternative<DownstreamRecord>(record)) {
                Latest &l = latest[size_t(messageOf[size_t(i)])];
                if (l.written)
                    continue;
                l.written = true;
                const LedgerEntry &e = std::get<DownstreamRecord>(batch[l.index]).entry;
                if (l.added) {
                    inserts.push_back(downstreamRow(e, true));
                    ok = insertDownstream(&inserts, false, error);
                    continue;
                }
                const DownstreamRow row = downstreamRow(e, false);
                ok = statement(UpdateDownstream)
                         .text(row.state)
                         .text(row.history)
                         .integer(e.attempts)
                         .integer(e.retries)
                         .integer(e.connectionId)
                         .textOrNull(row.nack)
                         .textOrNull(e.errorDescription)
                         .time(e.sentAtMs)
                         .time(e.ackedAtMs)
                         .time(e.deliveredAtMs)
                         .integer(m_sessionId)
                         .text(e.message.messageId)
                         .run(error);
            } else if (const auto *u = std::get_if<UpstreamRecord>(&record)) {
                const UpstreamMessage &m = u->message;
                ok = statement(InsertUpstream)
                         .integer(m_sessionId)
                         .text(m.from)
                         .text(m.messageId)
                         .textOrNull(m.category)
                         .text(compact(m.data))
                         .text(compact(m.toJson()))
                         .integer(u->connectionId)
                         .integer(u->receivedMs)
                         .time(u->ackSentMs)
                         .run(error);
            } else if (const auto *r = std::get_if<ReceiptRecord>(&record)) {
                const Receipt &m = r->receipt;
                ok = statement(InsertReceipt)
                         .integer(m_sessionId)
                         .text(m.messageId)
                         .textOrNull(m.originalMessageId)
                         .textOrNull(m.deviceRegistrationId)
                         .textOrNull(m.messageStatus)
                         .textOrNull(m.category)
                         .text(compact(m.toJson()))
                         .integer(r->connectionId)
                         .integer(r->receivedMs)
                         .integer(r->receivedMs)
                         .run(error);
            } else if (const auto *dup = std::get_if<DuplicateRecord>(&record)) {
                if (dup->messageId.startsWith(QLatin1String("dr2:")))
                    ok = statement(DuplicateReceipt)
                             .integer(dup->timesSeen)
                             .integer(m_sessionId)
                             .text(dup->messageId)
                             .run(error);
                else
                    ok = statement(DuplicateUpstream)
                             .integer(dup->timesSeen)
                             .integer(m_sessionId)
                             .text(dup->from)
                             .text(dup->messageId)
                             .run(error);
            } else if (const auto *c = std::get_if<ConnectionEventRecord>(&record)) {
                ok = statement(InsertConnectionEvent)
                         .integer(m_sessionId)
                         .integer(c->atMs)
                         .integer(c->connectionId)
                         .text(c->state)
                         .textOrNull(c->error)
                         .textOrNull(c->detail)
                         .run(error);
            }
        }
        ok = ok && insertDownstream(&inserts, true, error);
        // The rows this batch added, indexed for full-text search in one statement.
        ok = ok && indexRowsAfter(m_db, before, error);
        if (!ok || !m_db.commit()) {
            if (ok)
                *error = m_db.lastError().text();
            m_db.rollback();
            return false;
        }
        return true;
    }

    HistoryWriter *m_owner;
    QString m_connectionName;
    QSqlDatabase m_db;
    qint64 m_sessionId = 0;
    sqlite3 *m_sqlite = nullptr; // m_db's handle
    std::vector<std::unique_ptr<Statement>> m_statements;
    QTimer *m_timer = nullptr;
    QVector<HistoryRecord> m_retry;
    bool m_failing = false;
};

HistoryWriter::HistoryWriter(QObject *parent)
    : QObject(parent)
{ }

HistoryWriter::~HistoryWriter()
{
    close();
}

OpenResult HistoryWriter::open(const QString &path, const SessionInfo &session)
{
    close();
    m_path = path;
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("ccs-history-writer"));
    m_worker = new Worker(this);
    m_worker->moveToThread(m_thread);
    QObject::connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread->start();
    OpenResult result;
    qint64 sessionId = 0;
    QMetaObject::invokeMethod(
        m_worker, [&] { result = m_worker->open(path, session, &sessionId); }, Qt::BlockingQueuedConnection);
    if (!result.ok()) {
        m_thread->quit();
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
        m_worker = nullptr;
        return result;
    }
    m_sessionId = sessionId;
    m_open = true;
    return result;
}

void HistoryWriter::append(HistoryRecord record)
{
    int size = 0;
    {
        QMutexLocker lock(&m_mutex);
        m_queue.append(std::move(record));
        size = int(m_queue.size());
    }
    if (size >= m_maxBatchRows)
        requestFlush();
}

void HistoryWriter::requestFlush()
{
    if (!m_worker || m_flushRequested.exchange(true))
        return;
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker] { w->flush(); }, Qt::QueuedConnection);
}

void HistoryWriter::flush()
{
    if (!m_open)
        return;
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker] { w->flush(); }, Qt::BlockingQueuedConnection);
}

void HistoryWriter::close()
{
    if (!m_thread)
        return;
    if (m_open)
        QMetaObject::invokeMethod(
            m_worker, [w = m_worker] { w->close(); }, Qt::BlockingQueuedConnection);
    m_open = false;
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_worker = nullptr;
}

int HistoryWriter::pendingRecords() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_queue.size());
}

} // namespace ccs::history
