#include "EmulatorServer.h"

#include "EmulatorObserver.h"
#include "EmulatorStream.h"
#include "protocol/ConstantTime.h"
#include "protocol/JsonCodec.h"
#include "protocol/Validation.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QPointer>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSet>
#include <QSslServer>
#include <QTimer>

#include <deque>
#include <map>

namespace ccs::emulator {

namespace {
constexpr auto kReceiptFrom = "gcm.googleapis.com";

} // namespace

QString deviceKindName(DeviceKind kind)
{
    switch (kind) {
    case DeviceKind::Registered:
        return QStringLiteral("registered");
    case DeviceKind::Unregistered:
        return QStringLiteral("unregistered");
    case DeviceKind::Idle:
        return QStringLiteral("idle");
    case DeviceKind::RateLimited:
        return QStringLiteral("rate-limited");
    }
    return QStringLiteral("registered");
}

bool deviceKindFromName(QStringView name, DeviceKind *kind)
{
    for (DeviceKind k :
        {DeviceKind::Registered, DeviceKind::Unregistered, DeviceKind::Idle, DeviceKind::RateLimited}) {
        if (name.compare(deviceKindName(k), Qt::CaseInsensitive) == 0) {
            *kind = k;
            return true;
        }
    }
    return false;
}

// A downstream message on its way to one device.
struct Delivery {
    QString messageId;
    QString senderId;
    bool receiptRequested = false;
    bool delayWhileIdle = false;
    QString collapseKey;
    qint64 timeToLive = kMaxTimeToLive; // seconds
    qint64 expiresAtMs = 0; // when held
};

struct DeviceState {
    DeviceStatus status;
    std::deque<qint64> recentDeliveries; // for RateLimited: times of the last minute's messages
    std::vector<Delivery> held; // for an offline device (an idle one: delay_while_idle messages)
    quint64 nextUpstreamNumber = 1; // the device's app numbers its upstream messages 1, 2, 3...
};

// An upstream message or receipt on its way to the app server.
struct UpstreamItem {
    QString messageId;
    QString
        from; // the device's token, or gcm.googleapis.com for a receipt: (from, messageId) is the identity
    QString senderId;
    QString deviceToken; // empty for receipts
    bool isReceipt = false;
    QByteArray json;
    qint64 expiresAtMs = 0;
    int inflightConnection = 0; // 0: waiting for a connection
    bool everDelivered = false; // left the device's queue of unsent messages
    int unackedCopies = 0; // delivered copies on that connection not ACKed yet
    bool acked = false;
    bool expired = false;
    bool nowOrNever = false; // time_to_live 0
};

struct Answer {
    qint64 dueMs = 0;
    bool countsPending = true;
    bool isStanzaError = false;
    bool isNack = false;
    QString stanzaId;
    QByteArray json; // the answer, or for a stanza error the original payload
    QString errorText;
    QString messageId; // for an observer
    NackCode nackCode = NackCode::InternalServerError;
};

struct Connection {
    int id = 0;
    EmulatorStream *stream = nullptr; // owned by the server's QObject tree
    QString senderId;
    bool bound = false;
    bool draining = false;
    int pending = 0;
    int stanzasReceived = 0;
    int unackedUpstream = 0;
    QSet<QString> seenIds;
    std::deque<Answer> answers;
    std::unique_ptr<QTimer> answerTimer;
    std::unique_ptr<QTimer> drainGraceTimer;
    ConnectionEnd end = ConnectionEnd::Client; // set when the emulator ends it
};

class EmulatorServer::Private
{
public:
    explicit Private(EmulatorServer *qq)
        : q(qq)
    {
        clock.start();
    }

    EmulatorServer *q;
    EmulatorConfig config;
    std::unique_ptr<QSslServer> server;
    std::map<int, std::unique_ptr<Connection>> connections;
    std::vector<DeviceState> devices;
    QHash<QString, size_t> deviceIndex;
    QHash<QString, int> unsentByDevice; // upstream messages a device has not handed to CCS yet
    std::deque<UpstreamItem> upstream;
    QList<DownstreamRecord> downstreamRecords;
    QHash<QString, qsizetype> downstreamIndex;
    QList<UpstreamRecord> upstreamRecords;
    QHash<QString, qsizetype> upstreamIndex;
    EmulatorCounters counters;
    QElapsedTimer clock;
    int nextConnectionId = 1;
    std::map<QString, DeviceGroup> groups; // by notification key
    QHash<QString, std::deque<qint64>> topicDeliveries; // per topic: times of the last minute's messages
    quint64 seed = 0;
    QRandomGenerator rng; // every random choice of the emulator
    bool redeliverNext = false;
    bool pumpScheduled = false;
    bool devicesChangedScheduled = false;
    QTimer upstreamRateTimer;
    QTimer dropTimer;
    QTimer drainTimer;
    QTimer heldExpiryTimer; // runs while a device holds messages: drops those whose TTL ran out
    EmulatorObserver *observer = nullptr; // the conformance grader, when attached
    size_t scenarioDeviceCursor = 0;

    qint64 now() const { return clock.elapsed(); }
    DeviceState *device(const QString &token)
    {
        const auto it = deviceIndex.constFind(token);
        return it == deviceIndex.constEnd() ? nullptr : &devices[*it];
    }
    Connection *connection(int id)
    {
        const auto it = connections.find(id);
        return it == connections.end() ? nullptr : it->second.get();
    }
    DownstreamRecord &downstreamRecord(const QString &messageId)
    {
        const auto it = downstreamIndex.constFind(messageId);
        if (it != downstreamIndex.constEnd())
            return downstreamRecords[*it];
        downstreamIndex.insert(messageId, downstreamRecords.size());
        downstreamRecords.append(DownstreamRecord {});
        downstreamRecords.last().messageId = messageId;
        return downstreamRecords.last();
    }
    static QString upstreamKey(const QString &from, const QString &messageId)
    {
        return from + QChar(u'\0') + messageId;
    }
    UpstreamRecord &upstreamRecord(const QString &from, const QString &messageId)
    {
        const QString key = upstreamKey(from, messageId);
        const auto it = upstreamIndex.constFind(key);
        if (it != upstreamIndex.constEnd())
            return upstreamRecords[*it];
        upstreamIndex.insert(key, upstreamRecords.size());
        upstreamRecords.append(UpstreamRecord {});
        upstreamRecords.last().messageId = messageId;
        upstreamRecords.last().from = from;
        return upstreamRecords.last();
    }
    QString senderOf(const DeviceState &dev) const
    {
        return dev.status.spec.senderId.isEmpty() && !config.senders.isEmpty()
            ? config.senders.first().senderId
            : dev.status.spec.senderId;
    }

