#include "Validation.h"

#include "JsonCodec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>
#include <QLocale>

#include <cmath>
#include <limits>

namespace ccs {

namespace {

const QString kPrefix = QStringLiteral("InvalidJson: ");

// How CCS (a Java service) prints a value in an error description: strings
// bare, everything else as JSON text.
QString valueText(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Double: {
        const qint64 missing = std::numeric_limits<qint64>::min();
        const qint64 i = v.toInteger(missing);
        return i != missing ? QString::number(i)
                            : QString::number(v.toDouble(), 'g', QLocale::FloatingPointShortest);
    }
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Object:
        return QString::fromUtf8(json::serialize(v.toObject()));
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

ValidationFailure nack(ValidationRule rule, const QString &field, const QString &description,
    NackCode code = NackCode::InvalidJson)
{
    return ValidationFailure {rule, field, description, false, code};
}

ValidationFailure typeError(
    ValidationRule rule, const QString &field, const char *javaType, const QJsonValue &v)
{
    return nack(rule, field,
        kPrefix
            + QStringLiteral("JSON_TYPE_ERROR : Field \"%1\" must be a JSON %2: %3")
                  .arg(field, QLatin1String(javaType), valueText(v)));
}

bool isPresent(const QJsonValue &v)
{
    return !v.isUndefined();
}

bool isValidTopicName(QStringView name)
{
    if (name.isEmpty())
        return false;
    for (const QChar c : name) {
        const char16_t u = c.unicode();
        const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-'
            || u == '_' || u == '.' || u == '~' || u == '%';
        if (!ok)
            return false;
    }
    return true;
}

int utf8Length(const QString &s)
{
    return static_cast<int>(s.toUtf8().size());
}

// The text a data value is delivered as: strings bare, numbers and booleans as JSON.
QString dataValueText(const QJsonValue &v)
{
    return valueText(v);
}

void checkData(const QJsonValue &v, QList<ValidationFailure> *out)
{
    if (!v.isObject()) {
        out->append(typeError(ValidationRule::DataNotObject, QStringLiteral("data"), "object", v));
        return;
    }
    const QJsonObject data = v.toObject();
    for (auto it = data.begin(); it != data.end(); ++it) {
        const QString key = it.key();
        const QString path = QStringLiteral("data.") + key;
        if (key == QLatin1String("from") || key.startsWith(QLatin1String("google"))
            || key.startsWith(QLatin1String("gcm"))) {
            out->append(nack(ValidationRule::DataReservedKey, path,
                kPrefix
                    + QStringLiteral("INVALID_DATA_KEY : Data key \"%1\" is reserved (\"from\" and "
                                     "keys starting with \"google\" or \"gcm\")")
                          .arg(key)));
        }
        const QJsonValue value = it.value();
        if (!value.isString() && !value.isDouble() && !value.isBool())
            out->append(typeError(ValidationRule::DataValueNotString, path, "java.lang.String", value));
    }
    const int bytes = dataPayloadBytes(data);
    if (bytes > kMaxDataBytes) {
        out->append(nack(ValidationRule::DataTooLarge, QStringLiteral("data"),
            kPrefix
                + QStringLiteral("MESSAGE_TOO_BIG : Message too big: data is %1 bytes, at most %2 "
                                 "are allowed")
                      .arg(bytes)
                      .arg(kMaxDataBytes)));
    }
}

void checkTimeToLive(const QJsonValue &v, QList<ValidationFailure> *out)
{
    const QString field = QStringLiteral("time_to_live");
    if (!v.isDouble()) {
        out->append(typeError(ValidationRule::TimeToLiveNotNumber, field, "java.lang.Number", v));
        return;
    }
    const double seconds = v.toDouble();
    if (seconds < 0 || seconds > double(kMaxTimeToLive) || std::floor(seconds) != seconds) {
        out->append(nack(ValidationRule::TimeToLiveOutOfRange, field,
            kPrefix
                + QStringLiteral("INVALID_TTL : Field \"time_to_live\" must be a whole number of "
                                 "seconds from 0 to %1: %2")
                      .arg(kMaxTimeToLive)
                      .arg(valueText(v))));
    }
}

QList<ValidationFailure> validate(const QJsonObject &request, bool all)
{
    QList<ValidationFailure> out;
    auto done = [&] { return !all && !out.isEmpty(); };

    // Stanza errors: without a message_id there is nothing to NACK.
    const QJsonValue messageId = request.value(QLatin1String("message_id"));
    if (!isPresent(messageId) || messageId.isNull()
        || (messageId.isString() && messageId.toString().isEmpty())) {
        ValidationFailure f {ValidationRule::MissingMessageId, QStringLiteral("message_id"),
            kPrefix + QStringLiteral("JSON_PARSING_ERROR : Missing Required Field: message_id"), true,
            NackCode::InvalidJson};
        out.append(f);
    } else if (!messageId.isString()) {
        ValidationFailure f = typeError(
            ValidationRule::MessageIdNotString, QStringLiteral("message_id"), "java.lang.String", messageId);
        f.stanzaError = true;
        out.append(f);
    }
    if (done())
        return out;

    if (request.contains(QLatin1String("registration_ids"))) {
        out.append(nack(ValidationRule::RegistrationIdsNotAllowed, QStringLiteral("registration_ids"),
            kPrefix
                + QStringLiteral("JSON_PARSING_ERROR : Field \"registration_ids\" is not supported over "
                                 "XMPP (no multicast): send one message per token in \"to\"")));
        if (done())
            return out;
    }

    const QJsonValue to = request.value(QLatin1String("to"));
    if (!isPresent(to) || to.isNull() || (to.isString() && to.toString().isEmpty())) {
        out.append(nack(ValidationRule::MissingTo, QStringLiteral("to"),
            kPrefix + QStringLiteral("JSON_PARSING_ERROR : Missing Required Field: to")));
    } else if (!to.isString()) {
        out.append(typeError(ValidationRule::ToNotString, QStringLiteral("to"), "java.lang.String", to));
    } else {
        const QString target = to.toString();
        const QLatin1String topics("/topics/");
        if (target.startsWith(topics) && !isValidTopicName(QStringView(target).sliced(topics.size()))) {
            out.append(nack(ValidationRule::TopicNameInvalid, QStringLiteral("to"),
                QStringLiteral("Invalid token on 'to' field: %1 (a topic name is one or more of "
                               "a-z A-Z 0-9 - _ . ~ %)")
                    .arg(target),
                NackCode::BadRegistration));
        }
    }
    if (done())
        return out;

    const QJsonValue data = request.value(QLatin1String("data"));
    if (isPresent(data))
        checkData(data, &out);
    if (done())
        return out;

    const QJsonValue notification = request.value(QLatin1String("notification"));
    if (isPresent(notification) && !notification.isObject())
        out.append(typeError(
            ValidationRule::NotificationNotObject, QStringLiteral("notification"), "object", notification));
    if (done())
        return out;

    const QJsonValue collapseKey = request.value(QLatin1String("collapse_key"));
    if (isPresent(collapseKey) && !collapseKey.isString())
        out.append(typeError(ValidationRule::CollapseKeyNotString, QStringLiteral("collapse_key"),
            "java.lang.String", collapseKey));
    if (done())
        return out;

    const QJsonValue ttl = request.value(QLatin1String("time_to_live"));
    if (isPresent(ttl))
        checkTimeToLive(ttl, &out);
    if (done())
        return out;

    for (const char *key : {"delay_while_idle", "delivery_receipt_requested", "content_available",
             "mutable_content", "dry_run"}) {
        const QJsonValue v = request.value(QLatin1String(key));
        if (isPresent(v) && !v.isBool()) {
            out.append(typeError(
                ValidationRule::BooleanFieldNotBoolean, QLatin1String(key), "java.lang.Boolean", v));
            if (done())
                return out;
        }
    }

    const QJsonValue priority = request.value(QLatin1String("priority"));
    if (isPresent(priority) && priority.toString() != QLatin1String("normal")
        && priority.toString() != QLatin1String("high")) {
        out.append(nack(ValidationRule::PriorityInvalid, QStringLiteral("priority"),
            kPrefix
                + QStringLiteral("JSON_PARSING_ERROR : Field \"priority\" must be \"normal\" or "
                                 "\"high\": %1")
                      .arg(valueText(priority))));
    }
    return out;
}

} // namespace

QString ValidationFailure::userMessage() const
{
    QString what;
    switch (rule) {
    case ValidationRule::MissingTo:
        what = QStringLiteral(
            "a recipient is required: a registration token, a notification key or /topics/NAME");
        break;
    case ValidationRule::ToNotString:
        what = QStringLiteral("the recipient must be a JSON string");
        break;
    case ValidationRule::MissingMessageId:
        what = QStringLiteral("a message id is required");
        break;
    case ValidationRule::MessageIdNotString:
        what = QStringLiteral("the message id must be a JSON string");
        break;
    case ValidationRule::RegistrationIdsNotAllowed:
        what = QStringLiteral("XMPP has no multicast: use \"to\" with one token per message");
        break;
    case ValidationRule::DataNotObject:
        what = QStringLiteral("data must be a JSON object of key/value pairs");
        break;
    case ValidationRule::DataTooLarge:
        what = QStringLiteral("data keys and values together exceed %1 bytes of UTF-8").arg(kMaxDataBytes);
        break;
    case ValidationRule::DataReservedKey:
        what = QStringLiteral(
            "this data key is reserved (\"from\" and keys starting with \"google\" or \"gcm\")");
        break;
    case ValidationRule::DataValueNotString:
        what = QStringLiteral("data values must be strings");
        break;
    case ValidationRule::NotificationNotObject:
        what = QStringLiteral("notification must be a JSON object");
        break;
    case ValidationRule::CollapseKeyNotString:
        what = QStringLiteral("the collapse key must be a JSON string");
        break;
    case ValidationRule::TimeToLiveNotNumber:
        what = QStringLiteral("time to live must be a JSON number of seconds, not text");
        break;
    case ValidationRule::TimeToLiveOutOfRange:
        what = QStringLiteral("time to live must be a whole number of seconds from 0 to %1 (4 weeks)")
                   .arg(kMaxTimeToLive);
        break;
    case ValidationRule::BooleanFieldNotBoolean:
        what = QStringLiteral("must be true or false (a JSON boolean)");
        break;
    case ValidationRule::PriorityInvalid:
        what = QStringLiteral("priority must be \"normal\" or \"high\"");
        break;
    case ValidationRule::TopicNameInvalid:
        what = QStringLiteral("a topic name may only hold a-z A-Z 0-9 - _ . ~ %");
        break;
    }
    const QString answer = stanzaError ? QStringLiteral("a stanza error")
                                       : QStringLiteral("NACK %1").arg(NackCatalogue::name(nackCode));
    return QStringLiteral("%1: %2. CCS would answer with %3.").arg(field, what, answer);
}

std::optional<ValidationFailure> validateDownstream(const QJsonObject &request)
{
    const QList<ValidationFailure> failures = validate(request, false);
    if (failures.isEmpty())
        return std::nullopt;
    return failures.first();
}

QList<ValidationFailure> validateDownstreamAll(const QJsonObject &request)
{
    return validate(request, true);
}

int dataPayloadBytes(const QJsonObject &data)
{
    int bytes = 0;
    for (auto it = data.begin(); it != data.end(); ++it)
        bytes += utf8Length(it.key()) + utf8Length(dataValueText(it.value()));
    return bytes;
}

QString ruleName(ValidationRule rule)
{
    switch (rule) {
    case ValidationRule::MissingTo:
        return QStringLiteral("MissingTo");
    case ValidationRule::ToNotString:
        return QStringLiteral("ToNotString");
    case ValidationRule::MissingMessageId:
        return QStringLiteral("MissingMessageId");
    case ValidationRule::MessageIdNotString:
        return QStringLiteral("MessageIdNotString");
    case ValidationRule::RegistrationIdsNotAllowed:
        return QStringLiteral("RegistrationIdsNotAllowed");
    case ValidationRule::DataNotObject:
        return QStringLiteral("DataNotObject");
    case ValidationRule::DataTooLarge:
        return QStringLiteral("DataTooLarge");
    case ValidationRule::DataReservedKey:
        return QStringLiteral("DataReservedKey");
    case ValidationRule::DataValueNotString:
        return QStringLiteral("DataValueNotString");
    case ValidationRule::NotificationNotObject:
        return QStringLiteral("NotificationNotObject");
    case ValidationRule::CollapseKeyNotString:
        return QStringLiteral("CollapseKeyNotString");
    case ValidationRule::TimeToLiveNotNumber:
        return QStringLiteral("TimeToLiveNotNumber");
    case ValidationRule::TimeToLiveOutOfRange:
        return QStringLiteral("TimeToLiveOutOfRange");
    case ValidationRule::BooleanFieldNotBoolean:
        return QStringLiteral("BooleanFieldNotBoolean");
    case ValidationRule::PriorityInvalid:
        return QStringLiteral("PriorityInvalid");
    case ValidationRule::TopicNameInvalid:
        return QStringLiteral("TopicNameInvalid");
    }
    return QStringLiteral("Unknown");
}

} // namespace ccs
