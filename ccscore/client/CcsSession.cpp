#include "CcsSession.h"

#include "CcsConnection_p.h"
#include "ClientLog_p.h"
#include "DeduplicationSet_p.h"
#include "ReconnectBackoff_p.h"
#include "RetrySchedule_p.h"
#include "SessionClock_p.h"
#include "protocol/JsonCodec.h"
#include "protocol/MessageIdGenerator.h"
#include "protocol/Stanza.h"
#include "xmpp/StanzaWriter_p.h"

#include <QDateTime>
#include <QHash>
#include <QMetaMethod>
#include <QPointer>
#include <QScopeGuard>
#include <QSet>
#include <QTimer>

#include <algorithm>
#include <deque>
#include <vector>

Q_LOGGING_CATEGORY(lcCcsCore, "ccs.core")

namespace ccs {

namespace {
// The wall clock: for what is shown and exported (and the de-duplication record).
// Deadlines and durations use the session's monotonic clock (Private::steadyMs).
qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

// Connections kept open while draining (at least settings.connectionCount).
constexpr int kMaxDrainingConnections = 4;

template<class... Ts> struct overloaded : Ts... {
    using Ts::operator()...;
};
template<class... Ts> overloaded(Ts...) -> overloaded<Ts...>;
} // namespace

class CcsSession::Private
{
public:
    explicit Private(CcsSession *q)
        : q(q)
        , ledger(new MessageLedger(q))
    {
        retryTimer.setSingleShot(true);
        reconnectTimer.setSingleShot(true);
        ttlTimer.setSingleShot(true);
        QObject::connect(&retryTimer, &QTimer::timeout, q, [this] { onRetryTimer(); });
        QObject::connect(&ttlTimer, &QTimer::timeout, q, [this] { onTtlTimer(); });
        useClock(&steadyClock);
        QObject::connect(&reconnectTimer, &QTimer::timeout, q, [this] { ensureConnections(); });
        QObject::connect(&answerTimer, &QTimer::timeout, q, [this] { checkAnswers(); });
        // A held receipt belongs to its ledger row; it goes when the row can no longer be ACKed.
        QObject::connect(ledger, &MessageLedger::cleared, q, [this] {
            earlyReceipts.clear();
            live.clear();
            expiries.clear();
            ttlTimer.stop();
        });
        QObject::connect(
            ledger, &MessageLedger::entryChanged, q, [this](int index, MessageState, MessageState to) {
                noteTransition(index, to); // a finished message leaves `live`, its JSON with it
                if (!isTerminal(to))
                    return;
                if (!earlyReceipts.isEmpty() && to != MessageState::Acked)
                    earlyReceipts.remove(index);
            });
    }

    CcsSession *q;
    ConnectionSettings settings;
    MessageLedger *ledger;
    std::vector<std::unique_ptr<CcsConnection>> connections;
    std::vector<std::unique_ptr<CcsConnection>> closing; // after close(), until their streams end
    std::deque<int> queue; // ledger indices; entries no longer Queued are skipped when popped
    RetrySchedule retries;
    QTimer retryTimer;
    QTimer reconnectTimer;
    QTimer answerTimer; // repeating while open: see checkAnswers()
    QTimer ttlTimer; // the next time_to_live deadline of a message not in flight
    qint64 ttlTimerDueMs = 0; // when ttlTimer, if active, fires (steady clock)
    SteadyClock steadyClock;
    SessionClock *clock = nullptr; // steadyClock unless a test set another
    QMetaObject::Connection clockConnection;
    // What the session keeps of each unfinished message, by ledger index: monotonic
    // times (clock) for deadlines (the ledger's own times are wall-clock) and its stanza.
    struct Live {
        qint64 queuedAtSteady = 0; // when send() accepted it: time_to_live counts from here
        qint64 inFlightSince = -1; // when it was last written: the answer timeout counts from here
        QByteArray wire; // its stanza, as it goes on the wire: built once, by send()
        bool present = false;
    };
    // Indices are handed out in order and messages mostly finish in order, so the
    // unfinished ones are kept in a deque from the oldest of them on: a lookup is an
    // offset, not a hash (every message is looked up several times on its way).
    // A message that never finishes keeps the slots of those after it (a few dozen
    // bytes each) until it does.
    class LiveTable
    {
    public:
        Live *find(int index)
        {
            const qsizetype at = qsizetype(index) - m_base;
            return at >= 0 && at < qsizetype(m_slots.size()) && m_slots[size_t(at)].present
                ? &m_slots[size_t(at)]
                : nullptr;
        }
        const Live *find(int index) const { return const_cast<LiveTable *>(this)->find(index); }
        Live &insert(int index, Live live)
        {
            if (m_slots.empty())
                m_base = index;
            for (; index < m_base; --m_base)
                m_slots.emplace_front();
            const size_t at = size_t(index - m_base);
            if (at >= m_slots.size())
                m_slots.resize(at + 1);
            Live &slot = m_slots[at];
            if (!slot.present)
                ++m_count;
            slot = std::move(live);
            slot.present = true;
            return slot;
        }
        void remove(int index)
        {
            Live *live = find(index);
            if (!live)
                return;
            *live = Live {};
            --m_count;
            while (!m_slots.empty() && !m_slots.front().present) {
                m_slots.pop_front();
                ++m_base;
            }
        }
        void clear()
        {
            m_slots.clear();
            m_count = 0;
        }
        int size() const { return m_count; }
        template<class F> void forEach(F f) const
        {
            for (size_t i = 0; i < m_slots.size(); ++i)
                if (m_slots[i].present)
                    f(m_base + int(i), m_slots[i]);
        }

