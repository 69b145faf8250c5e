#include "JsonWriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

#include <cmath>

// The compact JSON writer and the ACK fast path of the writing side.
namespace ccs::json {

namespace {

// The compact writer: byte for byte what QJsonDocument::toJson(Compact) writes
// (members in QJsonObject's order, the same escapes, the same numbers), in a
// third of the time, because every downstream message and every ACK passes here.

void writeString(QByteArray &out, QStringView s)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    const char16_t *p = s.utf16();
    const char16_t *const end = p + s.size();
    while (p != end) {
        const char16_t *run = p;
        while (p != end && *p >= 0x20 && *p < 0x80 && *p != u'"' && *p != u'\\')
            ++p;
        if (p != run) {
            const qsizetype at = out.size();
            out.resize(at + (p - run));
            char *dst = out.data() + at;
            while (run != p)
                *dst++ = char(*run++);
        }
        if (p == end)
            break;
        const char16_t u = *p++;
        if (u < 0x80) {
            out += '\\';
            switch (u) {
            case u'"':
                out += '"';
                break;
            case u'\\':
                out += '\\';
                break;
            case 0x8:
                out += 'b';
                break;
            case 0xc:
                out += 'f';
                break;
            case 0xa:
                out += 'n';
                break;
            case 0xd:
                out += 'r';
                break;
            case 0x9:
                out += 't';
                break;
            default:
                out += "u00";
                out += hex[u >> 4];
                out += hex[u & 0xf];
            }
        } else if (u < 0x800) {
            out += char(0xC0 | (u >> 6));
            out += char(0x80 | (u & 0x3F));
        } else if (QChar::isHighSurrogate(u) && p != end && QChar::isLowSurrogate(*p)) {
            const char32_t cp = QChar::surrogateToUcs4(u, *p++);
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else if (QChar::isSurrogate(u)) {
            // A lone surrogate has no UTF-8 form; Qt writes it as an escape.
            out += "\\u";
            out += hex[u >> 12];
            out += hex[(u >> 8) & 0xf];
            out += hex[(u >> 4) & 0xf];
            out += hex[u & 0xf];
        } else {
            out += char(0xE0 | (u >> 12));
            out += char(0x80 | ((u >> 6) & 0x3F));
            out += char(0x80 | (u & 0x3F));
        }
    }
    out += '"';
}

void writeValue(QByteArray &out, const QJsonValue &value);

void writeObject(QByteArray &out, const QJsonObject &object)
{
    out += '{';
    bool first = true;
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (!first)
            out += ',';
        first = false;
        writeString(out, it.key());
        out += ':';
        writeValue(out, it.value());
    }
    out += '}';
}

void writeValue(QByteArray &out, const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        out += "null";
        break;
    case QJsonValue::Bool:
        out += value.toBool() ? "true" : "false";
        break;
    case QJsonValue::String:
        writeString(out, value.toString());
        break;
    case QJsonValue::Object:
        writeObject(out, value.toObject());
        break;
    case QJsonValue::Array: {
        out += '[';
        const QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i) {
            if (i)
                out += ',';
            writeValue(out, array.at(i));
        }
        out += ']';
        break;
    }
    case QJsonValue::Double: {
        // Whole numbers up to 2^53 are written as integers, as Qt does; anything
        // else (fractions, huge values, -0) is Qt's own formatting, to stay identical.
        // (An integer past 2^53 has no exact double: toInteger() tells it apart.)
        const double d = value.toDouble();
        if (d == std::trunc(d) && std::fabs(d) <= 9007199254740992.0 && !(d == 0 && std::signbit(d))
            && value.toInteger() == qint64(d)) {
            out += QByteArray::number(qint64(d));
        } else {
            const QByteArray one = QJsonDocument(QJsonArray {value}).toJson(QJsonDocument::Compact);
            out += QByteArrayView(one).sliced(1, one.size() - 2); // without [ ]
        }
        break;
    }
    case QJsonValue::Undefined:
        break;
    }
}

} // namespace