    QString authenticate(const QString &authcid, const QString &password) const;
    void onNewConnections();
    void onGcm(Connection *c, const QString &stanzaId, const QString &text);
    void handleClientAck(Connection *c, const QJsonObject &object);
    void handleDownstream(
        Connection *c, const QString &stanzaId, const QByteArray &raw, const QJsonObject &object);
    bool takeRateSlot(DeviceState &device);
    void queueAnswer(Connection *c, Answer answer);
    void queueNack(Connection *c, const QString &messageId, const QString &from, NackCode code,
        const QString &description, bool countsPending = true);
    void flushAnswers(int connectionId);
    void offerToDevice(DeviceState &device, const Delivery &delivery);
    void expireHeld();
    void deliverToDevice(DeviceState &device, const Delivery &delivery);
    bool takeTopicSlot(const QString &topic);
    void setDelivery(const QString &messageId, const QString &delivery);
    void deliverItem(UpstreamItem &item, Connection *c);
    int unauthenticatedConnections() const;
    void queueReceipt(
        const QString &senderId, const QString &originalId, const QString &token, const QString &category);
    void schedulePump();
    void pumpUpstream();
    Connection *pickConnection(const QString &senderId);
    void drain(Connection *c);
    void drop(Connection *c);
    void checkDrainClose(Connection *c);
    void onClosed(int connectionId);
    void scheduleDevicesChanged();
    void applySchedules();
    void spontaneousUpstream();
    void scenarioUpstream(const QString &senderId, int count);
};

QString EmulatorServer::Private::authenticate(const QString &authcid, const QString &password) const
{
    const qsizetype at = authcid.lastIndexOf(QLatin1Char('@'));
    if (at <= 0)
        return {}; // CCS wants SENDER_ID@gcm.googleapis.com, not the bare sender ID
    const QString senderId = authcid.left(at);
    const QString domain = authcid.mid(at + 1).toLower();
    if (domain != QLatin1String("gcm.googleapis.com") && domain != QLatin1String("fcm.googleapis.com"))
        return {};
    for (const SenderCredentials &s : config.senders) {
        if (s.senderId == senderId && constantTimeEquals(s.apiKey.toUtf8(), password.toUtf8()))
            return senderId;
    }
    return {};
}

void EmulatorServer::Private::onNewConnections()
{
    while (server && server->hasPendingConnections()) {
        auto *socket = qobject_cast<QSslSocket *>(server->nextPendingConnection());
        if (!socket)
            continue;
        // Stanzas are small and answered one by one: no Nagle delay on ACKs.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        const int id = nextConnectionId++;
        // Sockets that have not authenticated yet are bounded apart from the
        // per-sender limit, so that nobody can hold every slot without a key.
        const bool tooMany = config.maxUnauthenticatedConnections > 0
            && unauthenticatedConnections() >= config.maxUnauthenticatedConnections;
        auto conn = std::make_unique<Connection>();
        conn->id = id;
        StreamLimits limits;
        limits.maxStanzaBytes = config.maxStanzaBytes;
        limits.maxDepth = config.maxStanzaDepth;
        limits.authTimeoutMs = config.authTimeoutMs;
        limits.maxStanzaElements = config.maxStanzaElements;
        limits.maxUnsentBytes = config.maxUnsentBytes;
        conn->stream = new EmulatorStream(
            id, socket, limits, [this](const QString &a, const QString &p) { return authenticate(a, p); }, q);
        conn->answerTimer = std::make_unique<QTimer>();
        conn->answerTimer->setSingleShot(true);
        conn->answerTimer->setTimerType(Qt::PreciseTimer); // jitter is a few milliseconds
        QObject::connect(conn->answerTimer.get(), &QTimer::timeout, q, [this, id] { flushAnswers(id); });
        conn->drainGraceTimer = std::make_unique<QTimer>();
        conn->drainGraceTimer->setSingleShot(true);
        QObject::connect(conn->drainGraceTimer.get(), &QTimer::timeout, q, [this, id] {
            if (Connection *c = connection(id)) {
                c->end = ConnectionEnd::Drained;
                c->stream->closeStream();
            }
        });
        EmulatorStream *stream = conn->stream;
        QObject::connect(stream, &EmulatorStream::authenticated, q, [this, id](const QString &senderId) {
            Connection *c = connection(id);
            if (!c)
                return;
            c->senderId = senderId;
            if (observer)
                observer->authenticated(id, now(), senderId);
            Q_EMIT q->clientAuthenticated(id, senderId);
        });
        QObject::connect(stream, &EmulatorStream::authenticationFailed, q, [this, id] {
            ++counters.authFailures;
            if (observer)
                observer->authenticationFailed(id, now());
        });
        QObject::connect(stream, &EmulatorStream::bound, q, [this, id] {
            Connection *c = connection(id);
            if (!c)
                return;
            // At most maxConnectionsPerSender authenticated connections of one
            // sender: one more is closed once bound, with a reason it can read.
            int ofSender = 0;
            for (const auto &[otherId, other] : connections)
                ofSender += other->senderId == c->senderId && other->stream->isOpen() ? 1 : 0;
            if (config.maxConnectionsPerSender > 0 && ofSender > config.maxConnectionsPerSender) {
                ++counters.connectionLimitRejections;
                c->stream->sendStreamErrorAndClose(QStringLiteral("policy-violation"),
                    QStringLiteral("more than %1 connections for this sender ID")
                        .arg(config.maxConnectionsPerSender));
                return;
            }
            c->bound = true;
            if (observer)
                observer->bound(id, now());
            schedulePump(); // un-ACKed upstream and receipts wait for this
        });
        QObject::connect(stream, &EmulatorStream::gcmReceived, q,
            [this, id](const QString &stanzaId, const QString &text) {
                if (Connection *c = connection(id))
                    onGcm(c, stanzaId, text);
            });
        QObject::connect(stream, &EmulatorStream::streamErrorSent, q, [this, id] {
            ++counters.streamErrors;
            if (Connection *c = connection(id))
                c->end = ConnectionEnd::StreamError;
        });
        QObject::connect(stream, &EmulatorStream::closed, q, [this, id] { onClosed(id); });
        connections.emplace(id, std::move(conn));
        ++counters.connectionsAccepted;
        qCInfo(lcCcsServer) << "connection" << id << "accepted from" << socket->peerAddress().toString();
        Q_EMIT q->clientConnected(id);
        if (observer)
            observer->connectionOpened(id, now());
        if (tooMany) {
            ++counters.connectionLimitRejections;
            stream->sendStreamErrorAndClose(QStringLiteral("policy-violation"),
                QStringLiteral("more than %1 connections waiting to authenticate")
                    .arg(config.maxUnauthenticatedConnections));
        }
    }
}

int EmulatorServer::Private::unauthenticatedConnections() const
{
    int n = 0;
    for (const auto &[id, c] : connections)
        n += c->senderId.isEmpty() && c->stream->isOpen() ? 1 : 0;
    return n;
}

void EmulatorServer::Private::onGcm(Connection *c, const QString &stanzaId, const QString &text)
{
    const QByteArray raw = text.toUtf8();
    QJsonObject object;
    ParseError parseError;
    if (!json::parseObject(raw, &object, &parseError)) {
        ++counters.downstreamReceived;
        ++c->stanzasReceived;
        ++c->pending;
        counters.maxPendingSeen = std::max(counters.maxPendingSeen, c->pending);
        Answer a;
        a.isStanzaError = true;
        a.stanzaId = stanzaId;
        a.json = raw;
        a.errorText = QStringLiteral("InvalidJson: JSON_PARSING_ERROR : ") + parseError.message;
        if (observer)
            observer->unparsableReceived(c->id, now(), a.errorText);
        queueAnswer(c, a);
        Q_EMIT q->downstreamReceived(QString(), QString(), QStringLiteral("stanza-error"));
        return;
    }
    if (object.contains(QLatin1String("message_type"))) {
        if (object.value(QLatin1String("message_type")).toString() == QLatin1String("ack")) {
            handleClientAck(c, object);
            return;
        }
        // An app server never sends anything else; CCS ignores unknown message types.
        qCDebug(lcCcsServer) << "connection" << c->id << "ignored message_type"
                             << object.value(QLatin1String("message_type"));
        return;
    }
    handleDownstream(c, stanzaId, raw, object);
}

void EmulatorServer::Private::handleClientAck(Connection *c, const QJsonObject &object)
{
    const QString messageId = object.value(QLatin1String("message_id")).toString();
    const QString to = object.value(QLatin1String("to")).toString();
    UpstreamItem *item = nullptr;
    // ACKs are valid only on the connection the message was delivered on, and
    // name it by its identity: `to` is the device's token (gcm.googleapis.com
    // for a receipt) and `message_id` its id; devices choose their own ids, so
    // the id alone is not enough. The same identity can be queued twice (a
    // receipt for a message sent twice).
    for (UpstreamItem &u : upstream) {
        if (!messageId.isEmpty() && u.messageId == messageId && u.from == to && u.inflightConnection == c->id
            && u.unackedCopies > 0) {
            item = &u;
            break;
        }
    }
    if (!item) {
        ++counters.badAcks;
        QString description;
        if (messageId.isEmpty())
            description = QStringLiteral("Missing message_id in ACK");
        else if (to.isEmpty())
            description = QStringLiteral("Missing 'to' in ACK for %1").arg(messageId);
        else
            description
                = QStringLiteral("No message %1 from %2 awaits an ACK on this connection").arg(messageId, to);
        if (observer)
            observer->ackReceived(c->id, now(), to, messageId, false);
        queueNack(c, messageId, to, NackCode::BadAck, description, false);
        return;
    }
    if (observer)
        observer->ackReceived(c->id, now(), to, messageId, true);
    --item->unackedCopies;
    UpstreamRecord &rec = upstreamRecord(item->from, messageId);
    ++rec.ackCount;
    if (!item->acked) {
        item->acked = true;
        rec.acked = true;
        rec.ackedOnConnection = c->id;
        ++counters.upstreamAcked;
        --c->unackedUpstream;
        if (item->isReceipt) {
            const QString original = messageId.mid(4);
            if (downstreamIndex.contains(original))
                downstreamRecord(original).receiptAcked = true;
        }
        Q_EMIT q->upstreamAcked(messageId, item->from);
        schedulePump();
        checkDrainClose(c);
    }
}

void EmulatorServer::Private::handleDownstream(
    Connection *c, const QString &stanzaId, const QByteArray &raw, const QJsonObject &object)
{
    ++counters.downstreamReceived;
    ++c->stanzasReceived;
    const QJsonValue idValue = object.value(QLatin1String("message_id"));
    const QString messageId = idValue.isString() ? idValue.toString() : QString();
    const QString to = object.value(QLatin1String("to")).toString();
    DownstreamRecord *rec = nullptr;
    if (!messageId.isEmpty()) {
        rec = &downstreamRecord(messageId);
        rec->to = to;
        ++rec->timesReceived;
        rec->connectionIds.append(c->id);
        rec->verdict.clear();
        rec->delivery.clear();
        if (c->seenIds.contains(messageId))
            ++counters.duplicateDownstream;
        c->seenIds.insert(messageId);
    }
    if (observer)
        observer->downstreamReceived(c->id, now(), messageId, to, object);
    auto setVerdict = [&](const QString &verdict) {
        if (rec)
            rec->verdict = verdict;
        Q_EMIT q->downstreamReceived(messageId, to, verdict);
    };

    ++c->pending;
    counters.maxPendingSeen = std::max(counters.maxPendingSeen, c->pending);
    if (c->pending > kMaxPendingPerConnection) {
        ++counters.windowViolations;
        qCWarning(lcCcsServer) << "connection" << c->id << "has" << c->pending << "un-answered messages";
        if (config.strictWindow) {
            setVerdict(QStringLiteral("dropped"));
            c->stream->sendStreamErrorAndClose(QStringLiteral("policy-violation"),
                QStringLiteral("more than %1 un-answered messages on this connection")
                    .arg(kMaxPendingPerConnection));
            return;
        }
    }
    const FaultSchedule &faults = config.faults;
    if (faults.dropEveryStanzas > 0 && c->stanzasReceived % faults.dropEveryStanzas == 0) {
        setVerdict(QStringLiteral("dropped"));
        drop(c);
        return;
    }
    auto nack = [&](NackCode code, const QString &description) {
        if (observer)
            observer->downstreamJudged(c->id, now(), messageId, to, true, code, false, description);
        setVerdict(QStringLiteral("nack:") + NackCatalogue::name(code));
        queueNack(c, messageId, to, code, description);
    };
    const int connectionId = c->id;
    ScenarioAction act;

    if (c->draining) {
        nack(NackCode::ConnectionDraining,
            QStringLiteral("Connection is draining: send on another connection"));
    } else if (const std::optional<ValidationFailure> failure = validateDownstream(object)) {
        if (failure->stanzaError) {
            if (observer)
                observer->downstreamJudged(
                    c->id, now(), messageId, to, false, NackCode::InvalidJson, true, failure->description);
            setVerdict(QStringLiteral("stanza-error"));
            Answer a;
            a.isStanzaError = true;
            a.stanzaId = stanzaId;
            a.json = raw;
            a.errorText = failure->description;
            a.messageId = messageId;
            queueAnswer(c, a);
        } else {
            nack(failure->nackCode, failure->description);
        }
    } else if (observer && (act = observer->scenarioAction(c->id, messageId, to), act.dropNow || act.nack)) {
        // The conformance scenario: faults placed by the app server's own traffic.
        if (act.upstream > 0)
            scenarioUpstream(c->senderId, act.upstream);
        act.upstream = 0;
        if (act.dropNow) {
            pumpUpstream(); // an upstream message goes un-ACKed with the connection
            if (Connection *still = connection(connectionId)) {
                setVerdict(QStringLiteral("dropped"));
                drop(still);
            }
            return;
        }
        DeviceState *dev = device(to);
        if (act.unregisterToken && dev) {
            dev->status.spec.kind = DeviceKind::Unregistered;
            scheduleDevicesChanged();
            if (observer)
                observer->deviceChanged(now(), to, QStringLiteral("unregistered"));
        }
        nack(act.nackCode,
            act.nackCode == NackCode::BadRegistration
                ? QStringLiteral("Invalid token on 'to' field: %1").arg(to)
                : act.nackCode == NackCode::DeviceUnregistered
                ? QStringLiteral("Device unregistered: %1").arg(to)
                : QStringLiteral("%1 (conformance scenario)").arg(NackCatalogue::name(act.nackCode)));
    } else if (faults.nackShare > 0 && rng.generateDouble() < faults.nackShare) {
        nack(faults.nackCode,
            faults.nackCode == NackCode::ServiceUnavailable
                ? QStringLiteral("Service unavailable (emulated fault)")
                : QStringLiteral("Internal server error (emulated fault)"));
    } else {
        const DownstreamMessage message = DownstreamMessage::fromJson(object);
        const QString senderId = c->senderId;
        Delivery delivery;
        delivery.messageId = messageId;
        delivery.senderId = senderId;
        delivery.receiptRequested = message.deliveryReceiptRequested.value_or(false);
        delivery.delayWhileIdle = message.delayWhileIdle.value_or(false);
        delivery.collapseKey = message.collapseKey;
        delivery.timeToLive = message.effectiveTimeToLive();
        const bool dryRun = message.dryRun.value_or(false);
        auto ack = [&] {
            if (observer)
                observer->downstreamJudged(
                    c->id, now(), messageId, to, false, NackCode::InvalidJson, false, {});
            setVerdict(QStringLiteral("ack"));
            Ack a;
            a.messageId = messageId;
            a.from = to;
            Answer answer;
            answer.json = json::serializeAck(a);
            answer.messageId = messageId;
            queueAnswer(c, answer);
        };
        // Several devices: a topic's subscribers or a group's members. They
        // send no delivery receipts (CCS sent receipts per registration token).
        auto fanOut = [&](const QList<DeviceState *> &targets) {
            ack();
            if (rec)
                rec->delivery = QStringLiteral("fanout:%1").arg(targets.size());
            if (dryRun)
                return;
            Delivery each = delivery;
            each.receiptRequested = false;
            for (DeviceState *target : targets)
                offerToDevice(*target, each);
        };
        const auto group = groups.find(to);
        if (to.startsWith(QLatin1String("/topics/"))) {
            const QString topic = to.mid(8);
            if (!takeTopicSlot(topic)) {
                nack(NackCode::TopicsMessageRateExceeded,
                    QStringLiteral("Topic message rate exceeded for %1").arg(topic));
            } else {
                QList<DeviceState *> subscribers;
                for (DeviceState &d : devices) {
                    if (senderOf(d) == senderId && d.status.spec.kind != DeviceKind::Unregistered
                        && d.status.topics.contains(topic))
                        subscribers.append(&d);
                }
                fanOut(subscribers);
            }
        } else if (group != groups.end() && group->second.senderId == senderId) {
            QList<DeviceState *> members;
            for (const QString &token : group->second.tokens) {
                DeviceState *member = device(token);
                if (member && member->status.spec.kind != DeviceKind::Unregistered)
                    members.append(member);
            }
            fanOut(members);
        } else if (DeviceState *dev = device(to); !dev || senderOf(*dev) != senderId) {
            // Unknown, or registered for another sender ID (CCS answered both alike).
            nack(NackCode::BadRegistration, QStringLiteral("Invalid token on 'to' field: %1").arg(to));
        } else if (dev->status.spec.kind == DeviceKind::Unregistered) {
            nack(NackCode::DeviceUnregistered, QStringLiteral("Device unregistered: %1").arg(to));
        } else if (dev->status.spec.kind == DeviceKind::RateLimited && !takeRateSlot(*dev)) {
            nack(NackCode::DeviceMessageRateExceeded,
                QStringLiteral("Downstream message rate exceeded for this registration id"));
        } else {
            ack();
            if (!dryRun)
                offerToDevice(*dev, delivery);
        }
    }
    if (act.upstream > 0)
        scenarioUpstream(c->senderId, act.upstream);
    if (act.drainAfter) {
        if (Connection *still = connection(connectionId))
            drain(still);
    }
    if (Connection *still = connection(connectionId);
        still && faults.drainEveryStanzas > 0 && still->stanzasReceived % faults.drainEveryStanzas == 0) {
        drain(still);
    }
}

// A rate-limited device takes maxMessagesPerMinute in any sliding minute.
bool EmulatorServer::Private::takeRateSlot(DeviceState &device)
{
    const qint64 t = now();
    while (!device.recentDeliveries.empty() && t - device.recentDeliveries.front() >= 60000)
        device.recentDeliveries.pop_front();
    if (static_cast<int>(device.recentDeliveries.size())
        >= std::max(0, device.status.spec.maxMessagesPerMinute))
        return false;
    device.recentDeliveries.push_back(t);
    return true;
}

void EmulatorServer::Private::queueNack(Connection *c, const QString &messageId, const QString &from,
    NackCode code, const QString &description, bool countsPending)
{
    Answer a;
    a.isNack = true;
    a.countsPending = countsPending;
    a.json = json::serialize(Nack::make(messageId, from, code, description).toJson());
    a.messageId = messageId;
    a.nackCode = code;
    queueAnswer(c, a);
}

void EmulatorServer::Private::queueAnswer(Connection *c, Answer answer)
{
    // CCS promises no order: each answer's latency is the fixed delay plus a
    // jitter drawn for this message, so answers overtake each other. Equal due
    // times keep their arrival order.
    const FaultSchedule &f = config.faults;
    const qint64 jitter = f.answerJitterMs > 0 ? rng.bounded(f.answerJitterMs + 1) : 0;
    answer.dueMs = now() + std::max(0, f.ackDelayMs) + jitter;
    const auto at = std::upper_bound(c->answers.begin(), c->answers.end(), answer.dueMs,
        [](qint64 due, const Answer &a) { return due < a.dueMs; });
    const bool first = at == c->answers.begin();
    c->answers.insert(at, std::move(answer));
    if (first && c->answers.front().dueMs <= now()) {
        flushAnswers(c->id);
        return;
    }
    if (first || !c->answerTimer->isActive())
        c->answerTimer->start(std::max<qint64>(0, c->answers.front().dueMs - now()));
}

void EmulatorServer::Private::flushAnswers(int connectionId)
{
    Connection *c = connection(connectionId);
    if (!c)
        return;
    const qint64 t = now();
    while (!c->answers.empty() && c->answers.front().dueMs <= t) {
        const Answer a = std::move(c->answers.front());
        c->answers.pop_front();
        if (a.isStanzaError) {
            c->stream->sendStanzaError(a.stanzaId, a.json, a.errorText);
            ++counters.stanzaErrorsSent;
        } else {
            c->stream->sendGcm(a.json);
            if (a.isNack)
                ++counters.nacksSent;
            else
                ++counters.acksSent;
        }
        if (a.countsPending)
            --c->pending;
        if (observer)
            observer->answerWritten(c->id, t, a.messageId, a.countsPending, a.isNack, a.nackCode);
    }
    if (!c->answers.empty())
        c->answerTimer->start(std::max<qint64>(0, c->answers.front().dueMs - t));
    checkDrainClose(c);
}

void EmulatorServer::Private::setDelivery(const QString &messageId, const QString &delivery)
{
    const auto it = downstreamIndex.constFind(messageId);
    if (it != downstreamIndex.constEnd() && !downstreamRecords[*it].delivery.startsWith(u"fanout"))
        downstreamRecords[*it].delivery = delivery;
}

// A message reaches the device at once, or waits for it: an offline device
// (an idle one: delay_while_idle messages) holds it until it is back, for at
// most its time_to_live; 0 means now or never. A held message with a
// collapse_key replaces the older one with that key, and at most
// maxCollapseKeysPerDevice keys are held (the oldest key gives way).
void EmulatorServer::Private::offerToDevice(DeviceState &dev, const Delivery &delivery)
{
    const bool idle = dev.status.spec.kind == DeviceKind::Idle;
    const bool reachable = dev.status.online || (idle && !delivery.delayWhileIdle);
    if (reachable) {
        deliverToDevice(dev, delivery);
        return;
    }
    if (delivery.timeToLive <= 0) {
        ++counters.messagesExpired;
        setDelivery(delivery.messageId, QStringLiteral("expired"));
        return;
    }
    Delivery held = delivery;
    held.expiresAtMs = now() + delivery.timeToLive * 1000;
    if (!held.collapseKey.isEmpty()) {
        auto collapse = [&](std::vector<Delivery>::iterator it) {
            ++counters.messagesCollapsed;
            setDelivery(it->messageId, QStringLiteral("collapsed"));
            dev.held.erase(it);
        };
        const auto same = std::find_if(dev.held.begin(), dev.held.end(),
            [&](const Delivery &d) { return d.collapseKey == held.collapseKey; });
        if (same != dev.held.end()) {
            collapse(same);
        } else {
            QSet<QString> keys;
            for (const Delivery &d : dev.held) {
                if (!d.collapseKey.isEmpty())
                    keys.insert(d.collapseKey);
            }
            if (keys.size() >= std::max(1, config.maxCollapseKeysPerDevice)) {
                collapse(std::find_if(dev.held.begin(), dev.held.end(),
                    [](const Delivery &d) { return !d.collapseKey.isEmpty(); }));
            }
        }
    }
    dev.held.push_back(held);
    dev.status.held = int(dev.held.size());
    if (!heldExpiryTimer.isActive())
        heldExpiryTimer.start(1000);
    ++counters.messagesHeld;
    setDelivery(held.messageId, QStringLiteral("held"));
    scheduleDevicesChanged();
}

// A held message whose time_to_live runs out is dropped then, not only when
// its device comes back, so the record and the counters show it at once.
void EmulatorServer::Private::expireHeld()
{
    const qint64 t = now();
    bool anyHeld = false;
    for (DeviceState &dev : devices) {
        const auto expired = std::remove_if(dev.held.begin(), dev.held.end(), [&](const Delivery &m) {
            if (t < m.expiresAtMs)
                return false;
            ++counters.messagesExpired;
            setDelivery(m.messageId, QStringLiteral("expired"));
            return true;
        });
        if (expired != dev.held.end()) {
            dev.held.erase(expired, dev.held.end());
            dev.status.held = int(dev.held.size());
            scheduleDevicesChanged();
        }
        anyHeld = anyHeld || !dev.held.empty();
    }
    if (!anyHeld)
        heldExpiryTimer.stop();
}

void EmulatorServer::Private::deliverToDevice(DeviceState &dev, const Delivery &delivery)
{
    ++dev.status.received;
    setDelivery(delivery.messageId, QStringLiteral("delivered"));
    scheduleDevicesChanged();
    if (!delivery.receiptRequested || delivery.messageId.isEmpty())
        return;
    const QString token = dev.status.spec.token;
    const QString category = dev.status.spec.category;
    const QString senderId = delivery.senderId;
    const QString messageId = delivery.messageId;
    QTimer::singleShot(std::max(0, config.receiptDelayMs), q,
        [this, senderId, messageId, token, category] { queueReceipt(senderId, messageId, token, category); });
}

// Each topic takes topicMessagesPerMinute in any sliding minute.
bool EmulatorServer::Private::takeTopicSlot(const QString &topic)
{
    std::deque<qint64> &recent = topicDeliveries[topic];
    const qint64 t = now();
    while (!recent.empty() && t - recent.front() >= 60000)
        recent.pop_front();
    if (config.topicMessagesPerMinute > 0 && int(recent.size()) >= config.topicMessagesPerMinute)
        return false;
    recent.push_back(t);
    return true;
}

void EmulatorServer::Private::queueReceipt(
    const QString &senderId, const QString &originalId, const QString &token, const QString &category)
{
    const Receipt receipt = Receipt::make(originalId, token, category);
    UpstreamItem item;
    item.messageId = receipt.messageId;
    item.from = QLatin1String(kReceiptFrom);
    item.senderId = senderId;
    item.isReceipt = true;
    item.json = json::serialize(receipt.toJson());
    item.expiresAtMs = now() + kMaxTimeToLive * 1000;
    UpstreamRecord &rec = upstreamRecord(item.from, item.messageId);
    rec.isReceipt = true;
    upstream.push_back(std::move(item));
    schedulePump();
}

void EmulatorServer::Private::schedulePump()
{
    if (pumpScheduled)
        return;
    pumpScheduled = true;
    QTimer::singleShot(0, q, [this] {
        pumpScheduled = false;
        pumpUpstream();
    });
}

Connection *EmulatorServer::Private::pickConnection(const QString &senderId)
{
    Connection *best = nullptr;
    for (auto &[id, c] : connections) {
        if (!c->bound || c->draining || !c->stream->isOpen() || c->senderId != senderId)
            continue;
        // CCS stops sending to a connection with a full window of un-ACKed messages.
        if (c->unackedUpstream >= kMaxPendingPerConnection)
            continue;
        if (!best || c->unackedUpstream < best->unackedUpstream)
            best = c.get();
    }
    return best;
}

void EmulatorServer::Private::deliverItem(UpstreamItem &item, Connection *c)
{
    bool twice = false;
    if (!item.isReceipt) {
        if (redeliverNext) {
            twice = true;
            redeliverNext = false;
        } else if (config.faults.duplicateUpstreamShare > 0) {
            twice = rng.generateDouble() < config.faults.duplicateUpstreamShare;
        }
    }
    const int copies = twice ? 2 : 1;
    UpstreamRecord &rec = upstreamRecord(item.from, item.messageId);
    for (int i = 0; i < copies; ++i) {
        c->stream->sendGcm(item.json);
        ++rec.timesDelivered;
        rec.deliveredOnConnections.append(c->id);
        if (item.isReceipt)
            ++counters.receiptsSent;
        else
            ++counters.upstreamSent;
    }
    if (item.isReceipt) {
        const QString original = item.messageId.mid(4);
        if (downstreamIndex.contains(original))
            downstreamRecord(original).receiptSent = true;
    }
    if (observer)
        observer->upstreamDelivered(c->id, now(), item.from, item.messageId, item.isReceipt, copies);
    item.inflightConnection = c->id;
    if (!item.everDelivered && !item.deviceToken.isEmpty())
        --unsentByDevice[item.deviceToken];
    item.everDelivered = true;
    item.unackedCopies = copies;
    ++c->unackedUpstream;
}

void EmulatorServer::Private::pumpUpstream()
{
    const qint64 t = now();
    for (UpstreamItem &item : upstream) {
        if (item.acked || item.expired || item.inflightConnection != 0)
            continue;
        if (item.expiresAtMs > 0 && t >= item.expiresAtMs) {
            item.expired = true;
            if (!item.everDelivered && !item.deviceToken.isEmpty())
                --unsentByDevice[item.deviceToken];
            ++counters.messagesExpired;
            continue;
        }
        Connection *c = pickConnection(item.senderId);
        if (c) {
            deliverItem(item, c);
        } else if (item.nowOrNever && !item.everDelivered) {
            item.expired = true;
            if (!item.deviceToken.isEmpty())
                --unsentByDevice[item.deviceToken];
            ++counters.messagesExpired;
        }
    }
    // Forget what needs nothing more; the record keeps the history.
    while (!upstream.empty() && (upstream.front().acked || upstream.front().expired))
        upstream.pop_front();
}

void EmulatorServer::Private::drain(Connection *c)
{
    if (!c->bound || c->draining || !c->stream->isOpen())
        return;
    c->draining = true;
    ++counters.drainsSent;
    if (config.guideDrainStanza) // the guide's member order, too
        c->stream->sendDrainingControl(R"({"message_type":"control","control_type":"CONNECTION_DRAINING"})");
    else
        c->stream->sendGcm(json::serialize(Control::connectionDraining().toJson()));
    qCInfo(lcCcsServer) << "connection" << c->id << "draining";
    if (observer)
        observer->drainSent(c->id, now());
    // What was already in the pipeline still arrives here: the answers still
    // due (queued), and upstream messages and receipts already routed to it.
    int pipeline = std::max(0, config.drainPipelineMessages);
    for (UpstreamItem &item : upstream) {
        if (pipeline <= 0 || c->unackedUpstream >= kMaxPendingPerConnection)
            break;
        if (item.acked || item.expired || item.inflightConnection != 0 || item.senderId != c->senderId
            || (item.expiresAtMs > 0 && now() >= item.expiresAtMs))
            continue;
        deliverItem(item, c);
        --pipeline;
    }
    // CCS closes the connection when it is ready: after the grace period. With
    // no grace, as soon as nothing is pending either way (at most 10 s).
    c->drainGraceTimer->start(config.drainGraceMs > 0 ? config.drainGraceMs : 10000);
    checkDrainClose(c);
    schedulePump(); // another connection may take over its upstream traffic
}

void EmulatorServer::Private::checkDrainClose(Connection *c)
{
    if (c->draining && config.drainGraceMs <= 0 && c->pending <= 0 && c->answers.empty()
        && c->unackedUpstream <= 0 && c->stream->isOpen()) {
        c->end = ConnectionEnd::Drained;
        c->stream->closeStream();
    }
}

void EmulatorServer::Private::drop(Connection *c)
{
    ++counters.connectionsDropped;
    qCInfo(lcCcsServer) << "connection" << c->id << "dropped (fault)";
    c->end = ConnectionEnd::Dropped;
    c->stream->abort(); // emits closed(): c is gone after this
}

void EmulatorServer::Private::onClosed(int connectionId)
{
    const auto it = connections.find(connectionId);
    if (it == connections.end())
        return;
    std::unique_ptr<Connection> c = std::move(it->second);
    connections.erase(it);
    // What was delivered and not ACKed goes out again on the next connection.
    for (UpstreamItem &item : upstream) {
        if (item.inflightConnection == connectionId && !item.acked) {
            item.inflightConnection = 0;
            item.unackedCopies = 0;
        }
    }
    c->stream->deleteLater();
    if (observer)
        observer->connectionClosed(connectionId, now(), c->end);
    Q_EMIT q->clientDisconnected(connectionId);
    schedulePump();
}

void EmulatorServer::Private::scheduleDevicesChanged()
{
    if (devicesChangedScheduled)
        return;
    devicesChangedScheduled = true;
    // Coalesced: under load a per-message signal would flood the GUI.
    QTimer::singleShot(50, q, [this] {
        devicesChangedScheduled = false;
        Q_EMIT q->devicesChanged();
    });
}

void EmulatorServer::Private::applySchedules()
{
    const FaultSchedule &f = config.faults;
    if (f.dropEveryMs > 0)
        dropTimer.start(f.dropEveryMs);
    else
        dropTimer.stop();
    if (f.drainEveryMs > 0)
        drainTimer.start(f.drainEveryMs);
    else
        drainTimer.stop();
    if (config.upstreamRatePerSecond > 0 && server)
        upstreamRateTimer.start(std::max(1, static_cast<int>(1000.0 / config.upstreamRatePerSecond)));
    else
        upstreamRateTimer.stop();
}

// The conformance scenario's upstream traffic: `count` registered devices of
// the sender, taken in turn, each send their next message (their own ids
// 1, 2, 3..., so ids repeat across devices).
void EmulatorServer::Private::scenarioUpstream(const QString &senderId, int count)
{
    const size_t n = devices.size();
    for (size_t tried = 0; count > 0 && tried < n; ++tried) {
        DeviceState &dev = devices[scenarioDeviceCursor++ % n];
        if (dev.status.spec.kind != DeviceKind::Registered || senderOf(dev) != senderId)
            continue;
        QJsonObject data;
        data.insert(QStringLiteral("kind"), QStringLiteral("conformance"));
        if (!q->sendUpstream(dev.status.spec.token, data).isEmpty())
            --count;
    }
}

void EmulatorServer::Private::spontaneousUpstream()
{
    QList<QString> candidates;
    for (const DeviceState &d : devices) {
        if (d.status.spec.kind != DeviceKind::Unregistered)
            candidates.append(d.status.spec.token);
    }
    if (candidates.isEmpty() || config.senders.isEmpty())
        return;
    const QString token = candidates.at(int(rng.bounded(quint32(candidates.size()))));
    QJsonObject data;
    data.insert(QStringLiteral("kind"), QStringLiteral("scheduled"));
    data.insert(QStringLiteral("sent_at"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
    q->sendUpstream(token, data);
}

EmulatorServer::EmulatorServer(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this))
{
    QObject::connect(&d->upstreamRateTimer, &QTimer::timeout, this, [this] { d->spontaneousUpstream(); });
    QObject::connect(&d->dropTimer, &QTimer::timeout, this, &EmulatorServer::dropConnections);
    QObject::connect(&d->drainTimer, &QTimer::timeout, this, &EmulatorServer::drainConnections);
    QObject::connect(&d->heldExpiryTimer, &QTimer::timeout, this, [this] { d->expireHeld(); });
}

EmulatorServer::~EmulatorServer()
{
    d->upstreamRateTimer.stop();
    d->dropTimer.stop();
    d->drainTimer.stop();
    d->heldExpiryTimer.stop();
    // Streams are QObject children; keep their signals from reaching a half-destroyed server.
    for (auto &[id, c] : d->connections)
        QObject::disconnect(c->stream, nullptr, this, nullptr);
    d->connections.clear();
}

bool EmulatorServer::start(const EmulatorConfig &config, QString *error)
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        qCWarning(lcCcsServer) << "emulator not started:" << message;
        return false;
    };
    if (d->server)
        return fail(tr("The emulator is already running."));
    if (config.certificate.isNull() || config.privateKey.isNull())
        return fail(tr("The emulator needs a certificate and its private key."));
    if (config.senders.isEmpty())
        return fail(tr("The emulator needs at least one sender ID and API key."));
    d->config = config;
    d->seed = config.seed != 0 ? config.seed : QRandomGenerator::system()->generate64();
    const quint32 seedWords[2] = {quint32(d->seed), quint32(d->seed >> 32)};
    d->rng = QRandomGenerator(seedWords, 2);
    d->devices.clear();
    d->deviceIndex.clear();
    for (const DeviceSpec &spec : config.devices)
        addDevice(spec);

