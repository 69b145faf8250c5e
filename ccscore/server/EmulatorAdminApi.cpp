#include "EmulatorAdminApi.h"

#include "EmulatorEventStream_p.h"
#include "EmulatorServer.h"
#include "EmulatorStream_p.h"
#include "conformance/ConformanceGrader.h"
#include "conformance/ConformanceReport.h"
#include "protocol/ConstantTime_p.h"
#include "protocol/JsonCodec.h"

#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonDocument>
#include <QPointer>
#include <QRandomGenerator>
#include <QTimer>
#include <QUrlQuery>
#include <QWebSocket>

#include <cmath>

namespace ccs::emulator {

namespace {
using Method = QHttpServerRequest::Method;
using Status = QHttpServerResponse::StatusCode;

QHttpServerResponse errorResponse(Status status, const QString &message)
{
    return QHttpServerResponse(QJsonObject {{QStringLiteral("error"), message}}, status);
}

bool readNumber(const QJsonObject &o, const char *key, double min, double max, double *out, QString *error)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined())
        return true;
    if (!v.isDouble() || v.toDouble() < min || v.toDouble() > max) {
        *error = QStringLiteral("\"%1\" must be a number from %2 to %3")
                     .arg(QLatin1String(key))
                     .arg(min)
                     .arg(max);
        return false;
    }
    *out = v.toDouble();
    return true;
}
} // namespace

QJsonObject toJson(const DeviceStatus &device)
{
    return {{QStringLiteral("token"), device.spec.token}, {QStringLiteral("name"), device.spec.name},
        {QStringLiteral("category"), device.spec.category},
        {QStringLiteral("kind"), deviceKindName(device.spec.kind)},
        {QStringLiteral("max_messages_per_minute"), device.spec.maxMessagesPerMinute},
        {QStringLiteral("online"), device.online}, {QStringLiteral("received"), device.received},
        {QStringLiteral("upstream_sent"), device.upstreamSent}, {QStringLiteral("held"), device.held},
        {QStringLiteral("sender_id"), device.spec.senderId},
        {QStringLiteral("topics"), QJsonArray::fromStringList(device.topics)}};
}

QJsonObject toJson(const DeviceGroup &group)
{
    return {{QStringLiteral("notification_key"), group.notificationKey},
        {QStringLiteral("notification_key_name"), group.name}, {QStringLiteral("sender_id"), group.senderId},
        {QStringLiteral("registration_ids"), QJsonArray::fromStringList(group.tokens)}};
}

QJsonObject toJson(const FaultSchedule &f)
{
    return {{QStringLiteral("nack_share"), f.nackShare},
        {QStringLiteral("nack_code"), NackCatalogue::name(f.nackCode)},
        {QStringLiteral("ack_delay_ms"), f.ackDelayMs},
        {QStringLiteral("answer_jitter_ms"), f.answerJitterMs},
        {QStringLiteral("drop_every_stanzas"), f.dropEveryStanzas},
        {QStringLiteral("drain_every_stanzas"), f.drainEveryStanzas},
        {QStringLiteral("drop_every_ms"), f.dropEveryMs}, {QStringLiteral("drain_every_ms"), f.drainEveryMs},
        {QStringLiteral("duplicate_upstream_share"), f.duplicateUpstreamShare}};
}

QJsonObject toJson(const EmulatorCounters &c)
{
    return {{QStringLiteral("connections_accepted"), c.connectionsAccepted},
        {QStringLiteral("auth_failures"), c.authFailures},
        {QStringLiteral("downstream_received"), c.downstreamReceived},
        {QStringLiteral("acks_sent"), c.acksSent}, {QStringLiteral("nacks_sent"), c.nacksSent},
        {QStringLiteral("stanza_errors_sent"), c.stanzaErrorsSent},
        {QStringLiteral("upstream_sent"), c.upstreamSent},
        {QStringLiteral("upstream_acked"), c.upstreamAcked},
        {QStringLiteral("receipts_sent"), c.receiptsSent}, {QStringLiteral("bad_acks"), c.badAcks},
        {QStringLiteral("window_violations"), c.windowViolations},
        {QStringLiteral("max_pending_seen"), c.maxPendingSeen}, {QStringLiteral("drains_sent"), c.drainsSent},
        {QStringLiteral("connections_dropped"), c.connectionsDropped},
        {QStringLiteral("duplicate_downstream"), c.duplicateDownstream},
        {QStringLiteral("messages_expired"), c.messagesExpired},
        {QStringLiteral("stream_errors"), c.streamErrors}, {QStringLiteral("messages_held"), c.messagesHeld},
        {QStringLiteral("messages_collapsed"), c.messagesCollapsed},
        {QStringLiteral("connection_limit_rejections"), c.connectionLimitRejections}};
}

