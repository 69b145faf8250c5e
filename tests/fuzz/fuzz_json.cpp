// libFuzzer target: the strict JSON codec, the message parsers of both
// directions, the downstream validation rules and the stanza escaping.
// Whatever the bytes, nothing may crash, hang or leak, and what parses must
// survive a serialize -> parse round trip unchanged.
#include "protocol/JsonCodec.h"
#include "protocol/Stanza.h"
#include "protocol/Validation.h"

#include <QXmlStreamReader>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));

    QJsonObject object;
    ccs::ParseError error;
    if (ccs::json::parseObject(bytes, &object, &error)) {
        const QByteArray again = ccs::json::serialize(object);
        QJsonObject reparsed;
        if (!ccs::json::parseObject(again, &reparsed, &error) || reparsed != object)
            std::abort(); // a round trip must be lossless
        (void)ccs::validateDownstreamAll(object);
        if (const auto data = object.value(QLatin1String("data")); data.isObject())
            (void)ccs::dataPayloadBytes(data.toObject());

        // Whatever the JSON holds, the stanza around it must stay one <gcm> element
        // whose text parses back to the same object (characters XML cannot carry
        // are written as JSON \u escapes, so the text may differ from the bytes).
        const QByteArray stanza = ccs::stanza::gcmMessage(QStringLiteral("fz"), again);
        QXmlStreamReader reader(stanza);
        QString text;
        int gcmElements = 0;
        while (!reader.atEnd()) {
            reader.readNext();
            if (reader.isStartElement() && reader.name() == QLatin1String("gcm")) {
                ++gcmElements;
                text = reader.readElementText();
            }
        }
        QJsonObject fromStanza;
        if (reader.hasError() || gcmElements != 1
            || !ccs::json::parseObject(text.toUtf8(), &fromStanza, &error) || fromStanza != object)
            std::abort();
    }
    (void)ccs::json::parseServerMessage(bytes);
    (void)ccs::json::parseClientMessage(bytes);
    return 0;
}
