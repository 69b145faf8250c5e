#include "RequestBuilder.h"

#include "JsonCodec.h"
#include "Validation.h"

namespace ccs {

FormField formFieldForPath(const QString &path)
{
    const QString top = path.section(QLatin1Char('.'), 0, 0);
    if (top == QLatin1String("to") || top == QLatin1String("registration_ids"))
        return FormField::Recipient;
    if (top == QLatin1String("message_id"))
        return FormField::MessageId;
    if (top == QLatin1String("data"))
        return FormField::Data;
    if (top == QLatin1String("notification"))
        return FormField::Notification;
    return FormField::Options;
}

TextPosition textPositionOfUtf8Offset(const QString &text, int utf8Offset)
{
    TextPosition p;
    if (utf8Offset < 0)
        return p;
    const QByteArray utf8 = text.toUtf8();
    const qsizetype end = std::min<qsizetype>(utf8Offset, utf8.size());
    p.index = int(QString::fromUtf8(utf8.left(end)).size());
    // As the codec counts in its messages: columns are characters, not bytes.
    p.line = 1;
    p.column = 1;
    for (qsizetype i = 0; i < end; ++i) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        if (c == '\n') {
            ++p.line;
            p.column = 1;
        } else if ((c & 0xC0) != 0x80) {
            ++p.column;
        }
    }
    return p;
}

FieldError fieldErrorAt(const QString &path, const QString &message)
{
    FieldError e;
    e.field = path;
    e.message = message;
    e.formField = formFieldForPath(path);
    if (e.formField == FormField::Data || e.formField == FormField::Notification)
        e.key = path.section(QLatin1Char('.'), 1, 1);
    return e;
}

RequestBuild buildRequest(const RequestForm &form)
{
    RequestBuild result;
    QJsonObject request;
    request.insert(QStringLiteral("to"), form.to.trimmed());
    request.insert(QStringLiteral("message_id"), form.messageId.trimmed());

    auto parseField = [&](const QString &text, const QString &field) -> std::optional<QJsonObject> {
        if (text.trimmed().isEmpty())
            return std::nullopt;
        QJsonObject object;
        ParseError error;
        if (!json::parseObject(text.toUtf8(), &object, &error)) {
            FieldError e = fieldErrorAt(field, QStringLiteral("%1 is not valid JSON: %2").arg(field, error.message));
            e.position = textPositionOfUtf8Offset(text, error.offset);
            result.errors.append(e);
            return std::nullopt;
        }
        request.insert(field, object);
        return object;
    };
    if (const auto data = parseField(form.dataText, QStringLiteral("data")))
        result.dataBytes = dataPayloadBytes(*data);
    else if (form.dataText.trimmed().isEmpty())
        result.dataBytes = 0;
    if (form.notificationEnabled)
        parseField(form.notificationText, QStringLiteral("notification"));

    if (!form.collapseKey.isEmpty())
        request.insert(QStringLiteral("collapse_key"), form.collapseKey);
    if (form.timeToLiveSeconds)
        request.insert(QStringLiteral("time_to_live"), double(*form.timeToLiveSeconds));
    if (!form.priority.isEmpty())
        request.insert(QStringLiteral("priority"), form.priority);
    if (form.delayWhileIdle)
        request.insert(QStringLiteral("delay_while_idle"), true);
    if (form.deliveryReceipt)
        request.insert(QStringLiteral("delivery_receipt_requested"), true);
    if (form.dryRun)
        request.insert(QStringLiteral("dry_run"), true);

    // Field rules only make sense once the JSON parses.
    if (result.errors.isEmpty()) {
        const auto failures = validateDownstreamAll(request);
        for (const ValidationFailure &f : failures)
            result.errors.append(fieldErrorAt(f.field, f.userMessage()));
    }
    if (result.errors.isEmpty())
        result.message = DownstreamMessage::fromJson(request);
    return result;
}

} // namespace ccs