static QJsonArray intArray(const QList<int> &list)
{
    QJsonArray a;
    for (int i : list)
        a.append(i);
    return a;
}

QJsonObject toJson(const DownstreamRecord &r)
{
    return {{QStringLiteral("message_id"), r.messageId}, {QStringLiteral("to"), r.to},
        {QStringLiteral("times_received"), r.timesReceived},
        {QStringLiteral("connections"), intArray(r.connectionIds)}, {QStringLiteral("verdict"), r.verdict},
        {QStringLiteral("receipt_sent"), r.receiptSent}, {QStringLiteral("receipt_acked"), r.receiptAcked},
        {QStringLiteral("delivery"), r.delivery}};
}

QJsonObject toJson(const UpstreamRecord &r)
{
    return {{QStringLiteral("message_id"), r.messageId}, {QStringLiteral("from"), r.from},
        {QStringLiteral("is_receipt"), r.isReceipt}, {QStringLiteral("times_delivered"), r.timesDelivered},
        {QStringLiteral("delivered_on"), intArray(r.deliveredOnConnections)},
        {QStringLiteral("acked"), r.acked}, {QStringLiteral("acked_on"), r.ackedOnConnection},
        {QStringLiteral("ack_count"), r.ackCount}};
}

QJsonObject toJson(const ConnectionInfo &c)
{
    return {{QStringLiteral("id"), c.id}, {QStringLiteral("sender_id"), c.senderId},
        {QStringLiteral("bound"), c.bound}, {QStringLiteral("draining"), c.draining},
        {QStringLiteral("pending_downstream"), c.pendingDownstream},
        {QStringLiteral("unacked_upstream"), c.unackedUpstream}};
}

bool deviceFromJson(const QJsonObject &o, DeviceSpec *device, QString *error)
{
    DeviceSpec spec;
    const QJsonValue token = o.value(QLatin1String("token"));
    if (!token.isString() || token.toString().trimmed().isEmpty() || token.toString().size() > 4096) {
        *error = QStringLiteral("\"token\" must be a non-empty string");
        return false;
    }
    spec.token = token.toString().trimmed();
    spec.name = o.value(QLatin1String("name")).toString(spec.token);
    spec.category = o.value(QLatin1String("category")).toString(spec.category);
    const QJsonValue kind = o.value(QLatin1String("kind"));
    if (!kind.isUndefined() && (!kind.isString() || !deviceKindFromName(kind.toString(), &spec.kind))) {
        *error = QStringLiteral("\"kind\" must be one of registered, unregistered, idle, rate-limited");
        return false;
    }
    double rate = spec.maxMessagesPerMinute;
    if (!readNumber(o, "max_messages_per_minute", 0, 1e6, &rate, error))
        return false;
    spec.maxMessagesPerMinute = static_cast<int>(rate);
    const QJsonValue sender = o.value(QLatin1String("sender_id"));
    if (!sender.isUndefined() && !sender.isString()) {
        *error = QStringLiteral("\"sender_id\" must be a string");
        return false;
    }
    spec.senderId = sender.toString();
    *device = spec;
    return true;
}

// Optional string field: absent is fine, anything but a string is an error.
bool readString(const QJsonObject &o, const char *key, QString *out, QString *error, int maxLength = 4096)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined())
        return true;
    if (!v.isString() || v.toString().size() > maxLength) {
        *error = QStringLiteral("\"%1\" must be a string of at most %2 characters")
                     .arg(QLatin1String(key))
                     .arg(maxLength);
        return false;
    }
    *out = v.toString();
    return true;
}

bool readStringList(const QJsonObject &o, const char *key, QStringList *out, QString *error)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined())
        return true;
    bool ok = v.isArray();
    for (const QJsonValue &item : v.toArray())
        ok = ok && item.isString() && !item.toString().isEmpty();
    if (!ok) {
        *error = QStringLiteral("\"%1\" must be an array of tokens").arg(QLatin1String(key));
        return false;
    }
    for (const QJsonValue &item : v.toArray())
        out->append(item.toString());
    return true;
}

