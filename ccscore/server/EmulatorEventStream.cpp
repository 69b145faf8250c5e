#include "EmulatorAdminApi.h"
#include "EmulatorEventStream_p.h"

#include <QJsonDocument>
#include <QTimer>
#include <QWebSocket>

namespace ccs::emulator {

namespace {
// A small JSON object writer: the event stream serializes many small objects
// and only those fields, so it writes them directly.
class Line
{
public:
    explicit Line(QByteArray *out)
        : m_out(out)
    {
        m_out->append('{');
    }
    Line &str(const char *key, const QString &value)
    {
        keyOf(key);
        m_out->append('"');
        const QByteArray utf8 = value.toUtf8();
        for (char ch : utf8) {
            const auto c = static_cast<unsigned char>(ch);
            if (c == '"' || c == '\\') {
                m_out->append('\\');
                m_out->append(ch);
            } else if (c < 0x20) {
                static const char hex[] = "0123456789abcdef";
                m_out->append("\\u00");
                m_out->append(hex[c >> 4]);
                m_out->append(hex[c & 15]);
            } else {
                m_out->append(ch);
            }
        }
        m_out->append('"');
        return *this;
    }
    Line &num(const char *key, qint64 value)
    {
        keyOf(key);
        m_out->append(QByteArray::number(value));
        return *this;
    }
    Line &boolean(const char *key, bool value)
    {
        keyOf(key);
        m_out->append(value ? "true" : "false");
        return *this;
    }
    Line &raw(const char *key, const QByteArray &json)
    {
        keyOf(key);
        m_out->append(json);
        return *this;
    }
    void end() { m_out->append('}'); }

private:
    void keyOf(const char *key)
    {
        if (!m_first)
            m_out->append(',');
        m_first = false;
        m_out->append('"');
        m_out->append(key);
        m_out->append("\":");
    }
    QByteArray *m_out;
    bool m_first = true;
};

QString endName(ConnectionEnd how)
{
    switch (how) {
    case ConnectionEnd::Client:
        return QStringLiteral("client");
    case ConnectionEnd::Dropped:
        return QStringLiteral("dropped");
    case ConnectionEnd::Drained:
        return QStringLiteral("drained");
    case ConnectionEnd::StreamError:
        return QStringLiteral("stream_error");
    case ConnectionEnd::Stopped:
        return QStringLiteral("stopped");
    }
    return {};
}

QString key(int connection, const QString &a, const QString &b = {})
{
    return QString::number(connection) + QLatin1Char('\n') + a + QLatin1Char('\n') + b;
}

// Entries waiting for an answer or ACK that never comes are dropped in bulk
// past this, so the latency tables stay bounded.
constexpr int kMaxWaiting = 200000;

// RFC 6455: a server's frame is not masked; the header grows with the length.
qint64 frameBytes(qint64 payload)
{
    return payload + 2 + (payload > 65535 ? 8 : payload >= 126 ? 2 : 0);
}
} // namespace

struct EmulatorEventStream::Client {
    std::unique_ptr<QWebSocket> socket;
    quint64 next = 1; // the next sequence number to consider
    QSet<int> connections;
    qint64 buffered = 0; // bytes handed to the socket, not yet written to the network
    bool closing = false;
};

EmulatorEventStream::EmulatorEventStream(QObject *parent)
    : QObject(parent)
{
    m_ring.resize(size_t(m_limits.ringEvents));
}

EmulatorEventStream::~EmulatorEventStream()
{
    for (auto &c : m_clients)
        c->socket->disconnect(this);
}

void EmulatorEventStream::setLimits(const Limits &limits)
{
    m_limits = limits;
    m_limits.ringEvents = qMax(1, limits.ringEvents);
    m_ring.assign(size_t(m_limits.ringEvents), Event {});
    m_lastSeq = 0;
}

void EmulatorEventStream::setNext(EmulatorObserver *next, QObject *lifetime)
{
    m_next = next;
    m_nextLifetime = lifetime;
    m_nextGuarded = lifetime != nullptr;
}

EmulatorObserver *EmulatorEventStream::next() const
{
    if (m_nextGuarded && !m_nextLifetime)
        return nullptr;
    return m_next;
}

quint64 EmulatorEventStream::firstSeq() const
{
    const quint64 kept = quint64(m_ring.size());
    return m_lastSeq >= kept ? m_lastSeq - kept + 1 : 1;
}

EmulatorEventStream::Event &EmulatorEventStream::append(Kind kind, int connection, qint64 tMs)
{
    ++m_lastSeq;
    Event &e = m_ring[size_t(m_lastSeq % m_ring.size())];
    e = Event {};
    e.seq = m_lastSeq;
    e.kind = kind;
    e.connection = connection;
    e.tMs = tMs;
    if (!m_clients.empty())
        scheduleFlush();
    return e;
}

QByteArray EmulatorEventStream::eventJson(quint64 seq) const
{
    if (seq == 0 || seq > m_lastSeq || seq < firstSeq())
        return {};
    return toJson(m_ring[size_t(seq % m_ring.size())]);
}

QByteArray EmulatorEventStream::toJson(const Event &e) const
{
    QByteArray out;
    out.reserve(160);
    Line line(&out);
    line.num("seq", qint64(e.seq)).num("t", e.tMs);
    if (e.connection > 0)
        line.num("connection", e.connection);
    switch (e.kind) {
    case Kind::Connection:
        line.str("type", QStringLiteral("connection")).str("state", e.a);
        if (!e.b.isEmpty())
            line.str("sender_id", e.b);
        if (!e.c.isEmpty())
            line.str("end", e.c);
        break;
    case Kind::Downstream:
        line.str("type", QStringLiteral("downstream")).str("message_id", e.a).str("to", e.b);
        break;
    case Kind::Answer:
        line.str("type", QStringLiteral("answer")).str("message_id", e.a).str("answer", e.b);
        if (!e.c.isEmpty())
            line.str("code", e.c);
        if (!e.d.isEmpty())
            line.str("description", e.d);
        if (e.latencyMs >= 0)
            line.num("latency_ms", e.latencyMs);
        break;
    case Kind::Upstream:
        line.str("type", QStringLiteral("upstream"))
            .str("from", e.a)
            .str("message_id", e.b)
            .boolean("receipt", e.flag)
            .num("copies", e.latencyMs);
        break;
    case Kind::Ack:
        line.str("type", QStringLiteral("ack"))
            .str("to", e.a)
            .str("message_id", e.b)
            .boolean("matched", e.flag);
        if (e.latencyMs >= 0)
            line.num("latency_ms", e.latencyMs);
        break;
    case Kind::Unparsable:
        line.str("type", QStringLiteral("unparsable")).str("error", e.a);
        break;
    case Kind::Device:
        line.str("type", QStringLiteral("device")).str("token", e.a).str("change", e.b);
        break;
    case Kind::Faults:
        line.str("type", QStringLiteral("faults")).raw("faults", e.a.toUtf8());
        break;
    case Kind::Rule:
        line.str("type", QStringLiteral("rule")).str("rule", e.a).str("status", e.b).str("summary", e.c);
        break;
    }
    line.end();
    return out;
}

void EmulatorEventStream::addClient(
    std::unique_ptr<QWebSocket> socket, quint64 from, const QSet<int> &connections)
{
    if (int(m_clients.size()) >= m_limits.maxClients) {
        socket->sendTextMessage(QString::fromUtf8(
            QJsonDocument(QJsonObject {{QStringLiteral("type"), QStringLiteral("error")},
                              {QStringLiteral("error"), QStringLiteral("too many event stream clients")}})
                .toJson(QJsonDocument::Compact)));
        socket->close(QWebSocketProtocol::CloseCodeTooMuchData, QStringLiteral("too many clients"));
        QWebSocket *raw = socket.release();
        raw->setParent(this); // gone with the stream at the latest
        connect(raw, &QWebSocket::disconnected, raw, &QObject::deleteLater);
        QTimer::singleShot(5000, raw, &QObject::deleteLater);
        return;
    }
    auto client = std::make_unique<Client>();
    Client *c = client.get();
    c->socket = std::move(socket);
    c->connections = connections;
    const quint64 first = firstSeq();
    QJsonObject hello {{QStringLiteral("type"), QStringLiteral("hello")},
        {QStringLiteral("first_seq"), qint64(m_lastSeq == 0 ? 1 : first)},
        {QStringLiteral("next_seq"), qint64(m_lastSeq + 1)}};
    QByteArray greeting = QJsonDocument(hello).toJson(QJsonDocument::Compact);
    if (from == 0 || from > m_lastSeq + 1) {
        c->next = m_lastSeq + 1;
    } else if (from < first) {
        // Resuming from events the ring no longer holds: say which are missing.
        greeting += '\n'
            + QJsonDocument(QJsonObject {{QStringLiteral("type"), QStringLiteral("gap")},
                                {QStringLiteral("missed_from"), qint64(from)},
                                {QStringLiteral("missed_to"), qint64(first - 1)},
                                {QStringLiteral("reason"),
                                    QStringLiteral("these events are older than the %1 the emulator keeps")
                                        .arg(m_ring.size())}})
                  .toJson(QJsonDocument::Compact);
        c->next = first;
    } else {
        c->next = from;
    }
    c->buffered = frameBytes(greeting.size());
    c->socket->sendTextMessage(QString::fromUtf8(greeting));
    connect(c->socket.get(), &QWebSocket::bytesWritten, this, [this, c](qint64 n) {
        const bool wasFull = c->buffered >= m_limits.clientBufferBytes;
        c->buffered = qMax<qint64>(0, c->buffered - n);
        if (wasFull && c->buffered < m_limits.clientBufferBytes)
            scheduleFlush();
    });
    // Queued: a write may find the socket gone while the client is being served.
    connect(
        c->socket.get(), &QWebSocket::disconnected, this, [this, c] { removeClient(c); },
        Qt::QueuedConnection);
    // A client only reads: whatever it sends is ignored.
    m_clients.push_back(std::move(client));
    scheduleFlush();
}

void EmulatorEventStream::removeClient(Client *client)
{
    for (auto it = m_clients.begin(); it != m_clients.end(); ++it) {
        if (it->get() == client) {
            QWebSocket *socket = (*it)->socket.release();
            socket->disconnect(this);
            socket->setParent(this);
            socket->deleteLater();
            m_clients.erase(it);
            return;
        }
    }
}

void EmulatorEventStream::scheduleFlush()
{
    if (m_flushScheduled)
        return;
    m_flushScheduled = true;
    QTimer::singleShot(0, this, [this] {
        m_flushScheduled = false;
        flush();
    });
}

void EmulatorEventStream::flush()
{
    // cutOff may end a client; iterate over a snapshot of the pointers.
    std::vector<Client *> clients;
    for (auto &c : m_clients)
        clients.push_back(c.get());
    for (Client *c : clients)
        flushClient(*c);
}

void EmulatorEventStream::flushClient(Client &c)
{
    while (!c.closing && c.next <= m_lastSeq) {
        if (c.next < firstSeq()) {
            cutOff(c,
                QStringLiteral("slow reader: the events it had not read are no longer kept (%1 events)")
                    .arg(m_ring.size()));
            return;
        }
        if (c.buffered >= m_limits.clientBufferBytes) {
            if (m_lastSeq + 1 - c.next > quint64(m_limits.clientLagEvents))
                cutOff(c,
                    QStringLiteral("slow reader: %1 bytes unread and more than %2 events behind")
                        .arg(c.buffered)
                        .arg(m_limits.clientLagEvents));
            return;
        }
        QByteArray message;
        while (c.next <= m_lastSeq && message.size() < m_limits.maxMessageBytes) {
            const Event &e = m_ring[size_t(c.next % m_ring.size())];
            ++c.next;
            if (!c.connections.isEmpty() && e.connection > 0 && !c.connections.contains(e.connection))
                continue;
            if (!message.isEmpty())
                message.append('\n');
            message.append(toJson(e));
        }
        if (message.isEmpty())
            continue;
        const QString text = QString::fromUtf8(message);
        c.buffered += frameBytes(message.size());
        m_peakBuffer = qMax(m_peakBuffer, c.buffered);
        c.socket->sendTextMessage(text);
    }
}

void EmulatorEventStream::cutOff(Client &c, const QString &reason)
{
    ++m_cutOffs;
    c.closing = true;
    const QByteArray notice = QJsonDocument(
        QJsonObject {{QStringLiteral("type"), QStringLiteral("cut_off")},
            {QStringLiteral("resume_from"), qint64(c.next)},
            {QStringLiteral("reason"),
                reason}}).toJson(QJsonDocument::Compact);
    QWebSocket *socket = c.socket.get();
    socket->sendTextMessage(QString::fromUtf8(notice));
    socket->close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("slow reader"));
    // A reader that never reads never answers the close either.
    QTimer::singleShot(5000, socket, [socket] { socket->abort(); });
}