QByteArray serializeAck(const Ack &ack)
{
    if (!ack.extra.isEmpty())
        return serialize(ack.toJson());
    // What serialize(ack.toJson()) writes, members in QJsonObject's (sorted) order.
    QByteArray out;
    out.reserve(64 + ack.from.size() + ack.messageId.size() + ack.to.size());
    out += '{';
    if (!ack.from.isEmpty()) {
        out += "\"from\":";
        writeString(out, ack.from);
        out += ',';
    }
    out += "\"message_id\":";
    writeString(out, ack.messageId);
    out += ",\"message_type\":\"ack\"";
    if (!ack.to.isEmpty()) {
        out += ",\"to\":";
        writeString(out, ack.to);
    }
    out += '}';
    return out;
}

bool serializeAround(const QJsonObject &object, QLatin1StringView key, QByteArray *before, QByteArray *after)
{
    const auto found = object.constFind(key);
    if (found == object.constEnd() || !found->isString())
        return false;
    QByteArray head, tail;
    QByteArray *out = &head;
    *out += '{';
    bool first = true;
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (!first)
            *out += ',';
        first = false;
        writeString(*out, it.key());
        *out += ':';
        if (it == found)
            out = &tail; // the value itself is left out
        else
            writeValue(*out, it.value());
    }
    *out += '}';
    *before = std::move(head);
    *after = std::move(tail);
    return true;
}

void appendString(QByteArray &out, QStringView s)
{
    writeString(out, s);
}

QByteArray serializeDownstream(const DownstreamMessage &m, QByteArray *payload)
{
    // Past 2^53 a time_to_live goes through Qt's own number formatting (see writeValue).
    constexpr qint64 kExactInteger = 9007199254740992;
    if (!m.extra.isEmpty() || (m.timeToLive && (*m.timeToLive > kExactInteger || *m.timeToLive < -kExactInteger))) {
        if (payload) {
            payload->clear();
            if (m.data)
                *payload += serialize(*m.data);
            if (m.notification) {
                if (!payload->isEmpty())
                    *payload += ' ';
                *payload += serialize(*m.notification);
            }
        }
        return serialize(m.toJson());
    }
    // Members in QJsonObject's (sorted) order; a member is written as toJson() puts it.
    QByteArray out;
    out.reserve(128 + 3 * (m.to.size() + m.messageId.size()));
    const auto key = [&out](const char *name) {
        out += out.size() > 1 ? ",\"" : "\"";
        out += name;
        out += "\":";
    };
    const auto string = [&](const char *name, const QString &value) {
        if (!value.isEmpty()) {
            key(name);
            writeString(out, value);
        }
    };
    const auto boolean = [&](const char *name, std::optional<bool> value) {
        if (value) {
            key(name);
            out += *value ? "true" : "false";
        }
    };
    qsizetype dataAt = -1, dataEnd = -1, notificationAt = -1, notificationEnd = -1;
    out += '{';
    string("collapse_key", m.collapseKey);
    boolean("content_available", m.contentAvailable);
    if (m.data) {
        key("data");
        dataAt = out.size();
        writeObject(out, *m.data);
        dataEnd = out.size();
    }
    boolean("delay_while_idle", m.delayWhileIdle);
    boolean("delivery_receipt_requested", m.deliveryReceiptRequested);
    boolean("dry_run", m.dryRun);
    string("message_id", m.messageId);
    boolean("mutable_content", m.mutableContent);
    if (m.notification) {
        key("notification");
        notificationAt = out.size();
        writeObject(out, *m.notification);
        notificationEnd = out.size();
    }
    string("priority", m.priority);
    if (m.timeToLive) {
        key("time_to_live");
        out += QByteArray::number(*m.timeToLive);
    }
    string("to", m.to);
    out += '}';
    if (payload) {
        payload->clear();
        if (dataAt >= 0)
            payload->append(out.constData() + dataAt, dataEnd - dataAt);
        if (notificationAt >= 0) {
            if (!payload->isEmpty())
                *payload += ' ';
            payload->append(out.constData() + notificationAt, notificationEnd - notificationAt);
        }
    }
    return out;
}

QByteArray serialize(const QJsonObject &object)
{
    QByteArray out;
    out.reserve(256);
    writeObject(out, object);
    return out;
}

QByteArray serializePretty(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Indented);
}

} // namespace ccs::json