    auto server = std::make_unique<QSslServer>();
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setLocalCertificate(config.certificate);
    ssl.setPrivateKey(config.privateKey);
    ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
    ssl.setProtocol(QSsl::TlsV1_2OrLater);
    server->setSslConfiguration(ssl);
    server->setHandshakeTimeout(10000);
    QObject::connect(
        server.get(), &QTcpServer::pendingConnectionAvailable, this, [this] { d->onNewConnections(); });
    QObject::connect(
        server.get(), &QSslServer::errorOccurred, this, [this](QSslSocket *, QAbstractSocket::SocketError e) {
            qCDebug(lcCcsServer) << "TLS handshake failed:" << e;
            if (d->observer && e == QAbstractSocket::SslHandshakeFailedError)
                d->observer->tlsHandshakeFailed(d->now());
        });
    if (!server->listen(config.address, config.port))
        return fail(tr("Cannot listen on %1:%2: %3")
                        .arg(config.address.toString())
                        .arg(config.port)
                        .arg(server->errorString()));
    d->server = std::move(server);
    d->applySchedules();
    qCInfo(lcCcsServer) << "emulator listening on" << config.address.toString() << d->server->serverPort();
    return true;
}

void EmulatorServer::stop()
{
    d->upstreamRateTimer.stop();
    d->dropTimer.stop();
    d->drainTimer.stop();
    d->heldExpiryTimer.stop();
    if (d->server) {
        d->server->close();
        d->server.reset();
    }
    for (auto &[id, c] : d->connections) {
        c->end = ConnectionEnd::Stopped;
        c->stream->closeStream();
    }
}

