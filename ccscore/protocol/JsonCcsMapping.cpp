#include "JsonCcsMapping.h"

#include "JsonParser.h"

#include <QJsonValue>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

// CCS messages from JSON: the message_type dispatch, the typed fields of each
// message, and the ACK fast path. Parsing is JsonParser.cpp's.
namespace ccs::json {

namespace {

ParseError fieldTypeError(const QString &field, const char *type)
{
    return ParseError {QStringLiteral("Field \"%1\" must be a JSON %2").arg(field, QLatin1String(type)), -1};
}

// Reads optional string fields into the members; a field of the wrong type is
// an error naming it.
struct FieldReader {
    QJsonObject object;
    std::optional<ParseError> error;

    // Absent and null read as empty; null stays in `object` so that nothing is lost.
    QString string(const QString &key)
    {
        const QJsonValue v = object.value(key);
        if (v.isUndefined() || v.isNull())
            return {};
        if (!v.isString()) {
            typeError(key, "string");
            return QString();
        }
        object.remove(key);
        return v.toString();
    }

    QJsonObject objectField(const QString &key)
    {
        const QJsonValue v = object.value(key);
        if (v.isUndefined() || v.isNull())
            return {};
        if (!v.isObject()) {
            typeError(key, "object");
            return QJsonObject();
        }
        object.remove(key);
        return v.toObject();
    }

    std::optional<qint64> integer(const QString &key)
    {
        const QJsonValue v = object.value(key);
        if (v.isUndefined() || v.isNull())
            return std::nullopt;
        const qint64 missing = std::numeric_limits<qint64>::min();
        const qint64 i = v.toInteger(missing);
        if (!v.isDouble() || i == missing) {
            typeError(key, "integer");
            return std::nullopt;
        }
        object.remove(key);
        return i;
    }