    private:
        std::deque<Live> m_slots; // ledger index m_base + i
        int m_base = 0;
        int m_count = 0;
    };
    LiveTable live;
    RetrySchedule expiries; // time_to_live deadlines (+1 ms), earliest first
    QHash<int, QString> earlyReceipts; // ledger index -> message_status of a receipt that came before the ACK
    // Tokens CCS answered DEVICE_UNREGISTERED for: never used again this session
    // (what is still queued for them ends as that NACK without being sent).
    QSet<QString> unregisteredTokens;
    DeduplicationSet seen;
    ReconnectBackoff backoff;
    SessionState state = SessionState::Disconnected;
    SessionError lastError = SessionError::None;
    QString lastErrorString;
    int nextConnectionId = 1;
    bool open = false;
    bool stopped = false; // an error the user must fix (credentials, certificate)
    bool everConnected = false;

    qint64 steadyMs() const { return clock->nowMs(); }

    // Copies of one message (ccsctl send --count, Send copies) differ only in their
    // message_id, the one field whose validity does not depend on its value once it is a
    // non-empty string. The last valid message is kept without its id, with its stanza
    // cut around the id: a copy is checked by comparing and written by splicing, instead
    // of being mapped to a QJsonObject, validated, serialized and escaped again.
    DownstreamMessage lastShape; // messageId empty
    stanza::GcmCopies lastShapeStanzas;
    bool haveLastShape = false;

    bool copyOfLastShape(DownstreamMessage &message, QByteArray *stanza) const
    {
        if (!haveLastShape || message.messageId.isEmpty())
            return false;
        QString id;
        std::swap(id, message.messageId);
        const bool same = message == lastShape;
        std::swap(id, message.messageId);
        if (!same)
            return false;
        *stanza = lastShapeStanzas.stanza(message.messageId);
        return true;
    }

    void rememberShape(const DownstreamMessage &message, const QJsonObject &valid)
    {
        QByteArray before, after;
        haveLastShape = json::serializeAround(valid, QLatin1StringView("message_id"), &before, &after);
        if (haveLastShape) {
            lastShapeStanzas = stanza::GcmCopies(before, after);
            lastShape = message;
            lastShape.messageId.clear();
        }
    }

    void useClock(SessionClock *next)
    {
        QObject::disconnect(clockConnection);
        clock = next;
        // A clock moved by hand (tests): whatever fell due meanwhile happens now.
        clockConnection = QObject::connect(clock, &SessionClock::advanced, q, [this] {
            onTtlTimer();
            onRetryTimer();
            checkAnswers();
        });
    }

    // time_to_live counts from when send() accepted the message, on the monotonic clock.
    // 0 means "now or never" (as CCS has it): no deadline while it waits for its first
    // write (CCS's "now" is when it gets it), and never a retry after a NACK.
    std::optional<qint64> ttlDeadline(int index) const
    {
        const qint64 ttl = ledger->at(index).message.effectiveTimeToLive();
        if (ttl <= 0)
            return std::nullopt;
        const Live *found = live.find(index); // the clock is read only when not found
        return (found ? found->queuedAtSteady : steadyMs()) + ttl * 1000;
    }

    void noteQueued(int index, QByteArray stanza)
    {
        live.insert(index, Live {steadyMs(), -1, std::move(stanza), true});
        if (const auto deadline = ttlDeadline(index)) {
            expiries.schedule(*deadline + 1, index); // expired once the deadline has passed
            // Most deadlines come after the one the timer waits for (they are as long as
            // the message before's, and later): that timer stays as it is.
            if (!ttlTimer.isActive() || *deadline + 1 < ttlTimerDueMs)
                armTtlTimer();
        }
    }