void EmulatorServer::setObserver(EmulatorObserver *observer)
{
    d->observer = observer;
}

qint64 EmulatorServer::elapsedMs() const
{
    return d->now();
}

bool EmulatorServer::isListening() const
{
    return d->server && d->server->isListening();
}

quint16 EmulatorServer::port() const
{
    return d->server ? d->server->serverPort() : 0;
}

const EmulatorConfig &EmulatorServer::config() const
{
    return d->config;
}

QList<DeviceStatus> EmulatorServer::devices() const
{
    QList<DeviceStatus> out;
    out.reserve(static_cast<qsizetype>(d->devices.size()));
    for (const DeviceState &dev : d->devices)
        out.append(dev.status);
    return out;
}

bool EmulatorServer::addDevice(const DeviceSpec &device)
{
    if (device.token.isEmpty() || d->deviceIndex.contains(device.token))
        return false;
    DeviceState state;
    state.status.spec = device;
    if (state.status.spec.senderId.isEmpty() && !d->config.senders.isEmpty())
        state.status.spec.senderId = d->config.senders.first().senderId;
    state.status.online = device.kind != DeviceKind::Idle; // idle devices start asleep
    d->deviceIndex.insert(device.token, d->devices.size());
    d->devices.push_back(std::move(state));
    d->scheduleDevicesChanged();
    if (d->observer)
        d->observer->deviceChanged(d->now(), device.token, QStringLiteral("added"));
    return true;
}

