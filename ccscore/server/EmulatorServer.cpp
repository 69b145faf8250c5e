#include "EmulatorServer.h"

#include "EmulatorStream.h"
#include "protocol/JsonCodec.h"
#include "protocol/Validation.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QPointer>
#include <QRandomGenerator>
#include <QSet>
#include <QSslServer>
#include <QTimer>

#include <deque>
#include <map>

namespace ccs::emulator {

namespace {
constexpr auto kReceiptFrom = "gcm.googleapis.com";

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    // Length leaks, content does not.
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return diff == 0;
}
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

struct HeldMessage {
    QString messageId;
    QString senderId;
    bool receiptRequested = false;
    qint64 expiresAtMs = 0;
};

struct DeviceState {
    DeviceStatus status;
    std::deque<qint64> recentDeliveries; // for RateLimited: times of the last minute's messages
    std::vector<HeldMessage> held; // delay_while_idle messages for an idle device
};

// An upstream message or receipt on its way to the app server.
struct UpstreamItem {
    QString messageId;
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
};

struct Answer {
    qint64 dueMs = 0;
    bool countsPending = true;
    bool isStanzaError = false;
    bool isNack = false;
    QString stanzaId;
    QByteArray json; // the answer, or for a stanza error the original payload
    QString errorText;
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
    quint64 nextUpstreamNumber = 1;
    QString upstreamIdPrefix;
    bool redeliverNext = false;
    bool pumpScheduled = false;
    bool devicesChangedScheduled = false;
    QTimer upstreamRateTimer;
    QTimer dropTimer;
    QTimer drainTimer;

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
    UpstreamRecord &upstreamRecord(const QString &messageId)
    {
        const auto it = upstreamIndex.constFind(messageId);
        if (it != upstreamIndex.constEnd())
            return upstreamRecords[*it];
        upstreamIndex.insert(messageId, upstreamRecords.size());
        upstreamRecords.append(UpstreamRecord {});
        upstreamRecords.last().messageId = messageId;
        return upstreamRecords.last();
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
    void deliverToDevice(
        DeviceState &device, const QString &messageId, const QString &senderId, bool receiptRequested);
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
        const bool tooMany
            = config.maxConnections > 0 && static_cast<int>(connections.size()) >= config.maxConnections;
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
        QObject::connect(conn->answerTimer.get(), &QTimer::timeout, q, [this, id] { flushAnswers(id); });
        conn->drainGraceTimer = std::make_unique<QTimer>();
        conn->drainGraceTimer->setSingleShot(true);
        QObject::connect(conn->drainGraceTimer.get(), &QTimer::timeout, q, [this, id] {
            if (Connection *c = connection(id))
                c->stream->closeStream();
        });
        EmulatorStream *stream = conn->stream;
        QObject::connect(stream, &EmulatorStream::authenticated, q, [this, id](const QString &senderId) {
            if (Connection *c = connection(id)) {
                c->senderId = senderId;
                Q_EMIT q->clientAuthenticated(id, senderId);
            }
        });
        QObject::connect(
            stream, &EmulatorStream::authenticationFailed, q, [this] { ++counters.authFailures; });
        QObject::connect(stream, &EmulatorStream::bound, q, [this, id] {
            if (Connection *c = connection(id)) {
                c->bound = true;
                schedulePump(); // un-ACKed upstream and receipts wait for this
            }
        });
        QObject::connect(stream, &EmulatorStream::gcmReceived, q,
            [this, id](const QString &stanzaId, const QString &text) {
                if (Connection *c = connection(id))
                    onGcm(c, stanzaId, text);
            });
        QObject::connect(stream, &EmulatorStream::streamErrorSent, q, [this] { ++counters.streamErrors; });
        QObject::connect(stream, &EmulatorStream::closed, q, [this, id] { onClosed(id); });
        connections.emplace(id, std::move(conn));
        ++counters.connectionsAccepted;
        qCInfo(lcCcsServer) << "connection" << id << "accepted from" << socket->peerAddress().toString();
        Q_EMIT q->clientConnected(id);
        if (tooMany) {
            stream->sendStreamErrorAndClose(QStringLiteral("policy-violation"),
                QStringLiteral("more than %1 connections").arg(config.maxConnections));
        }
    }
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
    // ACKs are valid only on the connection the message was delivered on. The
    // same id can be queued twice (a receipt for a message sent twice).
    for (UpstreamItem &u : upstream) {
        if (!messageId.isEmpty() && u.messageId == messageId && u.inflightConnection == c->id
            && u.unackedCopies > 0) {
            item = &u;
            break;
        }
    }
    if (!item) {
        ++counters.badAcks;
        const QString description = messageId.isEmpty()
            ? QStringLiteral("Missing message_id in ACK")
            : QStringLiteral("Unknown message_id in ACK on this connection: %1").arg(messageId);
        queueNack(c, messageId, to, NackCode::BadAck, description, false);
        return;
    }
    --item->unackedCopies;
    UpstreamRecord &rec = upstreamRecord(messageId);
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
        Q_EMIT q->upstreamAcked(messageId);
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
        if (c->seenIds.contains(messageId))
            ++counters.duplicateDownstream;
        c->seenIds.insert(messageId);
    }
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
        setVerdict(QStringLiteral("nack:") + NackCatalogue::name(code));
        queueNack(c, messageId, to, code, description);
    };
    const int connectionId = c->id;

    if (c->draining) {
        nack(NackCode::ConnectionDraining,
            QStringLiteral("Connection is draining: send on another connection"));
    } else if (const std::optional<ValidationFailure> failure = validateDownstream(object)) {
        if (failure->stanzaError) {
            setVerdict(QStringLiteral("stanza-error"));
            Answer a;
            a.isStanzaError = true;
            a.stanzaId = stanzaId;
            a.json = raw;
            a.errorText = failure->description;
            queueAnswer(c, a);
        } else {
            nack(failure->nackCode, failure->description);
        }
    } else if (faults.nackShare > 0 && QRandomGenerator::global()->generateDouble() < faults.nackShare) {
        nack(faults.nackCode,
            faults.nackCode == NackCode::ServiceUnavailable
                ? QStringLiteral("Service unavailable (emulated fault)")
                : QStringLiteral("Internal server error (emulated fault)"));
    } else {
        const DownstreamMessage message = DownstreamMessage::fromJson(object);
        DeviceState *dev = nullptr;
        const bool toTopic = to.startsWith(QLatin1String("/topics/"));
        if (!toTopic)
            dev = device(to);
        if (!toTopic && !dev) {
            nack(NackCode::BadRegistration, QStringLiteral("Invalid token on 'to' field: %1").arg(to));
        } else if (dev && dev->status.spec.kind == DeviceKind::Unregistered) {
            nack(NackCode::DeviceUnregistered, QStringLiteral("Device unregistered: %1").arg(to));
        } else if (dev && dev->status.spec.kind == DeviceKind::RateLimited && !takeRateSlot(*dev)) {
            nack(NackCode::DeviceMessageRateExceeded,
                QStringLiteral("Downstream message rate exceeded for this registration id"));
        } else {
            setVerdict(QStringLiteral("ack"));
            Ack ack;
            ack.messageId = messageId;
            ack.from = to;
            Answer a;
            a.json = json::serializeAck(ack);
            queueAnswer(c, a);
            if (dev && !message.dryRun.value_or(false)) {
                const bool idleHold = dev->status.spec.kind == DeviceKind::Idle && !dev->status.online
                    && message.delayWhileIdle.value_or(false);
                if (idleHold) {
                    if (message.effectiveTimeToLive() > 0) {
                        HeldMessage held;
                        held.messageId = messageId;
                        held.senderId = c->senderId;
                        held.receiptRequested = message.deliveryReceiptRequested.value_or(false);
                        held.expiresAtMs = now() + message.effectiveTimeToLive() * 1000;
                        dev->held.push_back(held);
                    } else {
                        ++counters.messagesExpired; // time_to_live 0: now or never
                    }
                } else {
                    deliverToDevice(
                        *dev, messageId, c->senderId, message.deliveryReceiptRequested.value_or(false));
                }
            }
        }
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
    queueAnswer(c, a);
}