    void noteTransition(int index, MessageState to)
    {
        if (to == MessageState::InFlight) {
            const qint64 now = steadyMs();
            Live *found = live.find(index);
            if (!found)
                found = &live.insert(index, Live {now, -1, {}, true});
            found->inFlightSince = now;
        } else if (isTerminal(to)) {
            live.remove(index);
            // Deadlines of finished messages stay in the schedule until they fall due (four
            // weeks by default): rebuilt from the live ones when they are most of it.
            if (expiries.size() > 1024 && expiries.size() > 2 * live.size())
                rebuildExpiries();
        } else if (to == MessageState::Queued) {
            // Back from a connection that ended after its deadline passed: expire it now,
            // connected or not (its deadline left the schedule while it was in flight).
            const auto deadline = ttlDeadline(index);
            if (deadline && steadyMs() > *deadline) {
                expiries.schedule(*deadline + 1, index);
                armTtlTimer();
            }
        }
    }

    void rebuildExpiries()
    {
        expiries.clear();
        live.forEach([this](int index, const Live &) {
            if (const auto deadline = ttlDeadline(index))
                expiries.schedule(*deadline + 1, index);
        });
        armTtlTimer();
    }

    void armTtlTimer()
    {
        const auto next = expiries.nextDueMs();
        if (!next) {
            ttlTimer.stop();
            return;
        }
        const qint64 now = steadyMs();
        const qint64 wait = std::max<qint64>(0, *next - now);
        if (!ttlTimer.isActive() || ttlTimer.remainingTime() > wait) {
            const qint64 interval = std::min<qint64>(wait, 24 * 3600 * 1000);
            ttlTimer.start(int(interval));
            ttlTimerDueMs = now + interval;
        }
    }

    // Messages whose time_to_live ran out while queued or waiting to retry expire on
    // time, whether or not a connection is up. One in flight is the server's to answer.
    void onTtlTimer()
    {
        const std::vector<int> due = expiries.takeDue(steadyMs());
        for (const int index : due) {
            if (index >= ledger->size())
                continue;
            const MessageState state = ledger->at(index).state;
            if (state == MessageState::Queued)
                ledger->transition(
                    index, MessageState::Expired, 0, QStringLiteral("time_to_live ran out in the queue"));
            else if (state == MessageState::RetryWaiting)
                ledger->transition(index, MessageState::Expired, 0,
                    QStringLiteral("time_to_live ran out while waiting to retry"));
        }
        armTtlTimer();
    }

    bool trafficWanted() const
    {
        static const QMetaMethod signal = QMetaMethod::fromSignal(&CcsSession::trafficLogged);
        return q->isSignalConnected(signal);
    }

    void updateTraffic()
    {
        const bool wanted = trafficWanted();
        for (const auto &c : connections)
            c->setTrafficEnabled(wanted);
    }

    CcsConnection *find(int id) const
    {
        for (const auto &c : connections)
            if (c->id() == id)
                return c.get();
        return nullptr;
    }

    int activeCount() const
    {
        return int(std::count_if(
            connections.begin(), connections.end(), [](const auto &c) { return !c->isDraining(); }));
    }

    void ensureConnections()
    {
        if (!open || stopped || reconnectTimer.isActive())
            return;
        const int wanted = std::max(1, settings.connectionCount);
        bool opened = false;
        while (activeCount() < wanted) {
            openConnection();
            opened = true;
        }
        if (opened)
            updateState();
    }

    void openConnection()
    {
        auto connection = std::make_unique<CcsConnection>(nextConnectionId++, settings);
        CcsConnection *c = connection.get();
        c->setTrafficEnabled(trafficWanted());
        const int id = c->id();
        QObject::connect(c, &CcsConnection::encrypted, q, [this] { updateState(); });
        QObject::connect(c, &CcsConnection::authenticated, q, [this] { onAuthenticated(); });
        // Direct: the JSON is a view into the connection's read buffer, valid during the call.
        QObject::connect(
            c, &CcsConnection::gcmReceived, q, [this, c](QByteArrayView json) { onGcm(c, json); },
            Qt::DirectConnection);
        QObject::connect(c, &CcsConnection::stanzaErrorReceived, q,
            [this, c](const StanzaError &error) { onStanzaError(c, error); });
        QObject::connect(c, &CcsConnection::finished, q,
            [this, id](SessionError error, const QString &message, bool wasAuthenticated) {
                onFinished(id, error, message, wasAuthenticated);
            });
        QObject::connect(
            c, &CcsConnection::trafficLogged, q, [this, id](TrafficDirection direction, const QString &xml) {
                Q_EMIT q->trafficLogged(direction, id, xml);
            });
        connections.push_back(std::move(connection));
        qCDebug(lcCcsCore) << "opening connection" << id;
        c->open();
        Q_EMIT q->connectionsChanged();
    }