bool EmulatorServer::removeDevice(const QString &token)
{
    const auto it = d->deviceIndex.constFind(token);
    if (it == d->deviceIndex.constEnd())
        return false;
    d->devices.erase(d->devices.begin() + static_cast<std::ptrdiff_t>(*it));
    d->deviceIndex.clear();
    for (size_t i = 0; i < d->devices.size(); ++i)
        d->deviceIndex.insert(d->devices[i].status.spec.token, i);
    d->scheduleDevicesChanged();
    if (d->observer)
        d->observer->deviceChanged(d->now(), token, QStringLiteral("removed"));
    return true;
}

QString EmulatorServer::sendUpstream(const QString &token, const QJsonObject &data, const QString &senderId)
{
    DeviceState *dev = d->device(token);
    if (!dev || (!senderId.isEmpty() && senderId != d->senderOf(*dev)))
        return {};
    UpstreamRequest request;
    request.data = data;
    return sendUpstreamMessage(token, request);
}

QString EmulatorServer::sendUpstreamMessage(
    const QString &token, const UpstreamRequest &request, QString *error)
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return QString();
    };
    DeviceState *dev = d->device(token);
    if (!dev)
        return fail(tr("No device with this token."));
    const QString sender = d->senderOf(*dev);
    if (sender.isEmpty())
        return fail(tr("The device has no sender ID."));
    if (request.timeToLive > kMaxTimeToLive)
        return fail(tr("time_to_live must be from 0 to %1 seconds.").arg(kMaxTimeToLive));
    // A device queues at most this many unsent upstream messages.
    if (d->config.deviceUpstreamQueueLimit > 0
        && d->unsentByDevice.value(token) >= d->config.deviceUpstreamQueueLimit)
        return fail(tr("The device already holds %1 unsent upstream messages.")
                        .arg(d->config.deviceUpstreamQueueLimit));
    UpstreamMessage message;
    message.from = token;
    // The device's app chooses the id: by default it counts 1, 2, 3... per
    // device, so ids repeat across devices. An explicit number moves the count on.
    if (request.messageId.isEmpty()) {
        message.messageId = QString::number(dev->nextUpstreamNumber++);
    } else {
        message.messageId = request.messageId;
        bool numeric = false;
        const quint64 n = request.messageId.toULongLong(&numeric);
        if (numeric && n >= dev->nextUpstreamNumber)
            dev->nextUpstreamNumber = n + 1;
    }
    message.category = request.category.isEmpty() ? dev->status.spec.category : request.category;
    message.data = request.data;
    if (request.timeToLive >= 0)
        message.timeToLive = request.timeToLive;
    UpstreamItem item;
    item.messageId = message.messageId;
    item.from = token;
    item.senderId = sender;
    item.deviceToken = token;
    item.json = json::serialize(message.toJson());
    const qint64 ttl = request.timeToLive >= 0 ? request.timeToLive : d->config.upstreamTimeToLiveSeconds;
    // time_to_live 0: now or never: delivered at the next pass if a connection
    // can take it, otherwise dropped.
    item.nowOrNever = ttl <= 0;
    item.expiresAtMs = item.nowOrNever ? 0 : d->now() + ttl * 1000;
    d->upstreamRecord(token, item.messageId);
    d->upstream.push_back(std::move(item));
    ++d->unsentByDevice[token];
    ++dev->status.upstreamSent;
    d->scheduleDevicesChanged();
    d->schedulePump();
    return message.messageId;
}