bool applyFaultsJson(const QJsonObject &o, FaultSchedule *faults, QString *error)
{
    FaultSchedule f = *faults;
    double v = f.nackShare;
    if (!readNumber(o, "nack_share", 0, 1, &v, error))
        return false;
    f.nackShare = v;
    v = f.duplicateUpstreamShare;
    if (!readNumber(o, "duplicate_upstream_share", 0, 1, &v, error))
        return false;
    f.duplicateUpstreamShare = v;
    const struct {
        const char *key;
        int *field;
    } ints[] = {{"ack_delay_ms", &f.ackDelayMs}, {"answer_jitter_ms", &f.answerJitterMs},
        {"drop_every_stanzas", &f.dropEveryStanzas}, {"drain_every_stanzas", &f.drainEveryStanzas},
        {"drop_every_ms", &f.dropEveryMs}, {"drain_every_ms", &f.drainEveryMs}};
    for (const auto &field : ints) {
        v = *field.field;
        if (!readNumber(o, field.key, 0, 86400000, &v, error))
            return false;
        *field.field = static_cast<int>(v);
    }
    const QJsonValue code = o.value(QLatin1String("nack_code"));
    if (!code.isUndefined()) {
        bool known = false;
        const NackCode c = NackCatalogue::fromName(code.toString(), &known);
        if (!known || (c != NackCode::ServiceUnavailable && c != NackCode::InternalServerError)) {
            *error = QStringLiteral("\"nack_code\" must be SERVICE_UNAVAILABLE or INTERNAL_SERVER_ERROR");
            return false;
        }
        f.nackCode = c;
    }
    *faults = f;
    return true;
}

class EmulatorAdminApi::Private
{
public:
    QPointer<EmulatorServer> server;
    QPointer<ConformanceGrader> grader;
    EmulatorEventStream events;
    QHttpServer http;
    QString token;
    bool tokenGiven = false;
    quint16 port = 0;
    QHostAddress address = QHostAddress::LocalHost;

    bool authorized(const QByteArray &authorization) const
    {
        const QByteArray expected = "Bearer " + token.toLatin1();
        return constantTimeEquals(authorization, expected);
    }
    bool authorized(const QHttpServerRequest &request) const
    {
        return authorized(request.value("Authorization"));
    }
    void acceptEventStream(std::unique_ptr<QWebSocket> socket);
    QHttpServerResponse handle(const QStringList &path, const QHttpServerRequest &request);
    QHttpServerResponse dispatch(const QStringList &path, const QHttpServerRequest &request)
    {
        if (!authorized(request)) {
            QHttpServerResponse r
                = errorResponse(Status::Unauthorized, QStringLiteral("missing or wrong bearer token"));
            r.setHeader("WWW-Authenticate", "Bearer");
            return r;
        }
        if (!server)
            return errorResponse(Status::ServiceUnavailable, QStringLiteral("the emulator is gone"));
        return handle(path, request);
    }
};

