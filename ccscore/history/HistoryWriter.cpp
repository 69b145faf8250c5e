#include "HistoryWriter.h"

#include "HistorySql.h"
#include "protocol/JsonCodec.h"
#include "protocol/NackCatalogue.h"

#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QTimer>
#include <QUuid>
#include <QVariant>

namespace ccs::history {

namespace {

QVariant nullable(qint64 ms)
{
    return ms > 0 ? QVariant(ms) : QVariant(QMetaType(QMetaType::LongLong));
}

QVariant nullableText(const QString &text)
{
    return text.isEmpty() ? QVariant(QMetaType(QMetaType::QString)) : QVariant(text);
}

QString compact(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

// What full-text search looks in: the data and the notification, as JSON text (the
// protocol's own serializer: this runs for every message).
QString downstreamPayload(const DownstreamMessage &message)
{
    QByteArray text;
    if (message.data)
        text += json::serialize(*message.data);
    if (message.notification) {
        if (!text.isEmpty())
            text += ' ';
        text += json::serialize(*message.notification);
    }
    return QString::fromUtf8(text);
}

// Written by hand: this runs for every message in every batch, and QJsonDocument costs
// several allocations per value. States are plain identifiers; details are escaped.
void appendJsonString(QString *out, const QString &text)
{
    out->append(QLatin1Char('"'));
    for (const QChar c : text) {
        switch (c.unicode()) {
        case '"':
            out->append(QLatin1String("\\\""));
            break;
        case '\\':
            out->append(QLatin1String("\\\\"));
            break;
        default:
            if (c.unicode() < 0x20)
                out->append(QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0')));
            else
                out->append(c);
        }
    }
    out->append(QLatin1Char('"'));
}

QString historyJson(const QVector<LedgerTransition> &history)
{
    QString out;
    out.reserve(48 * history.size() + 2);
    out.append(QLatin1Char('['));
    for (const LedgerTransition &t : history) {
        if (out.size() > 1)
            out.append(QLatin1Char(','));
        out.append(QLatin1String("{\"state\":\""));
        out.append(stateName(t.state));
        out.append(QLatin1String("\",\"at_ms\":"));
        out.append(QString::number(t.atMs));
        if (t.connectionId) {
            out.append(QLatin1String(",\"connection\":"));
            out.append(QString::number(t.connectionId));
        }
        if (!t.detail.isEmpty()) {
            out.append(QLatin1String(",\"detail\":"));
            appendJsonString(&out, t.detail);
        }
        out.append(QLatin1Char('}'));
    }
    out.append(QLatin1Char(']'));
    return out;
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
            closeDatabase(m_connectionName);
            return {OpenStatus::Unreadable,
                QStringLiteral("The history %1 cannot be written (%2).").arg(path, error)};
        }
        m_sessionId = insert.lastInsertId().toLongLong();
        *sessionId = m_sessionId;
        prepare();
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
    enum Statement {
        InsertDownstream,
        UpdateDownstream,
        InsertUpstream,
        InsertReceipt,
        DuplicateUpstream,
        DuplicateReceipt,
        InsertConnectionEvent,
        StatementCount
    };

    void prepare()
    {
        static const char *const sql[StatementCount] = {
            "INSERT INTO downstream (session_id, message_id, to_token, request, payload, state, history,"
            " attempts, retries, connection, nack_code, error_description, queued_ms, sent_ms, acked_ms,"
            " delivered_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (message_id, session_id) DO UPDATE SET state = excluded.state,"
            " history = excluded.history, attempts = excluded.attempts, retries = excluded.retries,"
            " connection = excluded.connection, nack_code = excluded.nack_code,"
            " error_description = excluded.error_description, sent_ms = excluded.sent_ms,"
            " acked_ms = excluded.acked_ms, delivered_ms = excluded.delivered_ms",
            "UPDATE downstream SET state = ?, history = ?, attempts = ?, retries = ?, connection = ?,"
            " nack_code = ?, error_description = ?, sent_ms = ?, acked_ms = ?, delivered_ms = ?"
            " WHERE session_id = ? AND message_id = ?",
            "INSERT INTO upstream (session_id, from_token, message_id, category, payload, message, "
            "connection,"
            " received_ms, ack_sent_ms) VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (message_id, from_token, session_id) DO UPDATE SET times_seen = times_seen + 1",
            "INSERT INTO receipt (session_id, receipt_id, original_message_id, device_token, status, "
            "category,"
            " message, connection, received_ms, ack_sent_ms) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (session_id, receipt_id) DO UPDATE SET times_seen = times_seen + 1",
            "UPDATE upstream SET times_seen = ? WHERE session_id = ? AND from_token = ? AND message_id = ?",
            "UPDATE receipt SET times_seen = ? WHERE session_id = ? AND receipt_id = ?",
            "INSERT INTO connection_event (session_id, at_ms, connection, state, error, detail)"
            " VALUES (?,?,?,?,?,?)",
        };
        m_statements.clear();
        for (int i = 0; i < StatementCount; ++i) {
            auto query = std::make_unique<QSqlQuery>(m_db);
            query->prepare(QString::fromLatin1(sql[i]));
            m_statements.push_back(std::move(query));
        }
    }

    bool run(Statement which, std::initializer_list<QVariant> values, QString *error)
    {
        QSqlQuery &query = *m_statements[which];
        int i = 0;
        for (const QVariant &value : values)
            query.bindValue(i++, value);
        if (!query.exec()) {
            *error = query.lastError().text();
            return false;
        }
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
        QHash<QString, Latest> latest;
        latest.reserve(batch.size());
        for (int i = 0; i < batch.size(); ++i) {
            if (const auto *d = std::get_if<DownstreamRecord>(&batch[i])) {
                Latest &l = latest[d->entry.message.messageId];
                l.index = i;
                l.added = l.added || d->added;
            }
        }
        if (!m_db.transaction()) {
            *error = m_db.lastError().text();
            return false;
        }
        RowIds before;
        bool ok = lastRowIds(m_db, &before, error);
        for (int i = 0; ok && i < batch.size(); ++i) {
            const HistoryRecord &record = batch[i];
            if (const auto *d = std::get_if<DownstreamRecord>(&record)) {
                Latest &l = latest[d->entry.message.messageId];
                if (l.written)
                    continue;
                l.written = true;
                const LedgerEntry &e = std::get<DownstreamRecord>(batch[l.index]).entry;
                const QVariant nack = e.nackText.isEmpty() && e.nackCode
                    ? QVariant(NackCatalogue::name(*e.nackCode))
                    : nullableText(e.nackText);
                if (l.added) {
                    ok = run(InsertDownstream,
                        {m_sessionId, e.message.messageId, e.message.to,
                            QString::fromUtf8(e.message.toJsonBytes()), downstreamPayload(e.message),
                            stateName(e.state), historyJson(e.history), e.attempts, e.retries, e.connectionId,
                            nack, nullableText(e.errorDescription),
                            e.queuedAtMs > 0 ? e.queuedAtMs : QDateTime::currentMSecsSinceEpoch(),
                            nullable(e.sentAtMs), nullable(e.ackedAtMs), nullable(e.deliveredAtMs)},
                        error);
                } else {
                    ok = run(UpdateDownstream,
                        {stateName(e.state), historyJson(e.history), e.attempts, e.retries, e.connectionId,
                            nack, nullableText(e.errorDescription), nullable(e.sentAtMs),
                            nullable(e.ackedAtMs), nullable(e.deliveredAtMs), m_sessionId,
                            e.message.messageId},
                        error);
                }
            } else if (const auto *u = std::get_if<UpstreamRecord>(&record)) {
                const UpstreamMessage &m = u->message;
                ok = run(InsertUpstream,
                    {m_sessionId, m.from, m.messageId, nullableText(m.category), compact(m.data),
                        compact(m.toJson()), u->connectionId, u->receivedMs, nullable(u->ackSentMs)},
                    error);
            } else if (const auto *r = std::get_if<ReceiptRecord>(&record)) {
                const Receipt &m = r->receipt;
                ok = run(InsertReceipt,
                    {m_sessionId, m.messageId, nullableText(m.originalMessageId),
                        nullableText(m.deviceRegistrationId), nullableText(m.messageStatus),
                        nullableText(m.category), compact(m.toJson()), r->connectionId, r->receivedMs,
                        r->receivedMs},
                    error);
            } else if (const auto *dup = std::get_if<DuplicateRecord>(&record)) {
                if (dup->messageId.startsWith(QLatin1String("dr2:")))
                    ok = run(DuplicateReceipt, {dup->timesSeen, m_sessionId, dup->messageId}, error);
                else
                    ok = run(
                        DuplicateUpstream, {dup->timesSeen, m_sessionId, dup->from, dup->messageId}, error);
            } else if (const auto *c = std::get_if<ConnectionEventRecord>(&record)) {
                ok = run(InsertConnectionEvent,
                    {m_sessionId, c->atMs, c->connectionId, c->state, nullableText(c->error),
                        nullableText(c->detail)},
                    error);
            }
        }
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
    std::vector<std::unique_ptr<QSqlQuery>> m_statements;
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