void EmulatorEventStream::ruleSettled(
    qint64 tMs, const QString &rule, const QString &status, const QString &summary)
{
    Event &e = append(Kind::Rule, 0, tMs);
    e.a = rule;
    e.b = status;
    e.c = summary;
}

// --- EmulatorObserver: record, then pass on -------------------------------

void EmulatorEventStream::tlsHandshakeFailed(qint64 tMs)
{
    append(Kind::Connection, 0, tMs).a = QStringLiteral("tls_failed");
    if (auto *n = next())
        n->tlsHandshakeFailed(tMs);
}

void EmulatorEventStream::connectionOpened(int connection, qint64 tMs)
{
    append(Kind::Connection, connection, tMs).a = QStringLiteral("opened");
    if (auto *n = next())
        n->connectionOpened(connection, tMs);
}

void EmulatorEventStream::authenticationFailed(int connection, qint64 tMs)
{
    append(Kind::Connection, connection, tMs).a = QStringLiteral("auth_failed");
    if (auto *n = next())
        n->authenticationFailed(connection, tMs);
}

void EmulatorEventStream::authenticated(int connection, qint64 tMs, const QString &senderId)
{
    Event &e = append(Kind::Connection, connection, tMs);
    e.a = QStringLiteral("authenticated");
    e.b = senderId;
    if (auto *n = next())
        n->authenticated(connection, tMs, senderId);
}