    void onAuthenticated()
    {
        backoff.reset();
        everConnected = true;
        lastError = SessionError::None;
        lastErrorString.clear();
        updateState();
        Q_EMIT q->connectionsChanged();
        pump();
    }

    // Fills the windows of the authenticated, non-draining connections from the queue.
    void pump()
    {
        if (queue.empty())
            return;
        const int window = effectiveWindow(settings);
        const qint64 now = steadyMs();
        std::vector<int> notSent; // for a token CCS unregistered: they end as that NACK
        const auto finishNotSent = qScopeGuard([&] {
            if (notSent.empty())
                return;
            // Later, from the event loop: a terminal transition may end the
            // session's user (ccsctl quits when every message has an outcome).
            QTimer::singleShot(0, q, [this, notSent] {
                const QPointer<CcsSession> alive(q);
                for (const int index : notSent) {
                    if (!alive)
                        return;
                    if (ledger->at(index).state != MessageState::Queued)
                        continue;
                    LedgerEntry &e = ledger->entryForUpdate(index);
                    e.nackCode = NackCode::DeviceUnregistered;
                    e.nackText = NackCatalogue::name(NackCode::DeviceUnregistered);
                    e.errorDescription = QStringLiteral("Device unregistered: %1 (not sent: CCS unregistered "
                                                        "this token earlier in the session)")
                                             .arg(e.message.to);
                    ledger->transition(index, MessageState::Nacked, 0, e.nackText);
                }
            });
        });
        for (const auto &c : connections) {
            if (!c->isAuthenticated() || c->isDraining())
                continue;
            while (c->pendingCount() < window && !queue.empty()) {
                const int index = queue.front();
                queue.pop_front();
                const LedgerEntry &entry = ledger->at(index);
                if (entry.state != MessageState::Queued)
                    continue; // cancelled while queued
                if (!unregisteredTokens.isEmpty() && unregisteredTokens.contains(entry.message.to)) {
                    notSent.push_back(index);
                    continue;
                }
                if (const auto deadline = ttlDeadline(index); deadline && now > *deadline) {
                    ledger->transition(
                        index, MessageState::Expired, 0, QStringLiteral("time_to_live ran out in the queue"));
                    continue;
                }
                const Live *cached = live.find(index);
                const QByteArray stanza = cached && !cached->wire.isEmpty()
                    ? cached->wire
                    : xmpp::writer::gcmMessage(entry.message.messageId, entry.message.toJsonBytes());
                if (!c->writeStanza(stanza)) {
                    queue.push_front(index);
                    break;
                }
                c->m_pending.insert(entry.message.messageId, index);
                ledger->transition(index, MessageState::InFlight, c->id());
            }
            if (queue.empty())
                break;
        }
    }

    void sendAck(CcsConnection *c, const QString &to, const QString &messageId)
    {
        // ACKs bypass the window, and are valid only on the connection the message came on.
        c->writeGcm(QString(), json::serializeAck(Ack::forUpstream(to, messageId)));
    }

    void onGcm(CcsConnection *c, QByteArrayView json)
    {
        const ServerMessage message = json::parseServerMessage(json);
        std::visit(overloaded {
                       [&](const ParseError &error) {
                           qCWarning(lcCcsCore)
                               << "connection" << c->id() << "unreadable CCS message:" << error.message;
                       },
                       [&](const UpstreamMessage &upstream) { onUpstream(c, upstream); },
                       [&](const Ack &ack) { onAck(c, ack); },
                       [&](const Nack &nack) { onNack(c, nack); },
                       [&](const Receipt &receipt) { onReceipt(c, receipt); },
                       [&](const Control &control) {
                           if (control.isConnectionDraining())
                               startDraining(c);
                           else
                               qCInfo(lcCcsCore) << "ignored control" << control.controlType;
                       },
                       [&](const UnknownMessage &unknown) {
                           qCInfo(lcCcsCore) << "ignored message_type" << unknown.messageType;
                       },
                   },
            message);
    }

    void onAck(CcsConnection *c, const Ack &ack)
    {
        const auto it = c->pending().constFind(ack.messageId);
        if (it == c->pending().constEnd()) {
            qCInfo(lcCcsCore) << "connection" << c->id()
                              << "ACK for a message not pending here:" << ack.messageId;
            return;
        }
        const int index = *it;
        c->m_pending.erase(it);
        if (ledger->at(index).state == MessageState::InFlight) {
            const bool receiptHeld = earlyReceipts.contains(index);
            const QString status = receiptHeld ? earlyReceipts.take(index) : QString();
            ledger->transition(index, MessageState::Acked, c->id());
            if (receiptHeld)
                ledger->transition(index, MessageState::Delivered, c->id(), status);
        }
        pump();
    }