void EmulatorServer::Private::queueAnswer(Connection *c, Answer answer)
{
    // Answers leave in the order their messages came, each after the configured delay.
    answer.dueMs = now() + std::max(0, config.faults.ackDelayMs);
    c->answers.push_back(std::move(answer));
    if (config.faults.ackDelayMs <= 0 && c->answers.size() == 1) {
        flushAnswers(c->id);
        return;
    }
    if (!c->answerTimer->isActive())
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
    }
    if (!c->answers.empty())
        c->answerTimer->start(std::max<qint64>(0, c->answers.front().dueMs - t));
    checkDrainClose(c);
}

void EmulatorServer::Private::deliverToDevice(
    DeviceState &dev, const QString &messageId, const QString &senderId, bool receiptRequested)
{
    ++dev.status.received;
    scheduleDevicesChanged();
    if (!receiptRequested || messageId.isEmpty())
        return;
    const QString token = dev.status.spec.token;
    const QString category = dev.status.spec.category;
    QTimer::singleShot(std::max(0, config.receiptDelayMs), q,
        [this, senderId, messageId, token, category] { queueReceipt(senderId, messageId, token, category); });
}

void EmulatorServer::Private::queueReceipt(
    const QString &senderId, const QString &originalId, const QString &token, const QString &category)
{
    const Receipt receipt = Receipt::make(originalId, token, category);
    UpstreamItem item;
    item.messageId = receipt.messageId;
    item.senderId = senderId;
    item.isReceipt = true;
    item.json = json::serialize(receipt.toJson());
    item.expiresAtMs = now() + kMaxTimeToLive * 1000;
    UpstreamRecord &rec = upstreamRecord(item.messageId);
    rec.from = QLatin1String(kReceiptFrom);
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
        if (!c)
            continue;
        bool twice = false;
        if (!item.isReceipt) {
            if (redeliverNext) {
                twice = true;
                redeliverNext = false;
            } else if (config.faults.duplicateUpstreamShare > 0) {
                twice = QRandomGenerator::global()->generateDouble() < config.faults.duplicateUpstreamShare;
            }
        }
        const int copies = twice ? 2 : 1;
        UpstreamRecord &rec = upstreamRecord(item.messageId);
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
        item.inflightConnection = c->id;
        if (!item.everDelivered && !item.deviceToken.isEmpty())
            --unsentByDevice[item.deviceToken];
        item.everDelivered = true;
        item.unackedCopies = copies;
        ++c->unackedUpstream;
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
    c->stream->sendGcm(json::serialize(Control::connectionDraining().toJson()));
    qCInfo(lcCcsServer) << "connection" << c->id << "draining";
    c->drainGraceTimer->start(std::max(0, config.drainGraceMs));
    checkDrainClose(c);
    schedulePump(); // another connection may take over its upstream traffic
}