void EmulatorServer::setDeviceOnline(const QString &token, bool online)
{
    DeviceState *dev = d->device(token);
    if (!dev)
        return;
    dev->status.online = online;
    if (online) {
        // Back: what was held arrives in the order it was sent (receipts follow).
        std::vector<Delivery> held;
        held.swap(dev->held);
        dev->status.held = 0;
        const qint64 t = d->now();
        for (const Delivery &m : held) {
            if (t >= m.expiresAtMs) {
                ++d->counters.messagesExpired; // its time_to_live ran out while the device was away
                d->setDelivery(m.messageId, QStringLiteral("expired"));
                continue;
            }
            d->deliverToDevice(*dev, m);
        }
    }
    d->scheduleDevicesChanged();
    if (d->observer)
        d->observer->deviceChanged(d->now(), token, online ? QStringLiteral("awake") : QStringLiteral("asleep"));
}

bool EmulatorServer::setDeviceSubscribed(const QString &token, const QString &topic, bool subscribed)
{
    DeviceState *dev = d->device(token);
    static const QRegularExpression valid(QStringLiteral("^[a-zA-Z0-9_.~%-]{1,900}$"));
    if (!dev || !valid.match(topic).hasMatch())
        return false;
    QStringList &topics = dev->status.topics;
    if (subscribed && !topics.contains(topic))
        topics.append(topic);
    else if (!subscribed)
        topics.removeAll(topic);
    d->scheduleDevicesChanged();
    if (d->observer)
        d->observer->deviceChanged(d->now(), token, QStringLiteral("topics"));
    return true;
}