    void typeError(const QString &key, const char *type)
    {
        if (!error)
            error = fieldTypeError(key, type);
    }
};

template<typename T> ServerMessage finish(FieldReader &reader, T &&message)
{
    if (reader.error)
        return *reader.error;
    message.extra = reader.object;
    return std::forward<T>(message);
}

ServerMessage parseUpstream(FieldReader &reader)
{
    UpstreamMessage m;
    m.from = reader.string(QStringLiteral("from"));
    m.messageId = reader.string(QStringLiteral("message_id"));
    m.category = reader.string(QStringLiteral("category"));
    m.data = reader.objectField(QStringLiteral("data"));
    m.timeToLive = reader.integer(QStringLiteral("time_to_live"));
    if (!reader.error && m.messageId.isEmpty())
        reader.error
            = ParseError {QStringLiteral("Upstream message without \"message_id\": it cannot be ACKed"), -1};
    else if (!reader.error && m.from.isEmpty())
        reader.error
            = ParseError {QStringLiteral("Upstream message without \"from\": it cannot be ACKed"), -1};
    return finish(reader, std::move(m));
}

ServerMessage parseAck(FieldReader &reader)
{
    Ack a;
    a.messageId = reader.string(QStringLiteral("message_id"));
    a.from = reader.string(QStringLiteral("from"));
    a.to = reader.string(QStringLiteral("to"));
    return finish(reader, std::move(a));
}

ServerMessage parseNack(FieldReader &reader)
{
    Nack n;
    n.messageId = reader.string(QStringLiteral("message_id"));
    n.from = reader.string(QStringLiteral("from"));
    n.errorText = reader.string(QStringLiteral("error"));
    n.errorDescription = reader.string(QStringLiteral("error_description"));
    // Unknown or missing codes behave as INTERNAL_SERVER_ERROR; the text stays as received.
    n.code = NackCatalogue::fromName(n.errorText);
    return finish(reader, std::move(n));
}

ServerMessage parseReceipt(FieldReader &reader)
{
    Receipt r;
    r.messageId = reader.string(QStringLiteral("message_id"));
    r.from = reader.string(QStringLiteral("from"));
    r.category = reader.string(QStringLiteral("category"));
    FieldReader data {reader.objectField(QStringLiteral("data")), std::nullopt};
    r.messageStatus = data.string(QStringLiteral("message_status"));
    r.originalMessageId = data.string(QStringLiteral("original_message_id"));
    r.deviceRegistrationId = data.string(QStringLiteral("device_registration_id"));
    if (data.error && !reader.error)
        reader.error = ParseError {QStringLiteral("In \"data\": %1").arg(data.error->message), -1};
    if (reader.error)
        return *reader.error;
    r.extra = reader.object;
    // Unknown receipt data keys stay under extra.data so that toJson() puts them back.
    if (!data.object.isEmpty())
        r.extra.insert(QStringLiteral("data"), data.object);
    return r;
}

ServerMessage parseControl(FieldReader &reader)
{
    Control c;
    c.controlType = reader.string(QStringLiteral("control_type"));
    return finish(reader, std::move(c));
}

// The message_type of an object: empty when absent, an error when not a string.
bool messageType(const QJsonObject &object, QString *type, ParseError *error)
{
    const QJsonValue v = object.value(QLatin1String("message_type"));
    if (v.isUndefined() || v.isNull()) {
        type->clear();
        return true;
    }
    if (!v.isString()) {
        *error = fieldTypeError(QStringLiteral("message_type"), "string");
        return false;
    }
    *type = v.toString();
    return true;
}

} // namespace

std::optional<Ack> parsePlainAck(QByteArrayView json)
{
    const char *p = json.data();
    const char *const end = p + json.size();
    auto skipSpace = [&] {
        while (p != end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            ++p;
    };
    // A string of printable ASCII without escapes; false for anything else.
    auto plainString = [&](QByteArrayView *out) {
        if (p == end || *p != '"')
            return false;
        const char *start = ++p;
        if constexpr (std::endian::native == std::endian::little) {
            // Eight bytes at a time to the first that is '"', '\\', below 0x20 or not ASCII:
            // the lowest flag of these masks marks it exactly (the first byte is the lowest).
            constexpr quint64 ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            const auto hasZero = [](quint64 v) { return (v - ones) & ~v & highs; };
            while (end - p >= 8) {
                quint64 x;
                std::memcpy(&x, p, sizeof x);
                const quint64 stop = hasZero(x ^ (ones * '"')) | hasZero(x ^ (ones * '\\'))
                    | ((x - ones * 0x20) & ~x & highs) | (x & highs);
                if (stop != 0) {
                    p += std::countr_zero(stop) / 8;
                    break;
                }
                p += 8;
            }
        }
        while (p != end && *p != '"') {
            const auto c = static_cast<unsigned char>(*p);
            if (c < 0x20 || c >= 0x80 || c == '\\')
                return false;
            ++p;
        }
        if (p == end)
            return false;
        *out = QByteArrayView(start, p - start);
        ++p;
        return true;
    };
    enum Field { Type, Id, From, To };
    std::array<std::optional<QByteArrayView>, 4> fields;
    skipSpace();
    if (p == end || *p++ != '{')
        return std::nullopt;
    for (;;) {
        QByteArrayView key, value;
        skipSpace();
        if (!plainString(&key))
            return std::nullopt;
        skipSpace();
        if (p == end || *p++ != ':')
            return std::nullopt;
        skipSpace();
        if (!plainString(&value))
            return std::nullopt;
        Field field;
        if (key == "message_type")
            field = Type;
        else if (key == "message_id")
            field = Id;
        else if (key == "from")
            field = From;
        else if (key == "to")
            field = To;
        else
            return std::nullopt; // another member: the strict path keeps it in extra
        if (fields[field])
            return std::nullopt; // a duplicate: the strict path names the error
        fields[field] = value;
        skipSpace();
        if (p == end)
            return std::nullopt;
        if (*p == ',') {
            ++p;
            continue;
        }
        if (*p++ != '}')
            return std::nullopt;
        break;
    }
    skipSpace();
    if (p != end || fields[Type] != QByteArrayView("ack"))
        return std::nullopt;
    auto text
        = [](const std::optional<QByteArrayView> &v) { return v ? QString::fromLatin1(*v) : QString(); };
    Ack ack;
    ack.messageId = text(fields[Id]);
    ack.from = text(fields[From]);
    ack.to = text(fields[To]);
    return ack;
}

ServerMessage parseServerMessage(QByteArrayView json)
{
    if (auto ack = parsePlainAck(json))
        return std::move(*ack);
    QJsonObject object;
    ParseError error;
    if (!parseObject(json, &object, &error))
        return error;
    QString type;
    if (!messageType(object, &type, &error))
        return error;
    FieldReader reader {object, std::nullopt};
    reader.object.remove(QLatin1String("message_type"));
    if (type.isEmpty())
        return parseUpstream(reader);
    if (type == QLatin1String("ack"))
        return parseAck(reader);
    if (type == QLatin1String("nack"))
        return parseNack(reader);
    if (type == QLatin1String("receipt"))
        return parseReceipt(reader);
    if (type == QLatin1String("control"))
        return parseControl(reader);
    return UnknownMessage {type, object};
}

ClientMessage parseClientMessage(QByteArrayView json, QJsonObject *parsed)
{
    if (auto ack = parsePlainAck(json))
        return std::move(*ack);
    QJsonObject object;
    ParseError error;
    if (!parseObject(json, &object, &error))
        return error;
    if (parsed)
        *parsed = object;
    QString type;
    if (!messageType(object, &type, &error))
        return error;
    if (type.isEmpty())
        return DownstreamMessage::fromJson(object);
    if (type == QLatin1String("ack")) {
        FieldReader reader {object, std::nullopt};
        reader.object.remove(QLatin1String("message_type"));
        Ack a;
        a.messageId = reader.string(QStringLiteral("message_id"));
        a.to = reader.string(QStringLiteral("to"));
        a.from = reader.string(QStringLiteral("from"));
        if (reader.error)
            return *reader.error;
        a.extra = reader.object;
        return a;
    }
    return UnknownMessage {type, object};
}

} // namespace ccs::json