void EmulatorEventStream::bound(int connection, qint64 tMs)
{
    append(Kind::Connection, connection, tMs).a = QStringLiteral("bound");
    if (auto *n = next())
        n->bound(connection, tMs);
}

void EmulatorEventStream::connectionClosed(int connection, qint64 tMs, ConnectionEnd how)
{
    Event &e = append(Kind::Connection, connection, tMs);
    e.a = QStringLiteral("closed");
    e.c = endName(how);
    if (auto *n = next())
        n->connectionClosed(connection, tMs, how);
}

void EmulatorEventStream::unparsableReceived(int connection, qint64 tMs, const QString &error)
{
    append(Kind::Unparsable, connection, tMs).a = error;
    if (auto *n = next())
        n->unparsableReceived(connection, tMs, error);
}

void EmulatorEventStream::downstreamReceived(
    int connection, qint64 tMs, const QString &messageId, const QString &to, const QJsonObject &message)
{
    Event &e = append(Kind::Downstream, connection, tMs);
    e.a = messageId;
    e.b = to;
    if (m_downSince.size() >= kMaxWaiting)
        m_downSince.clear();
    m_downSince.insert(key(connection, messageId), tMs);
    if (auto *n = next())
        n->downstreamReceived(connection, tMs, messageId, to, message);
}