    void onNack(CcsConnection *c, const Nack &nack)
    {
        const auto it = c->pending().constFind(nack.messageId);
        if (it == c->pending().constEnd()) {
            qCInfo(lcCcsCore) << "connection" << c->id()
                              << "NACK for a message not pending here:" << nack.messageId << nack.errorText;
            return;
        }
        const int index = *it;
        c->m_pending.erase(it);
        if (ledger->at(index).state != MessageState::InFlight) {
            pump();
            return;
        }
        LedgerEntry &entry = ledger->entryForUpdate(index);
        entry.nackCode = nack.code;
        entry.nackText = nack.errorText.isEmpty() ? NackCatalogue::name(nack.code) : nack.errorText;
        entry.errorDescription = nack.errorDescription;
        const RetryClass retryClass = NackCatalogue::retryClass(nack.code);
        const QString code = entry.nackText;

        if (retryClass == RetryClass::Never) {
            if (nack.code == NackCode::DeviceUnregistered && !entry.message.to.isEmpty())
                unregisteredTokens.insert(entry.message.to);
            ledger->transition(index, MessageState::Nacked, c->id(), code);
        } else if (retryClass == RetryClass::OtherConnection) {
            ++entry.retries;
            ledger->transition(index, MessageState::RetryWaiting, c->id(),
                QStringLiteral("%1: at once on another connection").arg(code));
            ledger->transition(index, MessageState::Queued, 0, QStringLiteral("retry %1").arg(entry.retries));
            queue.push_front(index);
            startDraining(c);
        } else if (entry.retries >= std::max(0, settings.maxRetries)) {
            ledger->transition(index, MessageState::Nacked, c->id(),
                QStringLiteral("%1 (gave up after %2 retries)").arg(code).arg(entry.retries));
        } else {
            const int attempt = ++entry.retries;
            const qint64 delay = NackCatalogue::retryDelay(retryClass, attempt).count();
            const qint64 due = steadyMs() + delay;
            const auto deadline = ttlDeadline(index);
            if (!deadline) { // time_to_live 0: now or never
                ledger->transition(index, MessageState::Expired, c->id(),
                    QStringLiteral("%1: time_to_live 0 (now or never) allows no retry").arg(code));
            } else if (due >= *deadline) { // a retry at the deadline would be too late
                ledger->transition(index, MessageState::Expired, c->id(),
                    QStringLiteral("%1: a retry in %2 ms would outlive time_to_live").arg(code).arg(delay));
            } else {
                ledger->transition(index, MessageState::RetryWaiting, c->id(),
                    QStringLiteral("%1: retry %2 in %3 ms").arg(code).arg(attempt).arg(delay));
                retries.schedule(due, index);
                armRetryTimer();
            }
        }
        pump();
    }

    void armRetryTimer()
    {
        const auto next = retries.nextDueMs();
        if (!next) {
            retryTimer.stop();
            return;
        }
        const qint64 wait = std::max<qint64>(0, *next - steadyMs());
        if (!retryTimer.isActive() || retryTimer.remainingTime() > wait)
            retryTimer.start(int(std::min<qint64>(wait, 24 * 3600 * 1000)));
    }

    void onRetryTimer()
    {
        const std::vector<int> due = retries.takeDue(steadyMs());
        // Pushed to the front in due order: they have waited longest.
        for (auto it = due.rbegin(); it != due.rend(); ++it) {
            const int index = *it;
            if (ledger->at(index).state != MessageState::RetryWaiting)
                continue; // cancelled meanwhile
            ledger->transition(
                index, MessageState::Queued, 0, QStringLiteral("retry %1").arg(ledger->at(index).retries));
            queue.push_front(index);
        }
        armRetryTimer();
        pump();
    }

    void onReceipt(CcsConnection *c, const Receipt &receipt)
    {
        sendAck(
            c, receipt.from.isEmpty() ? QString::fromLatin1(kGcmDomain) : receipt.from, receipt.messageId);
        // A receipt's identity is its dr2: id, whoever it names as sender.
        const int times = seen.see(receipt.messageId, nowMs());
        if (times > 1) {
            Q_EMIT q->duplicateReceived(receipt.from, receipt.messageId, times);
            return;
        }
        const int index = ledger->indexOf(receipt.originalMessageId);
        if (index >= 0) {
            // A receipt can overtake the ACK: a copy written on a connection that dropped (or
            // NACKed a later copy) reached the device while the message is in flight or waits to
            // be sent again. It is held, and the message becomes Delivered once it is ACKed,
            // so that Delivered always follows Acked and the resend still happens. A receipt
            // for a message never written anywhere cannot be genuine and is ignored.
            const LedgerEntry &entry = ledger->at(index);
            if (entry.state == MessageState::Acked) {
                ledger->transition(index, MessageState::Delivered, c->id(), receipt.messageStatus);
            } else if (!isTerminal(entry.state) && entry.attempts > 0) {
                earlyReceipts.insert(index, receipt.messageStatus);
            } else if (!isTerminal(entry.state)) {
                qCInfo(lcCcsCore) << "connection" << c->id() << "receipt for a message not sent yet:"
                                  << receipt.originalMessageId.left(80);
            }
        } else if (!receipt.originalMessageId.isEmpty()) {
            qCInfo(lcCcsCore) << "connection" << c->id()
                              << "receipt for a message not sent here:" << receipt.originalMessageId.left(80);
        }
        Q_EMIT q->receiptReceived(receipt, c->id());
    }