QString EmulatorServer::createGroup(
    const QString &name, const QStringList &tokens, const QString &senderId, QString *error)
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return QString();
    };
    if (d->config.senders.isEmpty())
        return fail(tr("The emulator has no sender ID."));
    const QString sender = senderId.isEmpty() ? d->config.senders.first().senderId : senderId;
    if (name.trimmed().isEmpty())
        return fail(tr("A group needs a notification_key_name."));
    for (const auto &[key, group] : d->groups) {
        if (group.senderId == sender && group.name == name)
            return fail(tr("A group named %1 exists.").arg(name));
    }
    if (tokens.isEmpty())
        return fail(tr("A group needs at least one registration token."));
    for (const QString &token : tokens) {
        const DeviceState *dev = d->device(token);
        if (!dev || d->senderOf(*dev) != sender)
            return fail(tr("%1 is not a device of sender %2.").arg(token, sender));
    }
    DeviceGroup group;
    group.name = name;
    group.senderId = sender;
    group.tokens = tokens;
    group.tokens.removeDuplicates();
    // Notification keys look like registration tokens; drawn from the run's seed.
    QByteArray raw(24, Qt::Uninitialized);
    for (char &ch : raw)
        ch = char(d->rng.bounded(256));
    group.notificationKey = QStringLiteral("APA91b")
        + QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    d->groups.emplace(group.notificationKey, group);
    return group.notificationKey;
}