QHttpServerResponse EmulatorAdminApi::Private::handle(
    const QStringList &path, const QHttpServerRequest &request)
{
    const Method method = request.method();
    QJsonObject body;
    if (!request.body().trimmed().isEmpty()) {
        ParseError parseError;
        if (!json::parseObject(request.body(), &body, &parseError))
            return errorResponse(Status::BadRequest,
                QStringLiteral("the body is not a JSON object: %1").arg(parseError.message));
    }
    const QString first = path.value(0);
    const auto notAllowed
        = [] { return errorResponse(Status::MethodNotAllowed, QStringLiteral("method not allowed")); };

    if (first == QLatin1String("status") && path.size() == 1) {
        if (method != Method::Get)
            return notAllowed();
        QJsonArray senders;
        for (const SenderCredentials &s : server->config().senders)
            senders.append(s.senderId); // never the API key
        QJsonArray connections;
        for (const ConnectionInfo &c : server->connections())
            connections.append(toJson(c));
        return QHttpServerResponse(QJsonObject {{QStringLiteral("listening"), server->isListening()},
            {QStringLiteral("port"), server->port()}, {QStringLiteral("senders"), senders},
            {QStringLiteral("connections"), connections},
            {QStringLiteral("counters"), toJson(server->counters())},
            {QStringLiteral("faults"), toJson(server->faults())},
            {QStringLiteral("seed"), QString::number(server->seed())}});
    }
    if (first == QLatin1String("devices")) {
        if (path.size() == 1) {
            if (method == Method::Get) {
                QJsonArray devices;
                for (const DeviceStatus &dev : server->devices())
                    devices.append(toJson(dev));
                return QHttpServerResponse(devices);
            }
            if (method == Method::Post) {
                DeviceSpec spec;
                QString error;
                if (!deviceFromJson(body, &spec, &error))
                    return errorResponse(Status::BadRequest, error);
                if (!server->addDevice(spec))
                    return errorResponse(Status::Conflict, QStringLiteral("a device with this token exists"));
                for (const DeviceStatus &dev : server->devices()) {
                    if (dev.spec.token == spec.token)
                        return QHttpServerResponse(toJson(dev), Status::Created);
                }
            }
            return notAllowed();
        }
        const QString token = path.at(1);
        bool known = false;
        for (const DeviceStatus &dev : server->devices())
            known = known || dev.spec.token == token;
        if (!known)
            return errorResponse(Status::NotFound, QStringLiteral("no device with this token"));
        if (path.size() == 2) {
            if (method == Method::Delete) {
                server->removeDevice(token);
                return QHttpServerResponse(QJsonObject {{QStringLiteral("removed"), token}});
            }
            return notAllowed();
        }
        if (path.size() == 3 && path.at(2) == QLatin1String("upstream")) {
            if (method != Method::Post)
                return notAllowed();
            const QJsonValue data = body.value(QLatin1String("data"));
            if (!data.isUndefined() && !data.isObject())
                return errorResponse(Status::BadRequest, QStringLiteral("\"data\" must be an object"));
            UpstreamRequest upstream;
            upstream.data = data.toObject();
            QString sender;
            QString error;
            if (!readString(body, "message_id", &upstream.messageId, &error, 1024)
                || !readString(body, "category", &upstream.category, &error)
                || !readString(body, "sender_id", &sender, &error))
                return errorResponse(Status::BadRequest, error);
            double ttl = -1;
            if (!readNumber(body, "time_to_live", 0, double(kMaxTimeToLive), &ttl, &error)
                || (ttl >= 0 && ttl != std::floor(ttl)))
                return errorResponse(Status::BadRequest,
                    error.isEmpty() ? QStringLiteral("\"time_to_live\" must be a whole number") : error);
            upstream.timeToLive = static_cast<qint64>(ttl);
            if (body.contains(QLatin1String("message_id")) && upstream.messageId.isEmpty())
                return errorResponse(Status::BadRequest, QStringLiteral("\"message_id\" must not be empty"));
            for (const DeviceStatus &dev : server->devices()) {
                if (dev.spec.token == token && !sender.isEmpty() && sender != dev.spec.senderId)
                    return errorResponse(Status::BadRequest,
                        QStringLiteral("the device is registered for sender %1").arg(dev.spec.senderId));
            }
            const QString id = server->sendUpstreamMessage(token, upstream, &error);
            if (id.isEmpty())
                return errorResponse(Status::TooManyRequests, error);
            return QHttpServerResponse(
                QJsonObject {{QStringLiteral("message_id"), id}, {QStringLiteral("from"), token}},
                Status::Created);
        }
        if (path.size() >= 3 && path.at(2) == QLatin1String("topics")) {
            // POST .../topics {"topic": "news"} subscribes; DELETE .../topics/news unsubscribes.
            QString topic = path.value(3);
            if (method == Method::Post && path.size() == 3) {
                QString error;
                if (!readString(body, "topic", &topic, &error, 900))
                    return errorResponse(Status::BadRequest, error);
            } else if (method != Method::Delete || path.size() != 4) {
                return notAllowed();
            }
            if (topic.startsWith(QLatin1String("/topics/")))
                topic = topic.mid(8);
            if (!server->setDeviceSubscribed(token, topic, method == Method::Post))
                return errorResponse(Status::BadRequest,
                    QStringLiteral("a topic name is 1 to 900 of the characters a-z A-Z 0-9 - _ . ~ %"));
            for (const DeviceStatus &dev : server->devices()) {
                if (dev.spec.token == token)
                    return QHttpServerResponse(toJson(dev));
            }
        }
        if (path.size() == 3 && path.at(2) == QLatin1String("unregister")) {
            // The app was uninstalled: the token stays known, messages to it get DEVICE_UNREGISTERED.
            if (method != Method::Post)
                return notAllowed();
            for (const DeviceStatus &dev : server->devices()) {
                if (dev.spec.token != token)
                    continue;
                DeviceSpec spec = dev.spec;
                spec.kind = DeviceKind::Unregistered;
                server->removeDevice(token);
                server->addDevice(spec);
                break;
            }
            for (const DeviceStatus &dev : server->devices()) {
                if (dev.spec.token == token)
                    return QHttpServerResponse(toJson(dev));
            }
        }
        if (path.size() == 3 && path.at(2) == QLatin1String("online")) {
            if (method != Method::Post)
                return notAllowed();
            if (!body.value(QLatin1String("online")).isBool())
                return errorResponse(Status::BadRequest, QStringLiteral("\"online\" must be true or false"));
            server->setDeviceOnline(token, body.value(QLatin1String("online")).toBool());
            return QHttpServerResponse(
                QJsonObject {{QStringLiteral("online"), body.value(QLatin1String("online"))}});
        }
    }
    if (first == QLatin1String("groups")) {
        if (path.size() == 1) {
            if (method == Method::Get) {
                QJsonArray groups;
                for (const DeviceGroup &g : server->groups())
                    groups.append(toJson(g));
                return QHttpServerResponse(groups);
            }
            if (method != Method::Post)
                return notAllowed();
            QString name, sender, error;
            QStringList tokens;
            if (!readString(body, "notification_key_name", &name, &error)
                || !readString(body, "sender_id", &sender, &error)
                || !readStringList(body, "registration_ids", &tokens, &error))
                return errorResponse(Status::BadRequest, error);
            const QString key = server->createGroup(name, tokens, sender, &error);
            if (key.isEmpty())
                return errorResponse(Status::BadRequest, error);
            for (const DeviceGroup &g : server->groups()) {
                if (g.notificationKey == key)
                    return QHttpServerResponse(toJson(g), Status::Created);
            }
        }
        if (path.size() == 2) {
            const QString key = path.at(1);
            if (method == Method::Delete) {
                if (!server->removeGroup(key))
                    return errorResponse(
                        Status::NotFound, QStringLiteral("no group with this notification key"));
                return QHttpServerResponse(QJsonObject {{QStringLiteral("removed"), key}});
            }
            if (method != Method::Post)
                return notAllowed();
            QStringList add, remove;
            QString error;
            if (!readStringList(body, "add", &add, &error)
                || !readStringList(body, "remove", &remove, &error))
                return errorResponse(Status::BadRequest, error);
            if (!server->changeGroup(key, add, remove, &error))
                return errorResponse(Status::BadRequest, error);
            for (const DeviceGroup &g : server->groups()) {
                if (g.notificationKey == key)
                    return QHttpServerResponse(toJson(g));
            }
            return QHttpServerResponse(QJsonObject {{QStringLiteral("removed"), key}});
        }
        return notAllowed();
    }
    if (first == QLatin1String("connections")) {
        if (path.size() == 1) {
            if (method != Method::Get)
                return notAllowed();
            QJsonArray connections;
            for (const ConnectionInfo &c : server->connections())
                connections.append(toJson(c));
            return QHttpServerResponse(connections);
        }
        if (path.size() == 2
            && (path.at(1) == QLatin1String("drain") || path.at(1) == QLatin1String("drop"))) {
            if (method != Method::Post)
                return notAllowed();
            const bool drain = path.at(1) == QLatin1String("drain");
            const QJsonValue id = body.value(QLatin1String("id"));
            const int before = server->openConnections();
            if (id.isDouble()) {
                drain ? server->drainConnection(id.toInt()) : server->dropConnection(id.toInt());
            } else if (id.isUndefined()) {
                drain ? server->drainConnections() : server->dropConnections();
            } else {
                return errorResponse(Status::BadRequest, QStringLiteral("\"id\" must be a connection id"));
            }
            return QHttpServerResponse(QJsonObject {{QStringLiteral("connections_before"), before}});
        }
    }
    if (first == QLatin1String("faults")) {
        if (path.size() == 1) {
            if (method == Method::Get)
                return QHttpServerResponse(toJson(server->faults()));
            if (method == Method::Put || method == Method::Post || method == Method::Patch) {
                FaultSchedule f = server->faults();
                QString error;
                if (!applyFaultsJson(body, &f, &error))
                    return errorResponse(Status::BadRequest, error);
                server->setFaults(f);
                return QHttpServerResponse(toJson(server->faults()));
            }
            return notAllowed();
        }
        if (path.size() == 2 && path.at(1) == QLatin1String("redeliver-next")) {
            if (method != Method::Post)
                return notAllowed();
            server->redeliverNextUpstream();
            return QHttpServerResponse(QJsonObject {{QStringLiteral("redeliver_next"), true}});
        }
    }
    if (first == QLatin1String("record") && path.size() == 1) {
        if (method == Method::Delete) {
            server->clearRecord();
            return QHttpServerResponse(QJsonObject {{QStringLiteral("cleared"), true}});
        }
        if (method != Method::Get)
            return notAllowed();
        QJsonArray down;
        for (const DownstreamRecord &r : server->downstreamRecord())
            down.append(toJson(r));
        QJsonArray up;
        for (const UpstreamRecord &r : server->upstreamRecord())
            up.append(toJson(r));
        return QHttpServerResponse(QJsonObject {{QStringLiteral("downstream"), down},
            {QStringLiteral("upstream"), up}, {QStringLiteral("counters"), toJson(server->counters())}});
    }
    if (first == QLatin1String("conformance") && path.size() == 1) {
        if (method != Method::Get)
            return notAllowed();
        if (!grader)
            return errorResponse(Status::NotFound, QStringLiteral("the emulator runs without --conformance"));
        return QHttpServerResponse(QByteArrayLiteral("application/json"),
            conformance::jsonReport(*grader, double(server->elapsedMs()) / 1000.0));
    }
    if (first == QLatin1String("counters") && path.size() == 1) {
        if (method != Method::Get)
            return notAllowed();
        return QHttpServerResponse(toJson(server->counters()));
    }
    return errorResponse(Status::NotFound, QStringLiteral("no such endpoint"));
}