    void onUpstream(CcsConnection *c, const UpstreamMessage &upstream)
    {
        if (upstream.messageId.isEmpty()) {
            qCWarning(lcCcsCore) << "upstream message without message_id from" << upstream.from
                                 << "cannot be ACKed";
            Q_EMIT q->upstreamReceived(upstream, c->id(), 0);
            return;
        }
        sendAck(c, upstream.from, upstream.messageId);
        const qint64 ackedAt = nowMs();
        // Devices choose their own ids: the identity is (from, message_id).
        const int times = seen.see(DeduplicationSet::key(upstream.from, upstream.messageId), ackedAt);
        if (times > 1) {
            Q_EMIT q->duplicateReceived(upstream.from, upstream.messageId, times);
            return;
        }
        Q_EMIT q->upstreamReceived(upstream, c->id(), ackedAt);
    }

    void onStanzaError(CcsConnection *c, const StanzaError &error)
    {
        QString id = error.stanzaId;
        if (!c->pending().contains(id) && !error.gcmPayload.isEmpty()) {
            QJsonObject object;
            ParseError parseError;
            if (json::parseObject(error.gcmPayload.toUtf8(), &object, &parseError))
                id = object.value(QStringLiteral("message_id")).toString();
        }
        const auto it = c->pending().constFind(id);
        if (it == c->pending().constEnd()) {
            qCWarning(lcCcsCore) << "connection" << c->id()
                                 << "stanza error for no pending message:" << error.text;
            return;
        }
        const int index = *it;
        c->m_pending.erase(it);
        LedgerEntry &entry = ledger->entryForUpdate(index);
        entry.errorDescription = error.text;
        if (entry.state == MessageState::InFlight)
            ledger->transition(index, MessageState::Failed, c->id(), error.text);
        pump();
    }

    void startAnswerWatch()
    {
        if (settings.answerTimeoutMs > 0)
            answerTimer.start(std::clamp(settings.answerTimeoutMs / 6, 100, 5000));
        else
            answerTimer.stop();
    }

    // CCS answers every message with an ACK, a NACK or a stanza error. One that has waited
    // answerTimeoutMs means the connection is broken (the server lost it, or stalls): the
    // connection is ended, and what was pending on it is sent again on a new one, at once.
    void checkAnswers()
    {
        if (settings.answerTimeoutMs <= 0 || !open)
            return;
        const qint64 now = steadyMs();
        for (const auto &c : connections) {
            if (!c->isAuthenticated() || c->pending().isEmpty())
                continue;
            qint64 oldest = now;
            QString oldestId;
            for (auto it = c->pending().cbegin(); it != c->pending().cend(); ++it) {
                const LedgerEntry &entry = ledger->at(*it);
                if (entry.state != MessageState::InFlight)
                    continue; // no longer waiting (cancelled or answered some other way)
                const Live *found = live.find(*it);
                const qint64 since = found && found->inFlightSince >= 0 ? found->inFlightSince : now;
                if (since < oldest) {
                    oldest = since;
                    oldestId = it.key();
                }
            }
            if (now - oldest < settings.answerTimeoutMs)
                continue;
            c->abort(SessionError::Timeout,
                CcsSession::tr("%1:%2 has not answered message %3 for %4 s; reconnecting to send the %5 "
                               "pending message(s) again.")
                    .arg(settings.host)
                    .arg(settings.port)
                    .arg(oldestId.left(80))
                    .arg((now - oldest) / 1000)
                    .arg(c->pendingCount()));
        }
    }

    void startDraining(CcsConnection *c)
    {
        if (c->isDraining())
            return;
        qCInfo(lcCcsCore) << "connection" << c->id() << "is draining; opening another";
        c->m_draining = true;
        limitDraining();
        Q_EMIT q->connectionsChanged();
        ensureConnections();
        updateState();
    }

