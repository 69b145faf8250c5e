#include "EmulatorServer.h"

#include "ConnectionLoop_p.h"
#include "DeviceSimulator_p.h"
#include "EmulatorConnections_p.h"
#include "EmulatorContext_p.h"
#include "EmulatorObserver.h"
#include "EmulatorStream_p.h"
#include "UpstreamQueue_p.h"
#include "protocol/ConstantTime_p.h"
#include "protocol/JsonCodec.h"
#include "protocol/Validation.h"

#include <QDateTime>
#include <QSslServer>
#include <QThread>
#include <QTimer>

#include <variant>

namespace ccs::emulator {

namespace {
QString authenticateAgainst(
    const QList<SenderCredentials> &senders, const QString &authcid, const QString &password)
{
    const qsizetype at = authcid.lastIndexOf(QLatin1Char('@'));
    if (at <= 0)
        return {}; // CCS wants SENDER_ID@gcm.googleapis.com, not the bare sender ID
    const QString senderId = authcid.left(at);
    const QString domain = authcid.mid(at + 1).toLower();
    if (domain != QLatin1String("gcm.googleapis.com") && domain != QLatin1String("fcm.googleapis.com"))
        return {};
    for (const SenderCredentials &s : senders) {
        if (s.senderId == senderId && constantTimeEquals(s.apiKey.toUtf8(), password.toUtf8()))
            return senderId;
    }
    return {};
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

// The facade: owns the parts and joins them. Connections and their answers
// (EmulatorConnections), the simulated devices (DeviceSimulator), the upstream
// queue (UpstreamQueue) and the record (EmulatorRecord, in EmulatorContext).
// What the client sends is dispatched here by its parsed type.
//
// Threads. Everything in Private (connections' windows and answers, devices,
// the upstream queue, the record, the random generator, the observer) is owned
// by the server's thread (the one that created it) and touched only there: no
// lock guards it, because nothing else reaches it. With config.threads = N > 1
// the costly per-connection work moves off that thread: a DescriptorServer
// hands each accepted socket to one of N ConnectionLoops (N - 1 worker threads
// and one on the server's thread, taken in turn), which makes the TLS
// handshake and runs the EmulatorStream (decryption, XML, SASL, encryption).
// The stream's signals reach Private queued, in the order the stream emitted
// them, the <gcm> stanzas of one read at once and with their JSON parsed on
// the worker (ParsedGcm); Private's calls reach
// the stream queued (StreamHandle), in the order made, those made before the
// stream's thread takes them in one hop. So the observer (the conformance grader) and the server's signals
// are called on the server's thread, one at a time and in each connection's order, and with one connection
// the run is the same for a seed whatever the thread count. threads = 1 keeps the QSslServer and every stream
// on the server's thread: no queued hop at all.
class EmulatorServer::Private
{
public:
    explicit Private(EmulatorServer *qq)
        : q(qq)
        , connections(ctx)
        , devices(ctx)
        , upstream(ctx)
    {
        ctx.clock.start();
        devices.changed = [this] { scheduleDevicesChanged(); };
        devices.receiptDue = [this](const DeviceState &dev, const Delivery &delivery) {
            const QString token = dev.status.spec.token;
            const QString category = dev.status.spec.category;
            const QString senderId = delivery.senderId;
            const QString messageId = delivery.messageId;
            QTimer::singleShot(
                std::max(0, ctx.config.receiptDelayMs), q, [this, senderId, messageId, token, category] {
                    upstream.enqueueReceipt(senderId, messageId, token, category);
                    schedulePump();
                });
        };
    }

    EmulatorServer *q;
    EmulatorContext ctx;
    ConnectionSet connections;
    DeviceSimulator devices;
    UpstreamQueue upstream;
    std::unique_ptr<QTcpServer> server; // a QSslServer, or with threads > 1 a DescriptorServer
    std::shared_ptr<std::atomic<int>> nextConnectionId = std::make_shared<std::atomic<int>>(1);
    // threads > 1: the worker threads, the loops they run and the server's own loop (last in loops).
    std::vector<std::unique_ptr<QThread>> workerThreads;
    std::vector<ConnectionLoop *> loops;
    std::unique_ptr<ConnectionLoop> ownLoop;
    std::vector<std::unique_ptr<ConnectionLoop>> retiredLoops; // a stopped run's, until the server goes
    size_t nextLoop = 0;
    bool pumpScheduled = false;
    bool devicesChangedScheduled = false;
    QTimer upstreamRateTimer;
    QTimer dropTimer;
    QTimer drainTimer;
    size_t scenarioDeviceCursor = 0;

    qint64 now() const { return ctx.now(); }
    EmulatorCounters &counters() { return ctx.counters(); }

    StreamLimits streamLimits() const;
    void onNewConnections();
    void onOpened(int id, EmulatorStream *stream, const QString &peer,
        std::shared_ptr<std::atomic<qint64>> unsentBytes, bool sameThread);
    void onHandshakeFailed();
    void watchStream(EmulatorStream *stream, int id);
    void startLoops(int count, const QSslConfiguration &ssl);
    void dispatch(qintptr descriptor);
    void stopLoops();
    void onGcm(Connection &c, const ParsedGcm &gcm);
    void onGcmBatch(int connectionId, const ParsedGcmBatch &batch);
    void handleUnparsable(Connection &c, const QByteArray &stanzaId, const QByteArray &raw,
        const QJsonObject &object, const ParseError &error);
    void handleClientAck(Connection &c, const QString &to, const QString &messageId);
    void handleDownstream(Connection &c, const QByteArray &stanzaId, const QByteArray &raw,
        const QJsonObject &object, const DownstreamMessage &message);
    void schedulePump();
    void drain(Connection &c);
    void drop(Connection &c);
    void onClosed(int connectionId);
    void scheduleDevicesChanged();
    void applySchedules();
    void stopTimers();
    void spontaneousUpstream();
    void scenarioUpstream(const QString &senderId, int count);
};

StreamLimits EmulatorServer::Private::streamLimits() const
{
    StreamLimits limits;
    limits.maxStanzaBytes = ctx.config.maxStanzaBytes;
    limits.maxDepth = ctx.config.maxStanzaDepth;
    limits.authTimeoutMs = ctx.config.authTimeoutMs;
    limits.maxStanzaElements = ctx.config.maxStanzaElements;
    limits.maxUnsentBytes = ctx.config.maxUnsentBytes;
    return limits;
}

void EmulatorServer::Private::watchStream(EmulatorStream *stream, int id)
{
    QObject::connect(stream, &EmulatorStream::authenticated, q, [this, id](const QString &senderId) {
        Connection *c = connections.find(id);
        if (!c)
            return;
        c->senderId = senderId;
        if (ctx.observer)
            ctx.observer->authenticated(id, now(), senderId);
        Q_EMIT q->clientAuthenticated(id, senderId);
    });
    QObject::connect(stream, &EmulatorStream::authenticationFailed, q, [this, id] {
        ++counters().authFailures;
        if (ctx.observer)
            ctx.observer->authenticationFailed(id, now());
    });
    QObject::connect(stream, &EmulatorStream::bound, q, [this, id] {
        Connection *c = connections.find(id);
        if (!c)
            return;
        // At most maxConnectionsPerSender authenticated connections of one
        // sender: one more is closed once bound, with a reason it can read.
        const int limit = ctx.config.maxConnectionsPerSender;
        if (limit > 0 && connections.openOfSender(c->senderId) > limit) {
            ++counters().connectionLimitRejections;
            c->stream.sendStreamErrorAndClose(QStringLiteral("policy-violation"),
                QStringLiteral("more than %1 connections for this sender ID").arg(limit));
            return;
        }
        c->bound = true;
        if (ctx.observer)
            ctx.observer->bound(id, now());
        schedulePump(); // un-ACKed upstream and receipts wait for this
    });
    // Direct: the id and JSON are views into the stream's read, valid during the call. Only
    // a stream on this thread emits gcmReceived(); the others hand batches over (startLoops()).
    QObject::connect(
        stream, &EmulatorStream::gcmReceived, q,
        [this, id](QByteArrayView stanzaId, QByteArrayView json) {
            Q_ASSERT(QThread::currentThread() == q->thread());
            if (Connection *c = connections.find(id))
                onGcm(*c, parseGcm(stanzaId.toByteArray(), json.toByteArray()));
        },
        Qt::DirectConnection);
    QObject::connect(stream, &EmulatorStream::streamErrorSent, q, [this, id] {
        ++counters().streamErrors;
        if (Connection *c = connections.find(id)) {
            c->end = ConnectionEnd::StreamError;
            c->stream.markClosing();
        }
    });
    QObject::connect(stream, &EmulatorStream::closed, q, [this, id] { onClosed(id); });
}

// threads = 1: QSslServer made the TLS handshake; the stream lives here.
void EmulatorServer::Private::onNewConnections()
{
    while (server && server->hasPendingConnections()) {
        auto *socket = qobject_cast<QSslSocket *>(server->nextPendingConnection());
        if (!socket)
            continue;
        // Stanzas are small and answered one by one: no Nagle delay on ACKs.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        const int id = nextConnectionId->fetch_add(1);
        const QString peer = socket->peerAddress().toString();
        const QList<SenderCredentials> senders = ctx.config.senders;
        auto *stream = new EmulatorStream(
            id, socket, streamLimits(),
            [senders](const QString &a, const QString &p) { return authenticateAgainst(senders, a, p); }, q);
        watchStream(stream, id);
        onOpened(id, stream, peer, {}, true);
    }
}

// A stream is ready (on this thread, or queued from a worker before any of its signals).
void EmulatorServer::Private::onOpened(int id, EmulatorStream *stream, const QString &peer,
    std::shared_ptr<std::atomic<qint64>> unsentBytes, bool sameThread)
{
    // Sockets that have not authenticated yet are bounded apart from the
    // per-sender limit, so that nobody can hold every slot without a key.
    const int maxUnauthenticated = ctx.config.maxUnauthenticatedConnections;
    const bool tooMany = maxUnauthenticated > 0 && connections.unauthenticated() >= maxUnauthenticated;
    Connection &c = connections.add(id, StreamHandle(stream, sameThread, std::move(unsentBytes)));
    ++counters().connectionsAccepted;
    qCInfo(lcCcsServer) << "connection" << id << "accepted from" << peer;
    Q_EMIT q->clientConnected(id);
    if (ctx.observer)
        ctx.observer->connectionOpened(id, now());
    if (!server) { // stopped while a worker finished its handshake
        c.end = ConnectionEnd::Stopped;
        c.stream.closeStream();
    } else if (tooMany) {
        ++counters().connectionLimitRejections;
        c.stream.sendStreamErrorAndClose(QStringLiteral("policy-violation"),
            QStringLiteral("more than %1 connections waiting to authenticate").arg(maxUnauthenticated));
    }
}

void EmulatorServer::Private::onHandshakeFailed()
{
    if (ctx.observer)
        ctx.observer->tlsHandshakeFailed(now());
}

void EmulatorServer::Private::startLoops(int count, const QSslConfiguration &ssl)
{
    ConnectionLoop::Setup setup;
    setup.ssl = ssl;
    setup.limits = streamLimits();
    const QList<SenderCredentials> senders = ctx.config.senders; // a copy: read on the loops' threads
    setup.authenticator
        = [senders](const QString &a, const QString &p) { return authenticateAgainst(senders, a, p); };
    setup.nextConnectionId = nextConnectionId;
    setup.serverThread = q->thread();
    // From a worker: queued to this thread, in the order of the stream's signals.
    setup.received = [this](int id, ParsedGcmBatch batch) {
        QMetaObject::invokeMethod(
            q, [this, id, batch = std::move(batch)] { onGcmBatch(id, batch); }, Qt::QueuedConnection);
    };
    setup.watch = [this](EmulatorStream *stream, int id) { watchStream(stream, id); };
    // From a worker: queued to this thread, after which the stream's own signals follow.
    setup.handshakeFailed = [this] {
        QMetaObject::invokeMethod(
            q, [this] { onHandshakeFailed(); }, Qt::QueuedConnection);
    };
    setup.opened = [this](int id, EmulatorStream *stream, const QString &peer,
                       std::shared_ptr<std::atomic<qint64>> unsent) {
        QMetaObject::invokeMethod(
            q, [this, id, stream, peer, unsent] { onOpened(id, stream, peer, unsent, false); },
            Qt::QueuedConnection);
    };
    for (int i = 1; i < count; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(QStringLiteral("ccs-emulator-loop-%1").arg(i));
        auto *loop = new ConnectionLoop(setup);
        loop->moveToThread(thread.get());
        // Deleted on its thread as the thread ends, with its sockets and streams.
        QObject::connect(thread.get(), &QThread::finished, loop, &QObject::deleteLater);
        thread->start();
        loops.push_back(loop);
        workerThreads.push_back(std::move(thread));
    }
    ConnectionLoop::Setup own = setup;
    own.handshakeFailed = [this] { onHandshakeFailed(); };
    own.opened
        = [this](int id, EmulatorStream *stream, const QString &peer,
              std::shared_ptr<std::atomic<qint64>> unsent) { onOpened(id, stream, peer, unsent, true); };
    if (ownLoop)
        retiredLoops.push_back(std::move(ownLoop));
    ownLoop = std::make_unique<ConnectionLoop>(own);
    loops.push_back(ownLoop.get());
    nextLoop = 0;
}

// The loops take connections in turn, the workers first: with one connection
// and two loops, its TLS and XML run beside the server's own work.
void EmulatorServer::Private::dispatch(qintptr descriptor)
{
    ConnectionLoop *loop = loops[nextLoop++ % loops.size()];
    if (loop == ownLoop.get())
        loop->accept(descriptor);
    else
        QMetaObject::invokeMethod(
            loop, [loop, descriptor] { loop->accept(descriptor); }, Qt::QueuedConnection);
}

void EmulatorServer::Private::stopLoops()
{
    if (workerThreads.empty())
        return;
    for (const auto &thread : workerThreads)
        thread->quit();
    for (const auto &thread : workerThreads)
        thread->wait();
    workerThreads.clear();
    loops.clear();
    // Their streams went with them, closed() unsaid: what they carried un-ACKed waits for another.
    for (int id : connections.ids()) {
        if (connections.find(id)->stream.sameThread())
            continue;
        std::unique_ptr<Connection> c = connections.take(id);
        upstream.release(id);
        if (ctx.observer)
            ctx.observer->connectionClosed(id, now(), ConnectionEnd::Stopped);
    }
}

// Dispatch on what the client sent, as json::parseClientMessage reads it.
// From a worker loop: a read's stanzas, parsed there.
void EmulatorServer::Private::onGcmBatch(int connectionId, const ParsedGcmBatch &batch)
{
    for (const ParsedGcm &gcm : batch) {
        if (Connection *c = connections.find(connectionId))
            onGcm(*c, gcm);
    }
}

void EmulatorServer::Private::onGcm(Connection &c, const ParsedGcm &gcm)
{
    const QByteArray &stanzaId = gcm.stanzaId;
    const QByteArray &raw = gcm.raw;
    const QJsonObject &object = gcm.object;
    const ClientMessage &message = gcm.message;
    if (const auto *ack = std::get_if<Ack>(&message)) {
        handleClientAck(c, ack->to, ack->messageId);
    } else if (const auto *downstream = std::get_if<DownstreamMessage>(&message)) {
        // "message_type": null is a message_type CCS does not know: ignored.
        if (!object.contains(QLatin1String("message_type")))
            handleDownstream(c, stanzaId, raw, object, *downstream);
        else
            qCDebug(lcCcsServer) << "connection" << c.id << "ignored a null message_type";
    } else if (const auto *unknown = std::get_if<UnknownMessage>(&message)) {
        // An app server never sends anything else; CCS ignores unknown message types.
        qCDebug(lcCcsServer) << "connection" << c.id << "ignored message_type" << unknown->messageType;
    } else {
        handleUnparsable(c, stanzaId, raw, object, std::get<ParseError>(message));
    }
}

void EmulatorServer::Private::handleUnparsable(Connection &c, const QByteArray &stanzaId,
    const QByteArray &raw, const QJsonObject &object, const ParseError &error)
{
    if (error.offset < 0) {
        // A JSON object (parsed into `object`) with a known field of the wrong
        // type: an ACK whose fields are not strings names nothing (BAD_ACK); a
        // message_type that is not a string is one CCS does not know (ignored).
        if (object.value(QLatin1String("message_type")).toString() == QLatin1String("ack")) {
            handleClientAck(c, object.value(QLatin1String("to")).toString(),
                object.value(QLatin1String("message_id")).toString());
        } else {
            qCDebug(lcCcsServer) << "connection" << c.id << "ignored:" << error.message;
        }
        return;
    }
    ++counters().downstreamReceived;
    ++c.stanzasReceived;
    ++c.pending;
    counters().maxPendingSeen = std::max(counters().maxPendingSeen, c.pending);
    const QString text = QStringLiteral("InvalidJson: JSON_PARSING_ERROR : ") + error.message;
    if (ctx.observer)
        ctx.observer->unparsableReceived(c.id, now(), text);
    connections.queueStanzaError(c, QString::fromUtf8(stanzaId), raw, text, QString());
    Q_EMIT q->downstreamReceived(QString(), QString(), QStringLiteral("stanza-error"));
}

void EmulatorServer::Private::handleClientAck(Connection &c, const QString &to, const QString &messageId)
{
    UpstreamItem *item = upstream.awaitingAck(c.id, to, messageId);
    if (!item) {
        ++counters().badAcks;
        QString description;
        if (messageId.isEmpty())
            description = QStringLiteral("Missing message_id in ACK");
        else if (to.isEmpty())
            description = QStringLiteral("Missing 'to' in ACK for %1").arg(messageId);
        else
            description
                = QStringLiteral("No message %1 from %2 awaits an ACK on this connection").arg(messageId, to);
        if (ctx.observer)
            ctx.observer->ackReceived(c.id, now(), to, messageId, false);
        connections.queueNack(c, messageId, to, NackCode::BadAck, description, false);
        return;
    }
    if (ctx.observer)
        ctx.observer->ackReceived(c.id, now(), to, messageId, true);
    if (upstream.acknowledge(*item, c)) {
        Q_EMIT q->upstreamAcked(messageId, to);
        schedulePump();
        connections.checkDrainClose(c);
    }
}

void EmulatorServer::Private::handleDownstream(Connection &c, const QByteArray &stanzaId,
    const QByteArray &raw, const QJsonObject &object, const DownstreamMessage &message)
{
    ++counters().downstreamReceived;
    ++c.stanzasReceived;
    const QString &messageId = message.messageId;
    const QString &to = message.to;
    const int connectionId = c.id;
    const QString senderId = c.senderId;
    EmulatorObserver *observer = ctx.observer;
    DownstreamRecord *rec = nullptr;
    if (!messageId.isEmpty()) {
        rec = &ctx.record.downstream(messageId);
        rec->to = to;
        ++rec->timesReceived;
        rec->connectionIds.append(c.id);
        rec->verdict.clear();
        rec->delivery.clear();
        if (c.seenIds.contains(messageId))
            ++counters().duplicateDownstream;
        c.seenIds.insert(messageId);
    }
    if (observer)
        observer->downstreamReceived(c.id, now(), messageId, to, object);
    auto setVerdict = [&](const QString &verdict) {
        if (rec)
            rec->verdict = verdict;
        Q_EMIT q->downstreamReceived(messageId, to, verdict);
    };

    if (!connections.takeWindowSlot(c) && ctx.config.strictWindow) {
        setVerdict(QStringLiteral("dropped"));
        c.stream.sendStreamErrorAndClose(QStringLiteral("policy-violation"),
            QStringLiteral("more than %1 un-answered messages on this connection")
                .arg(kMaxPendingPerConnection));
        return;
    }
    const FaultSchedule &faults = ctx.config.faults;
    if (faults.dropEveryStanzas > 0 && c.stanzasReceived % faults.dropEveryStanzas == 0) {
        setVerdict(QStringLiteral("dropped"));
        drop(c);
        return;
    }
    auto nack = [&](NackCode code, const QString &description) {
        if (observer)
            observer->downstreamJudged(c.id, now(), messageId, to, true, code, false, description);
        setVerdict(QStringLiteral("nack:") + NackCatalogue::name(code));
        connections.queueNack(c, messageId, to, code, description);
    };
    ScenarioAction act;

    if (c.draining) {
        nack(NackCode::ConnectionDraining,
            QStringLiteral("Connection is draining: send on another connection"));
    } else if (const std::optional<ValidationFailure> failure = validateDownstream(object)) {
        if (failure->stanzaError) {
            if (observer)
                observer->downstreamJudged(
                    c.id, now(), messageId, to, false, NackCode::InvalidJson, true, failure->description);
            setVerdict(QStringLiteral("stanza-error"));
            connections.queueStanzaError(
                c, QString::fromUtf8(stanzaId), raw, failure->description, messageId);
        } else {
            nack(failure->nackCode, failure->description);
        }
    } else if (observer && (act = observer->scenarioAction(c.id, messageId, to), act.dropNow || act.nack)) {
        // The conformance scenario: faults placed by the app server's own traffic.
        if (act.upstream > 0)
            scenarioUpstream(senderId, act.upstream);
        act.upstream = 0;
        if (act.dropNow) {
            upstream.pump(connections); // an upstream message goes un-ACKed with the connection
            if (Connection *still = connections.find(connectionId)) {
                setVerdict(QStringLiteral("dropped"));
                drop(*still);
            }
            return;
        }
        if (act.unregisterToken) {
            devices.markUnregistered(to);
            if (observer)
                observer->deviceChanged(now(), to, QStringLiteral("unregistered"));
        }
        nack(act.nackCode,
            act.nackCode == NackCode::BadRegistration
                ? QStringLiteral("Invalid token on 'to' field: %1").arg(to)
                : act.nackCode == NackCode::DeviceUnregistered
                ? QStringLiteral("Device unregistered: %1").arg(to)
                : QStringLiteral("%1 (conformance scenario)").arg(NackCatalogue::name(act.nackCode)));
    } else if (faults.nackShare > 0 && ctx.rng.generateDouble() < faults.nackShare) {
        nack(faults.nackCode,
            faults.nackCode == NackCode::ServiceUnavailable
                ? QStringLiteral("Service unavailable (emulated fault)")
                : QStringLiteral("Internal server error (emulated fault)"));
    } else {
        const DeviceRoute route = devices.route(to, senderId);
        switch (route.verdict) {
        case DeviceRoute::Verdict::TopicRateExceeded:
            nack(NackCode::TopicsMessageRateExceeded,
                QStringLiteral("Topic message rate exceeded for %1").arg(route.topic));
            break;
        case DeviceRoute::Verdict::BadRegistration:
            nack(NackCode::BadRegistration, QStringLiteral("Invalid token on 'to' field: %1").arg(to));
            break;
        case DeviceRoute::Verdict::Unregistered:
            nack(NackCode::DeviceUnregistered, QStringLiteral("Device unregistered: %1").arg(to));
            break;
        case DeviceRoute::Verdict::DeviceRateExceeded:
            nack(NackCode::DeviceMessageRateExceeded,
                QStringLiteral("Downstream message rate exceeded for this registration id"));
            break;
        case DeviceRoute::Verdict::Deliver: {
            if (observer)
                observer->downstreamJudged(
                    c.id, now(), messageId, to, false, NackCode::InvalidJson, false, {});
            setVerdict(QStringLiteral("ack"));
            Ack a;
            a.messageId = messageId;
            a.from = to;
            Answer answer;
            answer.json = json::serializeAck(a);
            answer.messageId = messageId;
            connections.queueAnswer(c, std::move(answer));
            // Several devices (a topic's subscribers or a group's members) send
            // no delivery receipts: CCS sent receipts per registration token.
            if (route.fanOut && rec)
                rec->delivery = QStringLiteral("fanout:%1").arg(route.targets.size());
            if (message.dryRun.value_or(false))
                break;
            Delivery delivery;
            delivery.messageId = messageId;
            delivery.senderId = senderId;
            delivery.receiptRequested = !route.fanOut && message.deliveryReceiptRequested.value_or(false);
            delivery.delayWhileIdle = message.delayWhileIdle.value_or(false);
            delivery.collapseKey = message.collapseKey;
            delivery.timeToLive = message.effectiveTimeToLive();
            for (DeviceState *target : route.targets)
                devices.offer(*target, delivery);
            break;
        }
        }
    }
    if (act.upstream > 0)
        scenarioUpstream(senderId, act.upstream);
    if (act.drainAfter) {
        if (Connection *still = connections.find(connectionId))
            drain(*still);
    }
    if (Connection *still = connections.find(connectionId);
        still && faults.drainEveryStanzas > 0 && still->stanzasReceived % faults.drainEveryStanzas == 0) {
        drain(*still);
    }
}

void EmulatorServer::Private::schedulePump()
{
    if (pumpScheduled)
        return;
    pumpScheduled = true;
    QTimer::singleShot(0, q, [this] {
        pumpScheduled = false;
        upstream.pump(connections);
    });
}

void EmulatorServer::Private::drain(Connection &c)
{
    if (!c.bound || c.draining || !c.stream.isOpen())
        return;
    c.draining = true;
    ++counters().drainsSent;
    if (ctx.config.guideDrainStanza) // the guide's member order, too
        c.stream.sendDrainingControl(R"({"message_type":"control","control_type":"CONNECTION_DRAINING"})");
    else
        c.stream.sendGcm(json::serialize(Control::connectionDraining().toJson()));
    qCInfo(lcCcsServer) << "connection" << c.id << "draining";
    if (ctx.observer)
        ctx.observer->drainSent(c.id, now());
    // What was already in the pipeline still arrives here: the answers still
    // due (queued), and upstream messages and receipts already routed to it.
    upstream.deliverPipeline(c, std::max(0, ctx.config.drainPipelineMessages));
    // CCS closes the connection when it is ready: after the grace period. With
    // no grace, as soon as nothing is pending either way (at most 10 s).
    c.drainGraceTimer.start(ctx.config.drainGraceMs > 0 ? ctx.config.drainGraceMs : 10000);
    connections.checkDrainClose(c);
    schedulePump(); // another connection may take over its upstream traffic
}

void EmulatorServer::Private::drop(Connection &c)
{
    if (c.end == ConnectionEnd::Dropped)
        return; // already cut; on another thread, closed() is on its way
    ++counters().connectionsDropped;
    qCInfo(lcCcsServer) << "connection" << c.id << "dropped (fault)";
    c.end = ConnectionEnd::Dropped;
    c.stream.abort(); // emits closed(): on the server's thread, c is gone after this
}

void EmulatorServer::Private::onClosed(int connectionId)
{
    std::unique_ptr<Connection> c = connections.take(connectionId);
    if (!c)
        return;
    // What was delivered and not ACKed goes out again on the next connection.
    upstream.release(connectionId);
    c->stream.stream()->deleteLater();
    if (ctx.observer)
        ctx.observer->connectionClosed(connectionId, now(), c->end);
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
    const FaultSchedule &f = ctx.config.faults;
    if (f.dropEveryMs > 0)
        dropTimer.start(f.dropEveryMs);
    else
        dropTimer.stop();
    if (f.drainEveryMs > 0)
        drainTimer.start(f.drainEveryMs);
    else
        drainTimer.stop();
    if (ctx.config.upstreamRatePerSecond > 0 && server)
        upstreamRateTimer.start(std::max(1, static_cast<int>(1000.0 / ctx.config.upstreamRatePerSecond)));
    else
        upstreamRateTimer.stop();
}

void EmulatorServer::Private::stopTimers()
{
    upstreamRateTimer.stop();
    dropTimer.stop();
    drainTimer.stop();
    devices.stop();
}

// The conformance scenario's upstream traffic: `count` registered devices of
// the sender, taken in turn, each send their next message (their own ids
// 1, 2, 3..., so ids repeat across devices).
void EmulatorServer::Private::scenarioUpstream(const QString &senderId, int count)
{
    std::vector<DeviceState> &all = devices.all();
    const size_t n = all.size();
    for (size_t tried = 0; count > 0 && tried < n; ++tried) {
        DeviceState &dev = all[scenarioDeviceCursor++ % n];
        if (dev.status.spec.kind != DeviceKind::Registered || devices.senderOf(dev) != senderId)
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
    for (const DeviceState &d : devices.all()) {
        if (d.status.spec.kind != DeviceKind::Unregistered)
            candidates.append(d.status.spec.token);
    }
    if (candidates.isEmpty() || ctx.config.senders.isEmpty())
        return;
    const QString token = candidates.at(int(ctx.rng.bounded(quint32(candidates.size()))));
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
}

EmulatorServer::~EmulatorServer()
{
    d->stopTimers();
    // Streams are QObject children (or a loop's); keep their signals from reaching a half-destroyed server.
    for (const auto &[id, c] : d->connections.all())
        QObject::disconnect(c->stream.stream(), nullptr, this, nullptr);
    // Worker threads end here: nothing of theirs calls into Private after this.
    // The observer may be gone already: it hears nothing of this.
    d->ctx.observer = nullptr;
    d->stopLoops();
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
    d->ctx.config = config;
    d->ctx.seed = config.seed != 0 ? config.seed : QRandomGenerator::system()->generate64();
    const quint32 seedWords[2] = {quint32(d->ctx.seed), quint32(d->ctx.seed >> 32)};
    d->ctx.rng = QRandomGenerator(seedWords, 2);
    d->devices.clear();
    for (const DeviceSpec &spec : config.devices)
        addDevice(spec);

    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setLocalCertificate(config.certificate);
    ssl.setPrivateKey(config.privateKey);
    ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
    ssl.setProtocol(QSsl::TlsV1_2OrLater);
    const int threads = std::max(1, config.threads);
    std::unique_ptr<QTcpServer> server;
    if (threads == 1) {
        auto sslServer = std::make_unique<QSslServer>();
        sslServer->setSslConfiguration(ssl);
        sslServer->setHandshakeTimeout(10000);
        QObject::connect(sslServer.get(), &QTcpServer::pendingConnectionAvailable, this,
            [this] { d->onNewConnections(); });
        QObject::connect(sslServer.get(), &QSslServer::errorOccurred, this,
            [this](QSslSocket *, QAbstractSocket::SocketError e) {
                qCDebug(lcCcsServer) << "TLS handshake failed:" << e;
                if (e == QAbstractSocket::SslHandshakeFailedError)
                    d->onHandshakeFailed();
            });
        server = std::move(sslServer);
    } else {
        auto descriptorServer = std::make_unique<DescriptorServer>();
        descriptorServer->onDescriptor = [this](qintptr descriptor) { d->dispatch(descriptor); };
        server = std::move(descriptorServer);
    }
    if (!server->listen(config.address, config.port))
        return fail(tr("Cannot listen on %1:%2: %3")
                        .arg(config.address.toString())
                        .arg(config.port)
                        .arg(server->errorString()));
    d->server = std::move(server);
    d->stopLoops(); // a run before this one's
    if (threads > 1)
        d->startLoops(threads, ssl);
    d->applySchedules();
    qCInfo(lcCcsServer) << "emulator listening on" << config.address.toString() << d->server->serverPort()
                        << "with" << threads << (threads == 1 ? "thread" : "threads");
    return true;
}

void EmulatorServer::stop()
{
    d->stopTimers();
    if (d->server) {
        d->server->close();
        d->server.reset();
    }
    for (const auto &[id, c] : d->connections.all()) {
        c->end = ConnectionEnd::Stopped;
        c->stream.closeStream();
    }
}

void EmulatorServer::setObserver(EmulatorObserver *observer)
{
    d->ctx.observer = observer;
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
    return d->ctx.config;
}

QList<DeviceStatus> EmulatorServer::devices() const
{
    return d->devices.statuses();
}

bool EmulatorServer::addDevice(const DeviceSpec &device)
{
    if (!d->devices.add(device))
        return false;
    if (d->ctx.observer)
        d->ctx.observer->deviceChanged(d->now(), device.token, QStringLiteral("added"));
    return true;
}

bool EmulatorServer::removeDevice(const QString &token)
{
    if (!d->devices.remove(token))
        return false;
    if (d->ctx.observer)
        d->ctx.observer->deviceChanged(d->now(), token, QStringLiteral("removed"));
    return true;
}

QString EmulatorServer::sendUpstream(const QString &token, const QJsonObject &data, const QString &senderId)
{
    DeviceState *dev = d->devices.find(token);
    if (!dev || (!senderId.isEmpty() && senderId != d->devices.senderOf(*dev)))
        return {};
    UpstreamRequest request;
    request.data = data;
    return sendUpstreamMessage(token, request);
}

QString EmulatorServer::sendUpstreamMessage(
    const QString &token, const UpstreamRequest &request, QString *error)
{
    DeviceState *dev = d->devices.find(token);
    if (!dev) {
        if (error)
            *error = tr("No device with this token.");
        return {};
    }
    const QString messageId = d->upstream.enqueue(*dev, d->devices.senderOf(*dev), request, error);
    if (!messageId.isEmpty()) {
        d->scheduleDevicesChanged();
        d->schedulePump();
    }
    return messageId;
}

void EmulatorServer::setDeviceOnline(const QString &token, bool online)
{
    if (!d->devices.find(token))
        return;
    d->devices.setOnline(token, online);
    if (d->ctx.observer)
        d->ctx.observer->deviceChanged(
            d->now(), token, online ? QStringLiteral("awake") : QStringLiteral("asleep"));
}

bool EmulatorServer::setDeviceSubscribed(const QString &token, const QString &topic, bool subscribed)
{
    if (!d->devices.setSubscribed(token, topic, subscribed))
        return false;
    if (d->ctx.observer)
        d->ctx.observer->deviceChanged(d->now(), token, QStringLiteral("topics"));
    return true;
}

QString EmulatorServer::createGroup(
    const QString &name, const QStringList &tokens, const QString &senderId, QString *error)
{
    return d->devices.createGroup(name, tokens, senderId, error);
}

bool EmulatorServer::changeGroup(
    const QString &notificationKey, const QStringList &add, const QStringList &remove, QString *error)
{
    return d->devices.changeGroup(notificationKey, add, remove, error);
}

bool EmulatorServer::removeGroup(const QString &notificationKey)
{
    return d->devices.removeGroup(notificationKey);
}

QList<DeviceGroup> EmulatorServer::groups() const
{
    return d->devices.groups();
}

quint64 EmulatorServer::seed() const
{
    return d->ctx.seed;
}

void EmulatorServer::setDrainGraceMs(int ms)
{
    d->ctx.config.drainGraceMs = std::max(0, ms);
}

void EmulatorServer::drainConnections()
{
    for (int id : d->connections.ids())
        drainConnection(id);
}

void EmulatorServer::dropConnections()
{
    for (int id : d->connections.ids())
        dropConnection(id);
}

void EmulatorServer::drainConnection(int connectionId)
{
    if (Connection *c = d->connections.find(connectionId))
        d->drain(*c);
}

void EmulatorServer::dropConnection(int connectionId)
{
    if (Connection *c = d->connections.find(connectionId))
        d->drop(*c);
}

QList<ConnectionInfo> EmulatorServer::connections() const
{
    QList<ConnectionInfo> out;
    for (const auto &[id, c] : d->connections.all()) {
        ConnectionInfo info;
        info.id = id;
        info.senderId = c->senderId;
        info.bound = c->bound;
        info.draining = c->draining;
        info.pendingDownstream = c->pending;
        info.unackedUpstream = c->unackedUpstream;
        info.unsentBytes = c->stream.unsentBytes();
        out.append(info);
    }
    return out;
}

void EmulatorServer::setFaults(const FaultSchedule &faults)
{
    d->ctx.config.faults = faults;
    d->applySchedules();
    if (d->ctx.observer)
        d->ctx.observer->faultsChanged(d->now(), faults);
}

FaultSchedule EmulatorServer::faults() const
{
    return d->ctx.config.faults;
}

void EmulatorServer::redeliverNextUpstream()
{
    d->upstream.redeliverNext();
}

void EmulatorServer::setStrictWindow(bool strict)
{
    d->ctx.config.strictWindow = strict;
}

void EmulatorServer::setReceiptDelayMs(int ms)
{
    d->ctx.config.receiptDelayMs = std::max(0, ms);
}

void EmulatorServer::setUpstreamRatePerSecond(double rate)
{
    d->ctx.config.upstreamRatePerSecond = std::max(0.0, rate);
    d->applySchedules();
}

QList<DownstreamRecord> EmulatorServer::downstreamRecord() const
{
    return d->ctx.record.downstreamRecords();
}

QList<UpstreamRecord> EmulatorServer::upstreamRecord() const
{
    return d->ctx.record.upstreamRecords();
}

EmulatorCounters EmulatorServer::counters() const
{
    return d->ctx.record.counters;
}

int EmulatorServer::openConnections() const
{
    return d->connections.size();
}

void EmulatorServer::clearRecord()
{
    d->ctx.record.clear();
}

} // namespace ccs::emulator

// Its own moc object: what links the client alone does not pull in the emulator.
#include "moc_EmulatorServer.cpp"