void EmulatorAdminApi::Private::acceptEventStream(std::unique_ptr<QWebSocket> socket)
{
    const QUrl url = socket->requestUrl();
    auto refuse = [this, &socket](const QString &why) {
        QWebSocket *raw = socket.release();
        raw->setParent(&events); // gone with the API at the latest
        raw->sendTextMessage(QString::fromUtf8(QJsonDocument(
            QJsonObject {{QStringLiteral("type"), QStringLiteral("error")},
                {QStringLiteral("error"), why}}).toJson(QJsonDocument::Compact)));
        raw->close(QWebSocketProtocol::CloseCodePolicyViolated, why);
        QObject::connect(raw, &QWebSocket::disconnected, raw, &QObject::deleteLater);
        QTimer::singleShot(5000, raw, &QObject::deleteLater);
    };
    // The handshake's Authorization header, compared in constant time; never logged.
    if (!authorized(socket->request().rawHeader("Authorization")))
        return refuse(QStringLiteral("missing or wrong bearer token"));
    if (url.path() != QLatin1String("/api/v1/events"))
        return refuse(QStringLiteral("no such endpoint"));
    if (!server)
        return refuse(QStringLiteral("the emulator is gone"));
    const QUrlQuery query(url);
    quint64 from = 0;
    if (query.hasQueryItem(QStringLiteral("from"))) {
        bool ok = false;
        from = query.queryItemValue(QStringLiteral("from")).toULongLong(&ok);
        if (!ok)
            return refuse(QStringLiteral("\"from\" must be an event sequence number"));
    }
    QSet<int> connections;
    if (query.hasQueryItem(QStringLiteral("connection"))) {
        const QStringList ids = query.queryItemValue(QStringLiteral("connection")).split(QLatin1Char(','));
        for (const QString &id : ids) {
            bool ok = false;
            const int n = id.toInt(&ok);
            if (!ok || n <= 0)
                return refuse(QStringLiteral("\"connection\" must be connection ids separated by commas"));
            connections.insert(n);
        }
    }
    events.addClient(std::move(socket), from, connections);
}