void EmulatorEventStream::downstreamJudged(int connection, qint64 tMs, const QString &messageId,
    const QString &to, bool nack, NackCode code, bool stanzaError, const QString &description)
{
    if (stanzaError) {
        if (m_judged.size() >= kMaxWaiting)
            m_judged.clear();
        m_judged.insert(key(connection, messageId), description);
    }
    if (auto *n = next())
        n->downstreamJudged(connection, tMs, messageId, to, nack, code, stanzaError, description);
}

void EmulatorEventStream::answerWritten(
    int connection, qint64 tMs, const QString &messageId, bool countsPending, bool nack, NackCode code)
{
    Event &e = append(Kind::Answer, connection, tMs);
    e.a = messageId;
    const QString k = key(connection, messageId);
    const auto error = m_judged.constFind(k);
    if (error != m_judged.constEnd()) {
        e.b = QStringLiteral("error");
        e.d = *error;
        m_judged.erase(error);
    } else {
        e.b = nack ? QStringLiteral("nack") : QStringLiteral("ack");
        if (nack)
            e.c = NackCatalogue::name(code);
    }
    const auto since = m_downSince.constFind(k);
    if (since != m_downSince.constEnd()) {
        e.latencyMs = tMs - *since;
        m_downSince.erase(since);
    }
    if (auto *n = next())
        n->answerWritten(connection, tMs, messageId, countsPending, nack, code);
}

