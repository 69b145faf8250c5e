#include "Messages.h"

#include "JsonCodec.h"

#include <QJsonValue>

#include <limits>

namespace ccs {

namespace {

// Known fields are written over `extra`, so a known field always wins.
void putString(QJsonObject &o, const char *key, const QString &value)
{
    if (!value.isEmpty())
        o.insert(QLatin1String(key), value);
}

void putBool(QJsonObject &o, const char *key, std::optional<bool> value)
{
    if (value)
        o.insert(QLatin1String(key), *value);
}

// Lenient readers for fromJson: a field of the wrong type stays in `rest`
// (and so in `extra`), so that toJson() gives back what was read.
QString takeString(QJsonObject &rest, const char *key)
{
    const QJsonValue v = rest.value(QLatin1String(key));
    if (!v.isString())
        return {};
    rest.remove(QLatin1String(key));
    return v.toString();
}

std::optional<bool> takeBool(QJsonObject &rest, const char *key)
{
    const QJsonValue v = rest.value(QLatin1String(key));
    if (!v.isBool())
        return std::nullopt;
    rest.remove(QLatin1String(key));
    return v.toBool();
}

std::optional<QJsonObject> takeObject(QJsonObject &rest, const char *key)
{
    const QJsonValue v = rest.value(QLatin1String(key));
    if (!v.isObject())
        return std::nullopt;
    rest.remove(QLatin1String(key));
    return v.toObject();
}

std::optional<qint64> takeInteger(QJsonObject &rest, const char *key)
{
    const QJsonValue v = rest.value(QLatin1String(key));
    if (!v.isDouble())
        return std::nullopt;
    const qint64 missing = std::numeric_limits<qint64>::min();
    const qint64 i = v.toInteger(missing);
    if (i == missing)
        return std::nullopt;
    rest.remove(QLatin1String(key));
    return i;
}

} // namespace

QJsonObject DownstreamMessage::toJson() const
{
    QJsonObject o = extra;
    putString(o, "to", to);
    putString(o, "message_id", messageId);
    if (data)
        o.insert(QLatin1String("data"), *data);
    if (notification)
        o.insert(QLatin1String("notification"), *notification);
    putString(o, "collapse_key", collapseKey);
    if (timeToLive)
        o.insert(QLatin1String("time_to_live"), *timeToLive);
    putBool(o, "delay_while_idle", delayWhileIdle);
    putBool(o, "delivery_receipt_requested", deliveryReceiptRequested);
    putString(o, "priority", priority);
    putBool(o, "content_available", contentAvailable);
    putBool(o, "mutable_content", mutableContent);
    putBool(o, "dry_run", dryRun);
    return o;
}

QByteArray DownstreamMessage::toJsonBytes() const
{
    return json::serializeDownstream(*this);
}

DownstreamMessage DownstreamMessage::fromJson(const QJsonObject &object)
{
    QJsonObject rest = object;
    DownstreamMessage m;
    m.to = takeString(rest, "to");
    m.messageId = takeString(rest, "message_id");
    m.data = takeObject(rest, "data");
    m.notification = takeObject(rest, "notification");
    m.collapseKey = takeString(rest, "collapse_key");
    m.timeToLive = takeInteger(rest, "time_to_live");
    m.delayWhileIdle = takeBool(rest, "delay_while_idle");
    m.deliveryReceiptRequested = takeBool(rest, "delivery_receipt_requested");
    m.priority = takeString(rest, "priority");
    m.contentAvailable = takeBool(rest, "content_available");
    m.mutableContent = takeBool(rest, "mutable_content");
    m.dryRun = takeBool(rest, "dry_run");
    m.extra = rest;
    return m;
}

QJsonObject UpstreamMessage::toJson() const
{
    QJsonObject o = extra;
    putString(o, "category", category);
    o.insert(QLatin1String("data"), data);
    putString(o, "message_id", messageId);
    putString(o, "from", from);
    if (timeToLive)
        o.insert(QLatin1String("time_to_live"), *timeToLive);
    return o;
}

QJsonObject Ack::toJson() const
{
    QJsonObject o = extra;
    putString(o, "from", from);
    putString(o, "to", to);
    o.insert(QLatin1String("message_id"), messageId);
    o.insert(QLatin1String("message_type"), QLatin1String("ack"));
    return o;
}

Ack Ack::forUpstream(const QString &to, const QString &messageId)
{
    Ack a;
    a.to = to;
    a.messageId = messageId;
    return a;
}

QJsonObject Nack::toJson() const
{
    QJsonObject o = extra;
    o.insert(QLatin1String("message_type"), QLatin1String("nack"));
    putString(o, "message_id", messageId);
    putString(o, "from", from);
    o.insert(QLatin1String("error"), errorText.isEmpty() ? NackCatalogue::name(code) : errorText);
    putString(o, "error_description", errorDescription);
    return o;
}

Nack Nack::make(const QString &messageId, const QString &from, NackCode code, const QString &description)
{
    Nack n;
    n.messageId = messageId;
    n.from = from;
    n.code = code;
    n.errorText = NackCatalogue::name(code);
    n.errorDescription = description;
    return n;
}

QJsonObject Receipt::toJson() const
{
    QJsonObject o = extra;
    QJsonObject d = extra.value(QLatin1String("data")).toObject();
    putString(d, "message_status", messageStatus);
    putString(d, "original_message_id", originalMessageId);
    putString(d, "device_registration_id", deviceRegistrationId);
    putString(o, "category", category);
    o.insert(QLatin1String("data"), d);
    putString(o, "message_id", messageId);
    o.insert(QLatin1String("message_type"), QLatin1String("receipt"));
    putString(o, "from", from);
    return o;
}

Receipt Receipt::make(const QString &originalMessageId, const QString &token, const QString &category)
{
    Receipt r;
    r.messageId = QStringLiteral("dr2:") + originalMessageId;
    r.from = QStringLiteral("gcm.googleapis.com");
    r.category = category;
    r.messageStatus = QStringLiteral("MESSAGE_SENT_TO_DEVICE");
    r.originalMessageId = originalMessageId;
    r.deviceRegistrationId = token;
    return r;
}

QJsonObject Control::toJson() const
{
    QJsonObject o = extra;
    o.insert(QLatin1String("message_type"), QLatin1String("control"));
    putString(o, "control_type", controlType);
    return o;
}

Control Control::connectionDraining()
{
    Control c;
    c.controlType = QStringLiteral("CONNECTION_DRAINING");
    return c;
}

} // namespace ccs