    // A draining connection stays open until the server closes it. One that drains every new
    // connection and closes none would make them pile up: beyond the limit the oldest is
    // closed by us (its pending messages go back to the queue when it has ended).
    void limitDraining()
    {
        const int limit = std::max(kMaxDrainingConnections, settings.connectionCount);
        int draining = 0;
        for (auto it = connections.rbegin(); it != connections.rend(); ++it) {
            CcsConnection *c = it->get();
            if (!c->isDraining() || c->isClosing())
                continue;
            if (++draining > limit) {
                qCWarning(lcCcsCore) << "connection" << c->id() << "closed: more than" << limit
                                     << "connections are draining";
                c->close();
            }
        }
    }

    // Whatever was pending goes back to the front of the queue, in the order it was accepted.
    void requeuePending(CcsConnection *c, const QString &why)
    {
        std::vector<int> indices(c->pending().cbegin(), c->pending().cend());
        c->m_pending.clear();
        std::sort(indices.begin(), indices.end());
        for (auto it = indices.rbegin(); it != indices.rend(); ++it) {
            if (ledger->at(*it).state != MessageState::InFlight)
                continue;
            ledger->transition(*it, MessageState::Queued, c->id(), why);
            queue.push_front(*it);
        }
    }

    void onFinished(int id, SessionError error, const QString &message, bool wasAuthenticated)
    {
        auto it = std::find_if(
            connections.begin(), connections.end(), [id](const auto &c) { return c->id() == id; });
        if (it == connections.end())
            return;
        std::unique_ptr<CcsConnection> connection = std::move(*it);
        connections.erase(it);
        const bool wasDraining = connection->isDraining();
        requeuePending(connection.get(), QStringLiteral("connection %1 closed; sent again").arg(id));
        connection.release()->deleteLater(); // we are inside its signal
        qCInfo(lcCcsCore) << "connection" << id << "finished:" << sessionErrorName(error) << message;
        Q_EMIT q->connectionsChanged();

        if (open && !stopped) {
            if (wasAuthenticated) {
                // Lost after authentication: reopen at once (a draining one was replaced already).
                if (!wasDraining && error != SessionError::None)
                    setError(error, message, false);
                ensureConnections();
            } else if (error == SessionError::AuthenticationFailed || error == SessionError::TlsError) {
                // The user must act: wrong credentials, or a certificate that cannot be trusted.
                stopped = true;
                reconnectTimer.stop();
                for (const auto &other : connections)
                    other->close();
                setError(error, message, true);
            } else {
                const auto delay = backoff.nextDelay();
                qCInfo(lcCcsCore) << "connection failed before authentication; retrying in" << delay.count()
                                  << "ms";
                setError(error, message, true);
                if (!reconnectTimer.isActive())
                    reconnectTimer.start(delay);
            }
        }
        updateState();
        pump();
    }

    void onClosingFinished(CcsConnection *c)
    {
        auto it = std::find_if(closing.begin(), closing.end(), [c](const auto &p) { return p.get() == c; });
        if (it == closing.end())
            return;
        it->release()->deleteLater(); // we are inside its signal
        closing.erase(it);
        if (closing.empty() && !open)
            Q_EMIT q->closed();
    }

    void setError(SessionError error, const QString &message, bool emitIt)
    {
        lastError = error;
        lastErrorString = message;
        if (emitIt || error != SessionError::None)
            Q_EMIT q->errorOccurred(error, message);
    }

    void updateState()
    {
        SessionState next;
        const auto any
            = [this](auto pred) { return std::any_of(connections.begin(), connections.end(), pred); };
        if (stopped)
            next = SessionState::Error;
        else if (!open)
            next = SessionState::Disconnected;
        else if (any([](const auto &c) { return c->isAuthenticated() && !c->isDraining(); }))
            next = SessionState::Connected;
        else if (any([](const auto &c) { return c->isAuthenticated() && c->isDraining(); }))
            next = SessionState::Draining;
        else if (reconnectTimer.isActive() || everConnected)
            next = SessionState::Reconnecting;
        else if (any([](const auto &c) { return c->isEncrypted(); }))
            next = SessionState::Authenticating;
        else
            next = SessionState::Connecting;
        if (next != state) {
            state = next;
            qCDebug(lcCcsCore) << "session" << sessionStateName(next);
            Q_EMIT q->stateChanged(next);
        }
    }
};

CcsSession::CcsSession(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this))
{
    qRegisterMetaType<SessionState>();
    qRegisterMetaType<SessionError>();
    qRegisterMetaType<MessageState>();
}

CcsSession::~CcsSession()
{
    d->open = false;
    d->connections.clear();
    d->closing.clear();
}

