#include "ConformanceGrader.h"

#include "server/EmulatorServer.h"

#include <algorithm>

namespace ccs::emulator {

namespace {
constexpr int kWindow = 100;
constexpr auto kReceiptFrom = "gcm.googleapis.com";

QString explanationOf(ConformanceGrader::Rule rule)
{
    switch (rule) {
    case ConformanceGrader::TlsPlain:
        return QStringLiteral(
            "Direct TLS from the first byte, then SASL PLAIN as SENDER_ID@gcm.googleapis.com "
            "(or @fcm.googleapis.com); nothing in clear.");
    case ConformanceGrader::Window:
        return QStringLiteral("Never more than 100 un-answered downstream messages on one connection.");
    case ConformanceGrader::AckUpstream:
        return QStringLiteral(
            "Every upstream message ACKed on the connection it came on, with to = the device's "
            "token and its message_id, within the ACK timeout; never on another connection.");
    case ConformanceGrader::AckReceipt:
        return QStringLiteral("Every delivery receipt ACKed with its own dr2: message_id.");
    case ConformanceGrader::Drain:
        return QStringLiteral("After CONNECTION_DRAINING no new message on that connection, a new connection "
                              "within 5 s, and what still arrives on the draining connection ACKed there.");
    case ConformanceGrader::Resend:
        return QStringLiteral(
            "Every message pending when a connection closed is sent again on a new connection.");
    case ConformanceGrader::Retry:
        return QStringLiteral(
            "SERVICE_UNAVAILABLE and INTERNAL_SERVER_ERROR retried, no sooner than 1 s, with "
            "growing back-off, never after the message's time_to_live.");
    case ConformanceGrader::FinalNack:
        return QStringLiteral(
            "A message NACKed BAD_REGISTRATION, DEVICE_UNREGISTERED or INVALID_JSON never sent "
            "again; a DEVICE_UNREGISTERED token not used again in the run.");
    case ConformanceGrader::Reconnect:
        return QStringLiteral("After an authenticated connection ends, a new one within 2 s; after "
                              "authentication failures, no tight reconnect loop.");
    case ConformanceGrader::ValidJson:
        return QStringLiteral("Every downstream message passes the shared validation rules.");
    case ConformanceGrader::UniqueIds:
        return QStringLiteral(
            "Downstream message_ids unique per sender, except resends and retries of the same message.");
    case ConformanceGrader::RuleCount:
        break;
    }
    return {};
}
} // namespace

ConformanceGrader::ConformanceGrader(EmulatorServer *server, ConformanceScenario scenario, QObject *parent)
    : QObject(parent)
    , m_server(server)
    , m_scenario(scenario)
{
    for (int i = 0; i < RuleCount; ++i) {
        m_rules[i].id = ruleId(Rule(i));
        m_rules[i].explanation = explanationOf(Rule(i));
    }
    m_lastScripted = std::max({m_scenario.drainAt, m_scenario.dropAt, m_scenario.badRegistrationAt,
        m_scenario.unregisterAt, m_scenario.retryableEvery > 0 ? m_scenario.retryableEvery / 2 : 0});
    m_messages.reserve(4096); // the default scenario's run, without rehashing
    m_tick.setInterval(200);
    connect(&m_tick, &QTimer::timeout, this, &ConformanceGrader::tick);
    m_tick.start();
}

ConformanceGrader::~ConformanceGrader() = default;

QString ConformanceGrader::ruleId(Rule rule)
{
    static const char *const ids[] = {"tls-plain", "window", "ack-upstream", "ack-receipt", "drain", "resend",
        "retry", "final-nack", "reconnect", "valid-json", "unique-ids"};
    return rule < RuleCount ? QString::fromLatin1(ids[rule]) : QString();
}

QString ConformanceGrader::statusName(Status status)
{
    switch (status) {
    case Status::Pass:
        return QStringLiteral("pass");
    case Status::Fail:
        return QStringLiteral("fail");
    case Status::NotExercised:
        break;
    }
    return QStringLiteral("not_exercised");
}

QString ConformanceGrader::key(const QString &from, const QString &messageId)
{
    return from + QChar(u'\0') + messageId;
}

QString ConformanceGrader::t(qint64 ms) const
{
    return QStringLiteral("t=%1s").arg(double(ms) / 1000.0, 0, 'f', 3);
}

ConformanceGrader::Message *ConformanceGrader::findMessage(const QString &messageId)
{
    // The hooks for one message come one after another (received, scenario,
    // judged, answered): the last one found is usually the one asked for.
    if (m_lastMessage && messageId == m_lastMessageId)
        return m_lastMessage;
    const auto it = m_messages.find(messageId);
    if (it == m_messages.end())
        return nullptr;
    m_lastMessageId = messageId;
    m_lastMessage = &*it;
    return m_lastMessage;
}

ConformanceGrader::Conn *ConformanceGrader::conn(int id)
{
    const auto it = m_conns.find(id);
    return it == m_conns.end() ? nullptr : &it->second;
}

bool ConformanceGrader::otherBoundConnection(int except, const QString &senderId) const
{
    for (const auto &[id, c] : m_conns) {
        if (id != except && c.open && c.isBound && !c.draining && c.senderId == senderId)
            return true;
    }
    return false;
}

void ConformanceGrader::exercise(Rule rule)
{
    m_exercised[rule] = true;
}

void ConformanceGrader::note(Rule rule, const QString &evidence)
{
    RuleResult &r = m_rules[rule];
    if (r.evidence.size() < kMaxEvidence)
        r.evidence.append(evidence);
    Q_EMIT evidenceAdded(r.id, evidence);
}

void ConformanceGrader::fail(Rule rule, const QString &evidence, const QString &consequence)
{
    exercise(rule);
    RuleResult &r = m_rules[rule];
    ++r.failures;
    note(rule, evidence);
    if (r.status != Status::Fail) {
        r.status = Status::Fail;
        r.explanation = explanationOf(rule) + QLatin1Char(' ') + consequence;
        r.settled = false; // a PASS settled earlier turns into a FAIL
        settle(rule, Status::Fail, evidence + QStringLiteral(". ") + consequence);
    }
}

void ConformanceGrader::settle(Rule rule, Status status, const QString &summary)
{
    RuleResult &r = m_rules[rule];
    if (r.settled)
        return;
    r.settled = true;
    r.status = status;
    QString line = summary;
    if (status == Status::Pass) {
        const QString checked = passEvidence(rule);
        if (r.evidence.isEmpty())
            note(rule, checked);
        line = checked;
    }
    Q_EMIT ruleSettled(r.id, statusName(status), line);
    if (!m_allSettledEmitted && allSettled()) {
        m_allSettledEmitted = true;
        Q_EMIT allRulesSettled();
    }
}

bool ConformanceGrader::allSettled() const
{
    return std::all_of(m_rules.begin(), m_rules.end(), [](const RuleResult &r) { return r.settled; });
}

bool ConformanceGrader::passed() const
{
    return std::none_of(
        m_rules.begin(), m_rules.end(), [](const RuleResult &r) { return r.status == Status::Fail; });
}

QList<ConformanceGrader::RuleResult> ConformanceGrader::results() const
{
    return QList<RuleResult>(m_rules.begin(), m_rules.end());
}

QJsonObject ConformanceGrader::traffic() const
{
    return QJsonObject {{QStringLiteral("connections"), m_connections},
        {QStringLiteral("authenticated_connections"), m_authenticatedConnections},
        {QStringLiteral("authentication_failures"), m_authFailureCount},
        {QStringLiteral("tls_failures"), m_tlsFailures}, {QStringLiteral("downstream"), m_downstream},
        {QStringLiteral("distinct_message_ids"), m_sequence}, {QStringLiteral("sent_again"), m_resent},
        {QStringLiteral("acks_sent"), m_acks}, {QStringLiteral("nacks_sent"), m_nacks},
        {QStringLiteral("stanza_errors"), m_stanzaErrors}, {QStringLiteral("upstream_delivered"), m_upstream},
        {QStringLiteral("receipts_delivered"), m_receipts}, {QStringLiteral("acks_received"), m_acksReceived},
        {QStringLiteral("bad_acks"), m_badAcks}, {QStringLiteral("drains"), m_drains},
        {QStringLiteral("drops"), m_drops}};
}

QString ConformanceGrader::passEvidence(Rule rule) const
{
    switch (rule) {
    case TlsPlain:
        return QStringLiteral("%1 connection(s) authenticated with SASL PLAIN over direct TLS")
            .arg(m_authenticatedConnections);
    case Window:
        return QStringLiteral("%1 downstream message(s); at most %2 un-answered on one connection")
            .arg(m_downstream)
            .arg(m_maxPending);
    case AckUpstream:
        return QStringLiteral("%1 upstream message(s) ACKed on their own connection, the slowest after %2 ms")
            .arg(m_upstreamAcked)
            .arg(m_maxAckLatencyMs);
    case AckReceipt:
        return QStringLiteral("%1 receipt(s) ACKed with their dr2: id").arg(m_receiptsAcked);
    case Drain:
        return QStringLiteral(
            "%1 CONNECTION_DRAINING; nothing new sent on a draining connection, %2 message(s) "
            "of its pipeline ACKed there")
            .arg(m_drains)
            .arg(m_drainAcked);
    case Resend:
        return QStringLiteral("%1 message(s) pending at a close, each sent again on a new connection")
            .arg(m_resendsSeen);
    case Retry:
        return QStringLiteral(
            "%1 retr%2 after SERVICE_UNAVAILABLE / INTERNAL_SERVER_ERROR, the soonest %3 ms "
            "after its NACK, back-off growing")
            .arg(m_retriesSeen)
            .arg(m_retriesSeen == 1 ? QStringLiteral("y") : QStringLiteral("ies"))
            .arg(std::max<qint64>(0, m_minRetryGapMs));
    case FinalNack:
        return QStringLiteral("%1 final NACK(s); none sent again, no unregistered token used again")
            .arg(m_finalNacks);
    case Reconnect:
        return QStringLiteral("%1 reconnect(s) after a connection ended, the slowest after %2 ms")
            .arg(m_reconnects)
            .arg(m_maxReconnectMs);
    case ValidJson:
        return QStringLiteral("%1 downstream message(s) passed the validation rules").arg(m_judged);
    case UniqueIds:
        return QStringLiteral("%1 distinct message_id(s); %2 sent again, each a resend or a retry")
            .arg(m_sequence)
            .arg(m_resent);
    case RuleCount:
        break;
    }
    return {};
}

// --- events -----------------------------------------------------------------

void ConformanceGrader::tlsHandshakeFailed(qint64 tMs)
{
    ++m_tlsFailures;
    fail(TlsPlain,
        QStringLiteral("%1: a TLS handshake failed (clear text on the TLS port, or a TLS error)").arg(t(tMs)),
        QStringLiteral("CCS speaks TLS from the first byte: it would have refused this connection."));
}

void ConformanceGrader::connectionOpened(int connection, qint64 tMs)
{
    ++m_connections;
    Conn c;
    c.openedMs = tMs;
    m_conns[connection] = c;
    for (const Wait &w : m_reconnectWaits) {
        ++m_reconnects;
        m_maxReconnectMs = std::max(m_maxReconnectMs, tMs - w.sinceMs);
        if (tMs - w.sinceMs > m_scenario.reconnectMs)
            fail(Reconnect,
                QStringLiteral("connection %1 ended at %2; the next connection (%3) came %4 ms later")
                    .arg(w.connection)
                    .arg(t(w.sinceMs))
                    .arg(connection)
                    .arg(tMs - w.sinceMs),
                QStringLiteral("CCS expects the app server to reconnect at once: meanwhile nothing was sent "
                               "and upstream messages waited."));
    }
    m_reconnectWaits.clear();
    for (const Wait &w : m_drainWaits) {
        if (tMs - w.sinceMs > m_scenario.drainReconnectMs)
            fail(Drain,
                QStringLiteral("connection %1 drained at %2; the next connection (%3) came %4 ms later")
                    .arg(w.connection)
                    .arg(t(w.sinceMs))
                    .arg(connection)
                    .arg(tMs - w.sinceMs),
                QStringLiteral("CCS would have closed the draining connection and left the app server "
                               "without one."));
    }
    m_drainWaits.clear();
    // Authentication failures: a client that keeps coming back within a second.
    if (!m_authLoopFailed && m_authFailures.size() >= 3) {
        const qint64 last = m_authFailures.back();
        const qint64 third = m_authFailures[m_authFailures.size() - 3];
        if (tMs - last < 1000 && last - third < 5000) {
            m_authLoopFailed = true;
            fail(Reconnect,
                QStringLiteral("%1: connection %2 after %3 authentication failures, the last %4 ms before")
                    .arg(t(tMs))
                    .arg(connection)
                    .arg(m_authFailures.size())
                    .arg(tMs - last),
                QStringLiteral("CCS would have kept refusing the credentials: a tight loop only loads both "
                               "ends; stop, back off and tell the user."));
        }
    }
}

void ConformanceGrader::authenticationFailed(int connection, qint64 tMs)
{
    ++m_authFailureCount;
    m_authFailures.push_back(tMs);
    exercise(Reconnect);
    Q_UNUSED(connection)
}

void ConformanceGrader::authenticated(int connection, qint64 tMs, const QString &senderId)
{
    Q_UNUSED(tMs)
    ++m_authenticatedConnections;
    if (Conn *c = conn(connection)) {
        c->authenticated = true;
        c->senderId = senderId;
    }
}

void ConformanceGrader::bound(int connection, qint64 tMs)
{
    if (Conn *c = conn(connection)) {
        c->isBound = true;
        c->boundMs = tMs;
    }
    exercise(TlsPlain);
    if (m_rules[TlsPlain].status != Status::Fail)
        settle(TlsPlain, Status::Pass,
            QStringLiteral("connection %1 authenticated with SASL PLAIN over direct TLS").arg(connection));
}

void ConformanceGrader::connectionClosed(int connection, qint64 tMs, ConnectionEnd how)
{
    Conn *c = conn(connection);
    if (!c)
        return;
    c->open = false;
    c->closedMs = tMs;
    if (how == ConnectionEnd::Dropped)
        ++m_drops;
    // Upstream messages and receipts it never ACKed (redelivered on the next connection).
    for (auto it = m_outstanding.begin(); it != m_outstanding.end();) {
        if (it->connection != connection) {
            ++it;
            continue;
        }
        if (tMs - it->deliveredMs > m_scenario.ackTimeoutMs) {
            const QString id = it.key().mid(it.key().indexOf(QChar(u'\0')) + 1);
            const Rule rule = it->duringDrain ? Drain : it->isReceipt ? AckReceipt : AckUpstream;
            fail(rule,
                QStringLiteral("connection %1 closed at %2 with %3 %4 delivered at %5 never ACKed")
                    .arg(connection)
                    .arg(t(tMs))
                    .arg(it->isReceipt ? QStringLiteral("receipt") : QStringLiteral("upstream message"), id,
                        t(it->deliveredMs)),
                QStringLiteral("CCS would have delivered it again and stopped sending upstream messages to a "
                               "connection that does not ACK them."));
        }
        it = m_outstanding.erase(it);
    }
    if (how == ConnectionEnd::Stopped)
        return;
    // What was pending on it must be sent again.
    int pending = 0;
    for (auto it = m_messages.begin(); it != m_messages.end(); ++it) {
        Message &m = *it;
        if (m.connection != connection)
            continue;
        if (!m.answered && m.state == MsgState::Pending) {
            m.resendPending = true;
            m.resendSinceMs = tMs;
            m.resendFrom = connection;
            m_resendIds.append(it.key());
            ++pending;
        } else if (m.answered && how != ConnectionEnd::Drained && tMs - m.answeredMs <= 1000) {
            m.mayRepeat = true;
        }
    }
    if (pending > 0)
        exercise(Resend);
    if (c->authenticated
        && (how == ConnectionEnd::Dropped || how == ConnectionEnd::Drained
            || how == ConnectionEnd::StreamError)) {
        exercise(Reconnect);
        if (!otherBoundConnection(connection, c->senderId))
            m_reconnectWaits.push_back({connection, tMs});
        else
            ++m_reconnects; // another connection was already there
    }
}

void ConformanceGrader::unparsableReceived(int connection, qint64 tMs, const QString &error)
{
    ++m_downstream;
    ++m_stanzaErrors;
    if (Conn *c = conn(connection))
        ++c->pending;
    fail(ValidJson, QStringLiteral("connection %1, %2: %3").arg(connection).arg(t(tMs), error),
        QStringLiteral("CCS would have answered with a stanza error: this message was never delivered."));
}

void ConformanceGrader::downstreamReceived(
    int connection, qint64 tMs, const QString &messageId, const QString &to, const QJsonObject &message)
{
    ++m_downstream;
    Conn *c = conn(connection);
    if (!c)
        return;
    ++c->downstream;
    ++c->pending;
    m_maxPending = std::max(m_maxPending, c->pending);
    exercise(Window);
    exercise(UniqueIds);
    if (c->pending > kWindow && !c->windowFailed) {
        c->windowFailed = true;
        fail(Window,
            QStringLiteral("connection %1, %2: message %3 was un-answered message %4")
                .arg(connection)
                .arg(t(tMs), messageId)
                .arg(c->pending),
            QStringLiteral(
                "CCS would have stopped taking messages on this connection: whatever the server sent past "
                "100 un-answered risked being lost."));
    }
    if (c->draining && !c->drainSendFailed && tMs - c->drainMs > m_scenario.inFlightGraceMs) {
        c->drainSendFailed = true;
        fail(Drain,
            QStringLiteral("connection %1 drained at %2; message %3 sent on it at %4")
                .arg(connection)
                .arg(t(c->drainMs), messageId, t(tMs)),
            QStringLiteral("CCS would have NACKed it CONNECTION_DRAINING and then closed this connection."));
    }
    if (!m_unregistered.isEmpty()) {
        const auto u = m_unregistered.constFind(to);
        if (u != m_unregistered.constEnd() && tMs - *u > m_scenario.inFlightGraceMs)
            fail(FinalNack,
                QStringLiteral("connection %1, %2: message %3 to %4, unregistered at %5")
                    .arg(connection)
                    .arg(t(tMs), messageId, to, t(*u)),
                QStringLiteral(
                    "CCS would have answered DEVICE_UNREGISTERED again: the token should have been "
                    "dropped."));
    }
    if (messageId.isEmpty())
        return;
    Message *found = findMessage(messageId);
    if (!found) {
        Message m;
        m.connection = connection;
        m.firstMs = m.lastMs = tMs;
        m.sequence = ++m_sequence;
        m.receptions = 1;
        m.to = to;
        const auto ttl = message.constFind(QLatin1String("time_to_live"));
        if (ttl != message.constEnd() && ttl->isDouble())
            m.ttlMs = qint64(ttl->toDouble() * 1000);
        m_lastMessage = &*m_messages.insert(messageId, m);
        m_lastMessageId = messageId;
        return;
    }
    Message &m = *found;
    ++m_resent;
    ++m.receptions;
    switch (m.state) {
    case MsgState::FinalNack:
        fail(FinalNack,
            QStringLiteral("connection %1, %2: message %3 sent again after its final NACK at %4")
                .arg(connection)
                .arg(t(tMs), messageId, t(m.answeredMs)),
            QStringLiteral("CCS would have NACKed it again: a final NACK means fix the message or drop the "
                           "token."));
        break;
    case MsgState::Retryable:
        if (m.retryPending) {
            m.retryPending = false;
            const qint64 gap = tMs - m.lastNackMs;
            ++m_retriesSeen;
            m_minRetryGapMs = m_minRetryGapMs < 0 ? gap : std::min(m_minRetryGapMs, gap);
            if (gap < m_scenario.minRetryDelayMs * 95 / 100) {
                fail(Retry,
                    QStringLiteral("connection %1, %2: message %3 retried %4 ms after its NACK")
                        .arg(connection)
                        .arg(t(tMs), messageId)
                        .arg(gap),
                    QStringLiteral(
                        "CCS asks for exponential back-off from 1 s: a retry at once meets the same "
                        "overloaded server."));
            } else if (m.nacks > 1 && gap * 100 < m.lastRetryGapMs * 105) {
                fail(Retry,
                    QStringLiteral("connection %1, %2: message %3 retry %4 came %5 ms after its NACK, the "
                                   "previous %6 ms")
                        .arg(connection)
                        .arg(t(tMs), messageId)
                        .arg(m.nacks)
                        .arg(gap)
                        .arg(m.lastRetryGapMs),
                    QStringLiteral("CCS asks for a growing (exponential) back-off between retries."));
            } else if (m.ttlMs >= 0 && tMs > m.firstMs + m.ttlMs) {
                fail(Retry,
                    QStringLiteral("connection %1, %2: message %3 retried after its time_to_live (%4 ms)")
                        .arg(connection)
                        .arg(t(tMs), messageId)
                        .arg(m.ttlMs),
                    QStringLiteral("CCS would have delivered a message the app server had declared stale."));
            }
            m.lastRetryGapMs = gap;
        }
        break;
    case MsgState::Pending:
        if (m.resendPending) {
            m.resendPending = false;
            ++m_resendsSeen;
        } else if (!m.answered) {
            fail(UniqueIds,
                QStringLiteral("connection %1, %2: message_id %3 sent again while un-answered (first on "
                               "connection %4)")
                    .arg(connection)
                    .arg(t(tMs), messageId)
                    .arg(m.connection),
                QStringLiteral("CCS would have treated both as one message id: one of them would be lost or "
                               "delivered twice."));
        }
        break;
    case MsgState::Acked:
        if (m.mayRepeat) {
            m.mayRepeat = false;
        } else {
            fail(UniqueIds,
                QStringLiteral("connection %1, %2: message_id %3 used again; it was ACKed at %4 (first sent "
                               "to %5)")
                    .arg(connection)
                    .arg(t(tMs), messageId, t(m.answeredMs), m.to),
                QStringLiteral(
                    "CCS would have taken it as the same message: the device would get it twice or "
                    "not at all."));
        }
        break;
    case MsgState::Draining:
    case MsgState::Invalid:
        break;
    }
    m.connection = connection;
    m.lastMs = tMs;
    m.answered = false;
    m.state = MsgState::Pending;
}

void ConformanceGrader::downstreamJudged(int connection, qint64 tMs, const QString &messageId,
    const QString &to, bool nack, NackCode code, bool stanzaError, const QString &description)
{
    exercise(ValidJson);
    ++m_judged;
    if (stanzaError || (nack && code == NackCode::InvalidJson)) {
        if (Message *m = messageId.isEmpty() ? nullptr : findMessage(messageId))
            m->state = stanzaError ? MsgState::Invalid : MsgState::Pending;
        fail(ValidJson,
            QStringLiteral("connection %1, %2: message %3: %4")
                .arg(connection)
                .arg(
                    t(tMs), messageId.isEmpty() ? QStringLiteral("(no message_id)") : messageId, description),
            stanzaError ? QStringLiteral("CCS would have answered with a stanza error: never delivered.")
                        : QStringLiteral("CCS would have NACKed it INVALID_JSON: never delivered."));
    }
    if (nack && code == NackCode::DeviceUnregistered)
        m_unregisterPending.insert(messageId, to);
}

void ConformanceGrader::answerWritten(
    int connection, qint64 tMs, const QString &messageId, bool countsPending, bool nack, NackCode code)
{
    if (!countsPending)
        return; // BAD_ACK: an answer to an ACK, not to a message
    if (Conn *c = conn(connection))
        c->pending = std::max(0, c->pending - 1);
    Message *found = messageId.isEmpty() ? nullptr : findMessage(messageId);
    if (!found)
        return;
    Message &m = *found;
    m.answered = true;
    m.answeredMs = tMs;
    if (!nack) {
        ++m_acks;
        if (m.state != MsgState::Invalid)
            m.state = MsgState::Acked;
        return;
    }
    ++m_nacks;
    switch (NackCatalogue::retryClass(code)) {
    case RetryClass::Never:
        m.state = MsgState::FinalNack;
        if (code != NackCode::BadAck) {
            exercise(FinalNack);
            ++m_finalNacks;
        }
        if (code == NackCode::DeviceUnregistered) {
            const QString token = m_unregisterPending.take(messageId);
            if (!token.isEmpty() && !m_unregistered.contains(token))
                m_unregistered.insert(token, tMs);
        }
        break;
    case RetryClass::Backoff:
        exercise(Retry);
        m.state = MsgState::Retryable;
        ++m.nacks;
        m.lastNackMs = tMs;
        m.retryPending = true;
        m_retryIds.append(messageId);
        break;
    default: // CONNECTION_DRAINING (at once, elsewhere), rate exceeded (later): any resend is fine
        m.state = MsgState::Draining;
        break;
    }
}

void ConformanceGrader::upstreamDelivered(
    int connection, qint64 tMs, const QString &from, const QString &messageId, bool isReceipt, int copies)
{
    Conn *c = conn(connection);
    if (isReceipt)
        m_receipts += copies;
    else
        m_upstream += copies;
    exercise(isReceipt ? AckReceipt : AckUpstream);
    Outstanding o;
    o.connection = connection;
    o.deliveredMs = tMs;
    o.isReceipt = isReceipt;
    o.duringDrain = c && c->draining;
    o.copies = copies;
    m_outstanding.insert(key(from, messageId), o);
}

void ConformanceGrader::ackReceived(
    int connection, qint64 tMs, const QString &to, const QString &messageId, bool matched)
{
    ++m_acksReceived;
    if (matched) {
        const auto it = m_outstanding.find(key(to, messageId));
        if (it == m_outstanding.end())
            return;
        const qint64 latency = tMs - it->deliveredMs;
        if (latency > m_scenario.ackTimeoutMs) {
            const Rule rule = it->duringDrain ? Drain : it->isReceipt ? AckReceipt : AckUpstream;
            fail(rule,
                QStringLiteral("connection %1, %2: %3 from %4 ACKed %5 ms after delivery")
                    .arg(connection)
                    .arg(t(tMs), messageId, to)
                    .arg(latency),
                QStringLiteral(
                    "CCS holds un-ACKed messages against the connection and stops sending upstream "
                    "to it."));
        }
        m_maxAckLatencyMs = std::max(m_maxAckLatencyMs, latency);
        if (it->duringDrain)
            ++m_drainAcked;
        if (it->isReceipt)
            ++m_receiptsAcked;
        else
            ++m_upstreamAcked;
        if (--it->copies <= 0)
            m_outstanding.erase(it);
        return;
    }
    ++m_badAcks;
    const QString ackText
        = QStringLiteral("{\"to\":\"%1\",\"message_id\":\"%2\",\"message_type\":\"ack\"}").arg(to, messageId);
    const auto elsewhere = m_outstanding.constFind(key(to, messageId));
    if (elsewhere != m_outstanding.constEnd() && elsewhere->connection != connection) {
        fail(elsewhere->isReceipt ? AckReceipt : AckUpstream,
            QStringLiteral("connection %1, %2: ACK %3 for a message delivered on connection %4")
                .arg(connection)
                .arg(t(tMs), ackText)
                .arg(elsewhere->connection),
            QStringLiteral("CCS would have answered BAD_ACK and delivered the message again: ACKs are valid "
                           "only on their own connection."));
        return;
    }
    if (m_outstanding.contains(key(QLatin1String(kReceiptFrom), QStringLiteral("dr2:") + messageId))) {
        fail(AckReceipt,
            QStringLiteral("connection %1, %2: ACK %3 names a receipt without its dr2: prefix")
                .arg(connection)
                .arg(t(tMs), ackText),
            QStringLiteral("CCS would have answered BAD_ACK and delivered the receipt again on the next "
                           "connection."));
        return;
    }
    const bool receiptLike = to == QLatin1String(kReceiptFrom) || messageId.startsWith(QLatin1String("dr2:"));
    fail(receiptLike ? AckReceipt : AckUpstream,
        QStringLiteral("connection %1, %2: ACK %3 matches nothing delivered on this connection")
            .arg(connection)
            .arg(t(tMs), ackText),
        QStringLiteral("CCS would have answered BAD_ACK."));
}

void ConformanceGrader::drainSent(int connection, qint64 tMs)
{
    ++m_drains;
    exercise(Drain);
    Conn *c = conn(connection);
    if (!c)
        return;
    c->draining = true;
    c->drainMs = tMs;
    m_lastScriptedMs = tMs;
    if (!otherBoundConnection(connection, c->senderId))
        m_drainWaits.push_back({connection, tMs});
}

ScenarioAction ConformanceGrader::scenarioAction(int connection, const QString &messageId, const QString &to)
{
    Q_UNUSED(connection)
    ScenarioAction a;
    Message *found = messageId.isEmpty() ? nullptr : findMessage(messageId);
    if (!found)
        return a;
    Message &m = *found;
    if (m.retryTarget) {
        if (m.nacks < m_scenario.retryableRepeats) {
            a.nack = true;
            a.nackCode = m.retryCode;
            m_lastScriptedMs = m.lastMs;
        }
        return a;
    }
    if (messageId == m_badRegistrationId) {
        // Its token is the bad one whenever it comes: a resend after its NACK was
        // lost with a closed connection gets BAD_REGISTRATION too, as from CCS.
        a.nack = true;
        a.nackCode = NackCode::BadRegistration;
        m_lastScriptedMs = m.lastMs;
        return a;
    }
    if (m.receptions != 1)
        return a;
    const int seq = m.sequence;
    const ConformanceScenario &s = m_scenario;
    if (s.upstreamEvery > 0 && (seq == 1 || seq % s.upstreamEvery == 0))
        a.upstream = seq == 1 ? 3 : 2;
    if (s.dropAt > 0 && seq == s.dropAt) {
        a.dropNow = true;
        a.upstream = std::max(a.upstream, 1);
        m_dropDone = true;
        m_lastScriptedMs = m.lastMs;
        return a;
    }
    const bool token = !to.isEmpty() && !to.startsWith(QLatin1String("/topics/"));
    // DEVICE_UNREGISTERED never hits the first token the server used: one
    // device going away must not end the traffic the scenario needs.
    if (token && m_firstToken.isEmpty())
        m_firstToken = to;
    if (s.retryableEvery > 0 && seq % s.retryableEvery == s.retryableEvery / 2) {
        m.retryTarget = true;
        m.retryCode
            = (m_retryableGiven++ % 2) == 0 ? NackCode::ServiceUnavailable : NackCode::InternalServerError;
        a.nack = true;
        a.nackCode = m.retryCode;
    } else if (!m_badRegistrationDone && s.badRegistrationAt > 0 && seq >= s.badRegistrationAt && token) {
        m_badRegistrationDone = true;
        m_badRegistrationId = messageId;
        a.nack = true;
        a.nackCode = NackCode::BadRegistration;
    } else if (!m_unregisterDone && s.unregisterAt > 0 && seq >= s.unregisterAt && token
        && to != m_firstToken) {
        bool known = false;
        for (const DeviceStatus &d : m_server->devices())
            known = known || (d.spec.token == to && d.spec.kind == DeviceKind::Registered);
        if (known) {
            m_unregisterDone = true;
            a.nack = true;
            a.nackCode = NackCode::DeviceUnregistered;
            a.unregisterToken = true;
        }
    }
    if (a.nack)
        m_lastScriptedMs = m.lastMs;
    if (!m_drainDone && s.drainAt > 0 && seq >= s.drainAt && !a.nack) {
        a.drainAfter = true;
        a.upstream = std::max(a.upstream, 2); // something in the draining connection's pipeline
        m_drainDone = true;
    }
    return a;
}

// --- deadlines ----------------------------------------------------------------

void ConformanceGrader::tick()
{
    if (m_finished)
        return;
    const qint64 now = m_server->elapsedMs();
    for (auto it = m_outstanding.begin(); it != m_outstanding.end();) {
        const Conn *c = conn(it->connection);
        if (c && c->open && now - it->deliveredMs > m_scenario.ackTimeoutMs) {
            const QString id = it.key().mid(it.key().indexOf(QChar(u'\0')) + 1);
            const Rule rule = it->duringDrain ? Drain : it->isReceipt ? AckReceipt : AckUpstream;
            fail(rule,
                QStringLiteral("connection %1: %2 %3 delivered at %4 not ACKed within %5 ms")
                    .arg(it->connection)
                    .arg(it->isReceipt ? QStringLiteral("receipt") : QStringLiteral("upstream message"), id,
                        t(it->deliveredMs))
                    .arg(m_scenario.ackTimeoutMs),
                rule == Drain
                    ? QStringLiteral("CCS would have closed the draining connection with it un-ACKed "
                                     "and delivered it again elsewhere.")
                    : QStringLiteral("CCS would have delivered it again on the next connection and "
                                     "stopped sending upstream messages to one that does not ACK."));
            it = m_outstanding.erase(it);
        } else {
            ++it;
        }
    }
    for (auto w = m_reconnectWaits.begin(); w != m_reconnectWaits.end();) {
        if (now - w->sinceMs > m_scenario.reconnectMs) {
            fail(Reconnect,
                QStringLiteral("connection %1 ended at %2; no new connection within %3 ms")
                    .arg(w->connection)
                    .arg(t(w->sinceMs))
                    .arg(m_scenario.reconnectMs),
                QStringLiteral("With CCS the app server would have had no connection: nothing sent, upstream "
                               "messages waiting."));
            w = m_reconnectWaits.erase(w);
        } else {
            ++w;
        }
    }
    for (auto w = m_drainWaits.begin(); w != m_drainWaits.end();) {
        if (now - w->sinceMs > m_scenario.drainReconnectMs) {
            fail(Drain,
                QStringLiteral("connection %1 drained at %2; no new connection within %3 ms")
                    .arg(w->connection)
                    .arg(t(w->sinceMs))
                    .arg(m_scenario.drainReconnectMs),
                QStringLiteral(
                    "CCS would have closed the draining connection and left the app server without "
                    "one."));
            w = m_drainWaits.erase(w);
        } else {
            ++w;
        }
    }
    int lost = 0;
    QStringList lostIds;
    int lostFrom = 0;
    for (qsizetype i = 0; i < m_resendIds.size();) {
        const auto it = m_messages.find(m_resendIds.at(i));
        if (it == m_messages.end() || !it->resendPending || m_unregistered.contains(it->to)) {
            if (it != m_messages.end())
                it->resendPending = false;
            m_resendIds.removeAt(i);
            continue;
        }
        if (now - it->resendSinceMs > m_scenario.resendTimeoutMs) {
            it->resendPending = false;
            ++lost;
            lostFrom = it->resendFrom;
            if (lostIds.size() < 5)
                lostIds.append(it.key());
            m_resendIds.removeAt(i);
            continue;
        }
        ++i;
    }
    if (lost > 0)
        fail(Resend,
            QStringLiteral(
                "%1 message(s) pending on connection %2 when it closed never sent again within %3 ms "
                "(%4)")
                .arg(lost)
                .arg(lostFrom)
                .arg(m_scenario.resendTimeoutMs)
                .arg(lostIds.join(QStringLiteral(", "))),
            QStringLiteral(
                "CCS never answered these: with CCS these %1 pending messages would have been lost.")
                .arg(lost));
    for (qsizetype i = 0; i < m_retryIds.size();) {
        const auto it = m_messages.find(m_retryIds.at(i));
        // A message to a token CCS unregistered meanwhile is rightly never retried.
        if (it == m_messages.end() || !it->retryPending || m_unregistered.contains(it->to)) {
            if (it != m_messages.end())
                it->retryPending = false;
            m_retryIds.removeAt(i);
            continue;
        }
        if (now - it->lastNackMs > m_scenario.retryDeadlineMs) {
            it->retryPending = false;
            const bool couldRetry
                = it->ttlMs < 0 || it->lastNackMs + m_scenario.minRetryDelayMs < it->firstMs + it->ttlMs;
            if (couldRetry)
                fail(Retry,
                    QStringLiteral("message %1 NACKed retryable at %2 (NACK %3) never retried within %4 ms")
                        .arg(it.key(), t(it->lastNackMs))
                        .arg(it->nacks)
                        .arg(m_scenario.retryDeadlineMs),
                    QStringLiteral("CCS asks for a retry with back-off: this message was lost."));
            m_retryIds.removeAt(i);
            continue;
        }
        ++i;
    }
    checkScenarioDone();
}

void ConformanceGrader::checkScenarioDone()
{
    if (allSettled())
        return;
    const qint64 now = m_server->elapsedMs();
    const bool played = m_sequence >= m_lastScripted && (m_scenario.drainAt <= 0 || m_drainDone)
        && (m_scenario.dropAt <= 0 || m_dropDone);
    const bool obligations = !m_outstanding.isEmpty() || !m_reconnectWaits.empty() || !m_drainWaits.empty()
        || !m_resendIds.isEmpty() || !m_retryIds.isEmpty();
    if (!played || obligations || now - m_lastScriptedMs < 3000)
        return;
    for (int i = 0; i < RuleCount; ++i) {
        if (m_rules[i].settled)
            continue;
        settle(Rule(i), m_exercised[i] ? Status::Pass : Status::NotExercised,
            m_exercised[i] ? QStringLiteral("the scenario played out with no violation")
                           : QStringLiteral("the app server's traffic never exercised it"));
    }
}

void ConformanceGrader::finish()
{
    if (m_finished)
        return;
    tick();
    m_finished = true;
    m_tick.stop();
    for (int i = 0; i < RuleCount; ++i) {
        if (m_rules[i].settled)
            continue;
        settle(Rule(i), m_exercised[i] ? Status::Pass : Status::NotExercised,
            m_exercised[i] ? QStringLiteral("no violation seen before the run ended")
                           : QStringLiteral("the app server's traffic never exercised it"));
    }
}

} // namespace ccs::emulator

// Its own moc object: what links the client alone does not pull in the emulator.
#include "moc_ConformanceGrader.cpp"