bool EmulatorServer::changeGroup(
    const QString &notificationKey, const QStringList &add, const QStringList &remove, QString *error)
{
    const auto it = d->groups.find(notificationKey);
    if (it == d->groups.end()) {
        if (error)
            *error = tr("No group with this notification key.");
        return false;
    }
    DeviceGroup &group = it->second;
    for (const QString &token : add) {
        const DeviceState *dev = d->device(token);
        if (!dev || d->senderOf(*dev) != group.senderId) {
            if (error)
                *error = tr("%1 is not a device of sender %2.").arg(token, group.senderId);
            return false;
        }
    }
    for (const QString &token : add) {
        if (!group.tokens.contains(token))
            group.tokens.append(token);
    }
    for (const QString &token : remove)
        group.tokens.removeAll(token);
    if (group.tokens.isEmpty())
        d->groups.erase(it); // a group without members is gone, as in FCM
    return true;
}

bool EmulatorServer::removeGroup(const QString &notificationKey)
{
    return d->groups.erase(notificationKey) > 0;
}

QList<DeviceGroup> EmulatorServer::groups() const
{
    QList<DeviceGroup> out;
    for (const auto &[key, group] : d->groups)
        out.append(group);
    return out;
}

quint64 EmulatorServer::seed() const
{
    return d->seed;
}

void EmulatorServer::setDrainGraceMs(int ms)
{
    d->config.drainGraceMs = std::max(0, ms);
}

void EmulatorServer::drainConnections()
{
    QList<int> ids;
    for (auto &[id, c] : d->connections)
        ids.append(id);
    for (int id : ids)
        drainConnection(id);
}

void EmulatorServer::dropConnections()
{
    QList<int> ids;
    for (auto &[id, c] : d->connections)
        ids.append(id);
    for (int id : ids)
        dropConnection(id);
}

void EmulatorServer::drainConnection(int connectionId)
{
    if (Connection *c = d->connection(connectionId))
        d->drain(c);
}

void EmulatorServer::dropConnection(int connectionId)
{
    if (Connection *c = d->connection(connectionId))
        d->drop(c);
}

QList<ConnectionInfo> EmulatorServer::connections() const
{
    QList<ConnectionInfo> out;
    for (auto &[id, c] : d->connections) {
        ConnectionInfo info;
        info.id = id;
        info.senderId = c->senderId;
        info.bound = c->bound;
        info.draining = c->draining;
        info.pendingDownstream = c->pending;
        info.unackedUpstream = c->unackedUpstream;
        info.unsentBytes = c->stream->unsentBytes();
        out.append(info);
    }
    return out;
}

void EmulatorServer::setFaults(const FaultSchedule &faults)
{
    d->config.faults = faults;
    d->applySchedules();
    if (d->observer)
        d->observer->faultsChanged(d->now(), faults);
}

FaultSchedule EmulatorServer::faults() const
{
    return d->config.faults;
}

void EmulatorServer::redeliverNextUpstream()
{
    d->redeliverNext = true;
}

void EmulatorServer::setStrictWindow(bool strict)
{
    d->config.strictWindow = strict;
}

void EmulatorServer::setReceiptDelayMs(int ms)
{
    d->config.receiptDelayMs = std::max(0, ms);
}

void EmulatorServer::setUpstreamRatePerSecond(double rate)
{
    d->config.upstreamRatePerSecond = std::max(0.0, rate);
    d->applySchedules();
}

QList<DownstreamRecord> EmulatorServer::downstreamRecord() const
{
    return d->downstreamRecords;
}

QList<UpstreamRecord> EmulatorServer::upstreamRecord() const
{
    return d->upstreamRecords;
}

EmulatorCounters EmulatorServer::counters() const
{
    return d->counters;
}

int EmulatorServer::openConnections() const
{
    return static_cast<int>(d->connections.size());
}

void EmulatorServer::clearRecord()
{
    d->downstreamRecords.clear();
    d->downstreamIndex.clear();
    d->upstreamRecords.clear();
    d->upstreamIndex.clear();
    d->counters = EmulatorCounters {};
}

} // namespace ccs::emulator