void CcsSession::setSettings(const ConnectionSettings &settings)
{
    d->settings = settings;
    d->settings.windowSize = effectiveWindow(settings);
    d->settings.connectionCount = std::max(1, settings.connectionCount);
    d->seen.setLimits(settings.deduplicationCapacity, settings.deduplicationMaxAgeMs);
    if (d->open)
        d->startAnswerWatch();
}

const ConnectionSettings &CcsSession::settings() const
{
    return d->settings;
}

void CcsSession::setClock(SessionClock *clock)
{
    d->useClock(clock ? clock : &d->steadyClock);
    d->armRetryTimer();
    d->armTtlTimer();
}

SessionClock *CcsSession::clock() const
{
    return d->clock;
}

void CcsSession::open()
{
    if (d->open && !d->stopped)
        return;
    d->open = true;
    d->stopped = false;
    d->everConnected = false;
    d->backoff.reset();
    d->lastError = SessionError::None;
    d->lastErrorString.clear();
    d->ensureConnections();
    d->startAnswerWatch();
    d->updateState();
}

void CcsSession::close()
{
    d->open = false;
    d->stopped = false;
    d->reconnectTimer.stop();
    d->answerTimer.stop();
    // Closed at once: their pending messages go back to the queue (their ACKs can no longer come).
    auto connections = std::move(d->connections);
    d->connections.clear();
    for (auto &c : connections) {
        d->requeuePending(c.get(), QStringLiteral("session closed"));
        c->disconnect(this);
        // Kept until the stream has ended, so that ACKs already written still reach the server.
        CcsConnection *raw = c.get();
        connect(raw, &CcsConnection::finished, this, [this, raw] { d->onClosingFinished(raw); });
        d->closing.push_back(std::move(c));
        raw->close();
    }
    Q_EMIT connectionsChanged();
    d->updateState();
    if (d->closing.empty())
        QTimer::singleShot(0, this, [this] {
            if (d->closing.empty() && !d->open)
                Q_EMIT closed();
        });
}

void CcsSession::connectNotify(const QMetaMethod &signal)
{
    if (signal == QMetaMethod::fromSignal(&CcsSession::trafficLogged))
        d->updateTraffic();
}

void CcsSession::disconnectNotify(const QMetaMethod &signal)
{
    // An invalid signal means "all were disconnected".
    if (!signal.isValid() || signal == QMetaMethod::fromSignal(&CcsSession::trafficLogged))
        QTimer::singleShot(0, this, [this] { d->updateTraffic(); });
}

SessionState CcsSession::state() const
{
    return d->state;
}

SessionError CcsSession::lastError() const
{
    return d->lastError;
}

QString CcsSession::lastErrorString() const
{
    return d->lastErrorString;
}

bool CcsSession::send(const DownstreamMessage &message, ValidationFailure *failure)
{
    DownstreamMessage accepted = message;
    if (accepted.messageId.isEmpty())
        accepted.messageId = MessageIdGenerator::next();
    QByteArray stanza;
    if (!d->copyOfLastShape(accepted, &stanza)) {
        const QJsonObject object = accepted.toJson();
        if (const auto invalid = validateDownstream(object)) {
            if (failure)
                *failure = *invalid;
            return false;
        }
        d->rememberShape(accepted, object);
        stanza = xmpp::writer::gcmMessage(accepted.messageId, json::serialize(object));
    }
    const int index = d->ledger->add(accepted);
    if (index < 0) {
        if (failure) {
            failure->rule = ValidationRule::MissingMessageId;
            failure->field = QStringLiteral("message_id");
            failure->description
                = tr("message_id %1 was already used in this session").arg(accepted.messageId);
            failure->stanzaError = false;
            failure->nackCode = NackCode::InvalidJson;
        }
        return false;
    }
    d->noteQueued(index, std::move(stanza));
    d->queue.push_back(index);
    d->pump();
    return true;
}

bool CcsSession::cancel(const QString &messageId)
{
    const int index = d->ledger->indexOf(messageId);
    if (index < 0)
        return false;
    const MessageState state = d->ledger->at(index).state;
    if (state != MessageState::Queued && state != MessageState::RetryWaiting)
        return false;
    // Left in the queue or the retry heap; skipped there because it is no longer Queued.
    d->ledger->transition(index, MessageState::Cancelled, 0, tr("cancelled"));
    return true;
}

const MessageLedger *CcsSession::ledger() const
{
    return d->ledger;
}

QList<ConnectionStatus> CcsSession::connections() const
{
    QList<ConnectionStatus> list;
    const int window = effectiveWindow(d->settings);
    for (const auto &c : d->connections)
        list.append({c->id(), c->isAuthenticated(), c->isDraining(), c->pendingCount(), window});
    return list;
}

int CcsSession::queueLength() const
{
    return d->ledger->count(MessageState::Queued);
}

} // namespace ccs
