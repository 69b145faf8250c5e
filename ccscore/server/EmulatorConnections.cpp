#include "EmulatorConnections_p.h"

#include "protocol/JsonCodec.h"

namespace ccs::emulator {

StreamHandle::StreamHandle(
    EmulatorStream *stream, bool sameThread, std::shared_ptr<std::atomic<qint64>> unsent)
    : m_stream(stream)
    , m_sameThread(sameThread)
    , m_unsent(unsent ? std::move(unsent) : std::make_shared<std::atomic<qint64>>(0))
    , m_pending(sameThread ? nullptr : std::make_shared<Pending>())
{ }

void StreamHandle::run(Call call)
{
    if (!m_stream)
        return;
    if (m_sameThread) {
        call(m_stream);
        return;
    }
    bool first = false;
    {
        QMutexLocker lock(&m_pending->mutex);
        first = m_pending->calls.empty();
        m_pending->calls.push_back(std::move(call));
    }
    if (!first)
        return; // the hop queued for the first one takes this one too
    // Queued to the stream's thread, in the order of the calls; dropped if the
    // stream is gone by then.
    QMetaObject::invokeMethod(
        m_stream,
        [stream = m_stream, unsent = m_unsent, pending = m_pending] {
            std::vector<Call> calls;
            {
                QMutexLocker lock(&pending->mutex);
                calls.swap(pending->calls);
            }
            for (const Call &call : calls)
                call(stream);
            unsent->store(stream->unsentBytes(), std::memory_order_relaxed);
        },
        Qt::QueuedConnection);
}

bool StreamHandle::isOpen() const
{
    if (!m_stream)
        return false;
    return m_sameThread ? m_stream->isOpen() : m_open;
}

qint64 StreamHandle::unsentBytes() const
{
    if (!m_stream)
        return 0;
    return m_sameThread ? m_stream->unsentBytes() : m_unsent->load(std::memory_order_relaxed);
}

void StreamHandle::sendGcm(const QByteArray &json)
{
    run([json](EmulatorStream *s) { s->sendGcm(json); });
}

void StreamHandle::sendDrainingControl(const QByteArray &json)
{
    run([json](EmulatorStream *s) { s->sendDrainingControl(json); });
}

void StreamHandle::sendStanzaError(
    const QString &stanzaId, const QByteArray &originalJson, const QString &text)
{
    run([stanzaId, originalJson, text](
            EmulatorStream *s) { s->sendStanzaError(stanzaId, originalJson, text); });
}

void StreamHandle::sendStreamErrorAndClose(const QString &condition, const QString &text)
{
    m_open = false;
    run([condition, text](EmulatorStream *s) { s->sendStreamErrorAndClose(condition, text); });
}

void StreamHandle::closeStream()
{
    m_open = false;
    run([](EmulatorStream *s) { s->closeStream(); });
}

void StreamHandle::abort()
{
    m_open = false;
    run([](EmulatorStream *s) { s->abort(); });
}

ConnectionSet::ConnectionSet(EmulatorContext &context)
    : m_context(context)
{ }

ConnectionSet::~ConnectionSet() = default;

Connection &ConnectionSet::add(int id, StreamHandle stream)
{
    auto conn = std::make_unique<Connection>();
    conn->id = id;
    conn->stream = stream;
    conn->answerTimer.setSingleShot(true);
    conn->answerTimer.setTimerType(Qt::PreciseTimer); // jitter is a few milliseconds
    QObject::connect(
        &conn->answerTimer, &QTimer::timeout, &conn->answerTimer, [this, id] { flushAnswers(id); });
    conn->drainGraceTimer.setSingleShot(true);
    QObject::connect(&conn->drainGraceTimer, &QTimer::timeout, &conn->drainGraceTimer, [this, id] {
        if (Connection *c = find(id)) {
            c->end = ConnectionEnd::Drained;
            c->stream.closeStream();
        }
    });
    Connection &c = *conn;
    m_connections.emplace(id, std::move(conn));
    return c;
}

std::unique_ptr<Connection> ConnectionSet::take(int id)
{
    const auto it = m_connections.find(id);
    if (it == m_connections.end())
        return nullptr;
    std::unique_ptr<Connection> c = std::move(it->second);
    m_connections.erase(it);
    c->answerTimer.stop();
    c->drainGraceTimer.stop();
    return c;
}

Connection *ConnectionSet::find(int id)
{
    const auto it = m_connections.find(id);
    return it == m_connections.end() ? nullptr : it->second.get();
}

QList<int> ConnectionSet::ids() const
{
    QList<int> out;
    for (const auto &[id, c] : m_connections)
        out.append(id);
    return out;
}

int ConnectionSet::unauthenticated() const
{
    int n = 0;
    for (const auto &[id, c] : m_connections)
        n += c->senderId.isEmpty() && c->stream.isOpen() ? 1 : 0;
    return n;
}

int ConnectionSet::openOfSender(const QString &senderId) const
{
    int n = 0;
    for (const auto &[id, c] : m_connections)
        n += c->senderId == senderId && c->stream.isOpen() ? 1 : 0;
    return n;
}

Connection *ConnectionSet::pickForUpstream(const QString &senderId)
{
    Connection *best = nullptr;
    for (auto &[id, c] : m_connections) {
        if (!c->bound || c->draining || !c->stream.isOpen() || c->senderId != senderId)
            continue;
        // CCS stops sending to a connection with a full window of un-ACKed messages.
        if (c->unackedUpstream >= kMaxPendingPerConnection)
            continue;
        if (!best || c->unackedUpstream < best->unackedUpstream)
            best = c.get();
    }
    return best;
}

bool ConnectionSet::takeWindowSlot(Connection &c)
{
    EmulatorCounters &counters = m_context.counters();
    ++c.pending;
    counters.maxPendingSeen = std::max(counters.maxPendingSeen, c.pending);
    if (c.pending <= kMaxPendingPerConnection)
        return true;
    ++counters.windowViolations;
    qCWarning(lcCcsServer) << "connection" << c.id << "has" << c.pending << "un-answered messages";
    return false;
}

void ConnectionSet::queueNack(Connection &c, const QString &messageId, const QString &from, NackCode code,
    const QString &description, bool countsPending)
{
    Answer a;
    a.isNack = true;
    a.countsPending = countsPending;
    a.json = json::serialize(Nack::make(messageId, from, code, description).toJson());
    a.messageId = messageId;
    a.nackCode = code;
    queueAnswer(c, std::move(a));
}

void ConnectionSet::queueStanzaError(Connection &c, const QString &stanzaId, const QByteArray &raw,
    const QString &text, const QString &messageId)
{
    Answer a;
    a.isStanzaError = true;
    a.stanzaId = stanzaId;
    a.json = raw;
    a.errorText = text;
    a.messageId = messageId;
    queueAnswer(c, std::move(a));
}

void ConnectionSet::queueAnswer(Connection &c, Answer answer)
{
    // CCS promises no order: each answer's latency is the fixed delay plus a
    // jitter drawn for this message, so answers overtake each other. Equal due
    // times keep their arrival order.
    const FaultSchedule &f = m_context.config.faults;
    const qint64 jitter = f.answerJitterMs > 0 ? m_context.rng.bounded(f.answerJitterMs + 1) : 0;
    const qint64 now = m_context.now();
    answer.dueMs = now + std::max(0, f.ackDelayMs) + jitter;
    const auto at = std::upper_bound(c.answers.begin(), c.answers.end(), answer.dueMs,
        [](qint64 due, const Answer &a) { return due < a.dueMs; });
    const bool first = at == c.answers.begin();
    c.answers.insert(at, std::move(answer));
    if (first && c.answers.front().dueMs <= now) {
        flushAnswers(c.id);
        return;
    }
    if (first || !c.answerTimer.isActive())
        c.answerTimer.start(std::max<qint64>(0, c.answers.front().dueMs - now));
}

void ConnectionSet::flushAnswers(int connectionId)
{
    Connection *c = find(connectionId);
    if (!c)
        return;
    EmulatorCounters &counters = m_context.counters();
    const qint64 t = m_context.now();
    while (!c->answers.empty() && c->answers.front().dueMs <= t) {
        const Answer a = std::move(c->answers.front());
        c->answers.pop_front();
        if (a.isStanzaError) {
            c->stream.sendStanzaError(a.stanzaId, a.json, a.errorText);
            ++counters.stanzaErrorsSent;
        } else {
            c->stream.sendGcm(a.json);
            if (a.isNack)
                ++counters.nacksSent;
            else
                ++counters.acksSent;
        }
        if (a.countsPending)
            --c->pending;
        if (m_context.observer)
            m_context.observer->answerWritten(c->id, t, a.messageId, a.countsPending, a.isNack, a.nackCode);
    }
    if (!c->answers.empty())
        c->answerTimer.start(std::max<qint64>(0, c->answers.front().dueMs - t));
    checkDrainClose(*c);
}

void ConnectionSet::checkDrainClose(Connection &c)
{
    if (c.draining && m_context.config.drainGraceMs <= 0 && c.pending <= 0 && c.answers.empty()
        && c.unackedUpstream <= 0 && c.stream.isOpen()) {
        c.end = ConnectionEnd::Drained;
        c.stream.closeStream();
    }
}

} // namespace ccs::emulator