void EmulatorEventStream::upstreamDelivered(
    int connection, qint64 tMs, const QString &from, const QString &messageId, bool isReceipt, int copies)
{
    Event &e = append(Kind::Upstream, connection, tMs);
    e.a = from;
    e.b = messageId;
    e.flag = isReceipt;
    e.latencyMs = copies;
    if (m_upSince.size() >= kMaxWaiting)
        m_upSince.clear();
    m_upSince.insert(key(connection, from, messageId), tMs);
    if (auto *n = next())
        n->upstreamDelivered(connection, tMs, from, messageId, isReceipt, copies);
}

void EmulatorEventStream::ackReceived(
    int connection, qint64 tMs, const QString &to, const QString &messageId, bool matched)
{
    Event &e = append(Kind::Ack, connection, tMs);
    e.a = to;
    e.b = messageId;
    e.flag = matched;
    const auto since = m_upSince.constFind(key(connection, to, messageId));
    if (since != m_upSince.constEnd()) {
        e.latencyMs = tMs - *since;
        m_upSince.erase(since);
    }
    if (auto *n = next())
        n->ackReceived(connection, tMs, to, messageId, matched);
}

void EmulatorEventStream::drainSent(int connection, qint64 tMs)
{
    append(Kind::Connection, connection, tMs).a = QStringLiteral("draining");
    if (auto *n = next())
        n->drainSent(connection, tMs);
}

void EmulatorEventStream::deviceChanged(qint64 tMs, const QString &token, const QString &change)
{
    Event &e = append(Kind::Device, 0, tMs);
    e.a = token;
    e.b = change;
    if (auto *n = next())
        n->deviceChanged(tMs, token, change);
}

void EmulatorEventStream::faultsChanged(qint64 tMs, const FaultSchedule &faults)
{
    append(Kind::Faults, 0, tMs).a
        = QString::fromUtf8(QJsonDocument(emulator::toJson(faults)).toJson(QJsonDocument::Compact));
    if (auto *n = next())
        n->faultsChanged(tMs, faults);
}

ScenarioAction EmulatorEventStream::scenarioAction(
    int connection, const QString &messageId, const QString &to)
{
    if (auto *n = next())
        return n->scenarioAction(connection, messageId, to);
    return {};
}

} // namespace ccs::emulator

// Its own moc object: what links the client alone does not pull in the emulator.
#include "moc_EmulatorEventStream_p.cpp"