EmulatorAdminApi::EmulatorAdminApi(EmulatorServer *server, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    d->server = server;
    if (server)
        server->setObserver(&d->events);
    connect(&d->http, &QAbstractHttpServer::newWebSocketConnection, this, [this] {
        while (d->http.hasPendingWebSocketConnections())
            d->acceptEventStream(d->http.nextPendingWebSocketConnection());
    });
    QByteArray raw(32, Qt::Uninitialized);
    for (char &c : raw)
        c = static_cast<char>(QRandomGenerator::system()->bounded(256));
    d->token
        = QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));

    // The event stream. Qt HttpServer 6.4 runs the route of an upgrade request
    // and hands the socket to its WebSocket server when the route matched: so
    // this route answers only what is not an authorized WebSocket handshake
    // (401 without the token, 426 for plain HTTP), and writes nothing otherwise.
    d->http.route(QStringLiteral("/api/v1/events"),
        [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
            if (!d->authorized(request)) {
                QHttpServerResponse r
                    = errorResponse(Status::Unauthorized, QStringLiteral("missing or wrong bearer token"));
                r.setHeader("WWW-Authenticate", "Bearer");
                r.write(std::move(responder));
            } else if (request.value("Upgrade").compare("websocket", Qt::CaseInsensitive) != 0) {
                QHttpServerResponse r(QJsonObject {{QStringLiteral("error"),
                                          QStringLiteral("the event stream is a WebSocket: connect "
                                                         "to ws://HOST:PORT/api/v1/events")}},
                    Status::UpgradeRequired);
                r.setHeader("Upgrade", "websocket");
                r.write(std::move(responder));
            }
        });
    d->http.route(QStringLiteral("/api/v1/<arg>"),
        [this](const QString &a, const QHttpServerRequest &request) { return d->dispatch({a}, request); });
    d->http.route(QStringLiteral("/api/v1/<arg>/<arg>"),
        [this](const QString &a, const QString &b, const QHttpServerRequest &request) {
            return d->dispatch({a, b}, request);
        });
    d->http.route(QStringLiteral("/api/v1/<arg>/<arg>/<arg>"),
        [this](const QString &a, const QString &b, const QString &c, const QHttpServerRequest &request) {
            return d->dispatch({a, b, c}, request);
        });
    d->http.route(QStringLiteral("/api/v1/<arg>/<arg>/<arg>/<arg>"),
        [this](const QString &a, const QString &b, const QString &c, const QString &e,
            const QHttpServerRequest &request) {
            return d->dispatch({a, b, c, e}, request);
        });
}