void EmulatorServer::Private::checkDrainClose(Connection *c)
{
    if (c->draining && c->pending <= 0 && c->answers.empty() && c->unackedUpstream <= 0
        && c->stream->isOpen())
        c->stream->closeStream();
}

void EmulatorServer::Private::drop(Connection *c)
{
    ++counters.connectionsDropped;
    qCInfo(lcCcsServer) << "connection" << c->id << "dropped (fault)";
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

void EmulatorServer::Private::spontaneousUpstream()
{
    QList<QString> candidates;
    for (const DeviceState &d : devices) {
        if (d.status.spec.kind != DeviceKind::Unregistered)
            candidates.append(d.status.spec.token);
    }
    if (candidates.isEmpty() || config.senders.isEmpty())
        return;
    const QString token = candidates.at(QRandomGenerator::global()->bounded(candidates.size()));
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
    d->upstreamIdPrefix
        = QStringLiteral("up-%1-").arg(QRandomGenerator::global()->generate(), 8, 16, QLatin1Char('0'));
}

EmulatorServer::~EmulatorServer()
{
    d->upstreamRateTimer.stop();
    d->dropTimer.stop();
    d->drainTimer.stop();
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
        server.get(), &QSslServer::errorOccurred, this, [](QSslSocket *, QAbstractSocket::SocketError e) {
            qCDebug(lcCcsServer) << "TLS handshake failed:" << e;
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
    if (d->server) {
        d->server->close();
        d->server.reset();
    }
    for (auto &[id, c] : d->connections)
        c->stream->closeStream();
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
    state.status.online = device.kind != DeviceKind::Idle; // idle devices start asleep
    d->deviceIndex.insert(device.token, d->devices.size());
    d->devices.push_back(std::move(state));
    d->scheduleDevicesChanged();
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
    return true;
}

QString EmulatorServer::sendUpstream(const QString &token, const QJsonObject &data, const QString &senderId)
{
    DeviceState *dev = d->device(token);
    if (!dev || d->config.senders.isEmpty())
        return {};
    const QString sender = senderId.isEmpty() ? d->config.senders.first().senderId : senderId;
    // A device queues at most this many unsent upstream messages.
    if (d->config.deviceUpstreamQueueLimit > 0
        && d->unsentByDevice.value(token) >= d->config.deviceUpstreamQueueLimit)
        return {};
    UpstreamMessage message;
    message.from = token;
    message.messageId = d->upstreamIdPrefix + QString::number(d->nextUpstreamNumber++);
    message.category = dev->status.spec.category;
    message.data = data;
    UpstreamItem item;
    item.messageId = message.messageId;
    item.senderId = sender;
    item.deviceToken = token;
    item.json = json::serialize(message.toJson());
    item.expiresAtMs = d->now() + std::max<qint64>(0, d->config.upstreamTimeToLiveSeconds) * 1000;
    UpstreamRecord &rec = d->upstreamRecord(item.messageId);
    rec.from = token;
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
        std::vector<HeldMessage> held;
        held.swap(dev->held);
        const qint64 t = d->now();
        for (const HeldMessage &m : held) {
            if (t >= m.expiresAtMs) {
                ++d->counters.messagesExpired; // its time_to_live ran out while the device slept
                continue;
            }
            d->deliverToDevice(*dev, m.messageId, m.senderId, m.receiptRequested);
        }
    }
    d->scheduleDevicesChanged();
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