EmulatorAdminApi::~EmulatorAdminApi()
{
    if (d->server)
        d->server->setObserver(nullptr);
}

void EmulatorAdminApi::setConformanceGrader(ConformanceGrader *grader)
{
    if (d->grader)
        d->grader->disconnect(this);
    d->grader = grader;
    d->events.setNext(grader, grader);
    if (grader)
        connect(grader, &ConformanceGrader::ruleSettled, this,
            [this](const QString &rule, const QString &status, const QString &summary) {
                d->events.ruleSettled(d->server ? d->server->elapsedMs() : 0, rule, status, summary);
            });
}

EmulatorEventStream *EmulatorAdminApi::eventStream() const
{
    return &d->events;
}

QString EmulatorAdminApi::eventsUrl() const
{
    QString url = baseUrl();
    url.replace(0, 4, QStringLiteral("ws"));
    return url + QStringLiteral("/api/v1/events");
}

void EmulatorAdminApi::setToken(const QString &token)
{
    if (token.isEmpty())
        return;
    d->token = token;
    d->tokenGiven = true;
}

bool EmulatorAdminApi::listen(const QHostAddress &address, quint16 port, QString *error)
{
    if (!address.isLoopback() && !d->tokenGiven) {
        if (error)
            *error = tr("The admin API listens on loopback only, not on %1, unless its token is given.")
                         .arg(address.toString());
        return false;
    }
    const quint16 actual = d->http.listen(address, port);
    if (actual == 0) {
        if (error)
            *error = tr("The admin API cannot listen on %1:%2.").arg(address.toString()).arg(port);
        return false;
    }
    d->port = actual;
    d->address = address;
    qCInfo(lcCcsServer) << "admin API on" << address.toString() << actual;
    return true;
}

quint16 EmulatorAdminApi::port() const
{
    return d->port;
}

QString EmulatorAdminApi::token() const
{
    return d->token;
}

QString EmulatorAdminApi::baseUrl() const
{
    const bool v6 = d->address.protocol() == QAbstractSocket::IPv6Protocol;
    return QStringLiteral("http://%1:%2")
        .arg(v6 ? QLatin1Char('[') + d->address.toString() + QLatin1Char(']') : d->address.toString())
        .arg(d->port);
}

} // namespace ccs::emulator

// Its own moc object: what links the client alone does not pull in the emulator.
#include "moc_EmulatorAdminApi.cpp"
