// libFuzzer target: the strict JSON codec, the message parsers of both
// directions, the downstream validation rules and the stanza escaping.
// Whatever the bytes, nothing may crash, hang or leak, and what parses must
// survive a serialize -> parse round trip unchanged.
#include "protocol/JsonCodec.h"
#include "protocol/Stanza.h"
#include "protocol/Validation.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QXmlStreamReader>

#include <cstdint>
#include <cstdlib>

namespace {

// Equality in JSON's terms: a number is a number. QJsonObject's own operator==
// tells an integer from a double of the same value once it is past 2^53
// (955555555555555555.9 parses as a double and is written back as the integer
// literal 955555555555555600, which is the same double), so compare members
// one by one with QJsonValue's operator==, which compares numbers by value.
bool sameJson(const QJsonValue &a, const QJsonValue &b);

bool sameJson(const QJsonObject &a, const QJsonObject &b)
{
    if (a.size() != b.size())
        return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
        const auto other = b.constFind(it.key());
        if (other == b.constEnd() || !sameJson(it.value(), other.value()))
            return false;
    }
    return true;
}

bool sameJson(const QJsonValue &a, const QJsonValue &b)
{
    if (a.type() != b.type())
        return false;
    switch (a.type()) {
    case QJsonValue::Object:
        return sameJson(a.toObject(), b.toObject());
    case QJsonValue::Array: {
        const QJsonArray x = a.toArray(), y = b.toArray();
        if (x.size() != y.size())
            return false;
        for (qsizetype i = 0; i < x.size(); ++i) {
            if (!sameJson(x.at(i), y.at(i)))
                return false;
        }
        return true;
    }
    default:
        // QJsonValue compares an integer with a double by value, and two integers exactly.
        return a == b;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));

    QJsonObject object;
    ccs::ParseError error;
    if (ccs::json::parseObject(bytes, &object, &error)) {
        const QByteArray again = ccs::json::serialize(object);
        if (again != QJsonDocument(object).toJson(QJsonDocument::Compact))
            std::abort(); // the fast writer must write what Qt writes
        QJsonObject reparsed;
        if (!ccs::json::parseObject(again, &reparsed, &error) || !sameJson(reparsed, object))
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
            || !ccs::json::parseObject(text.toUtf8(), &fromStanza, &error) || !sameJson(fromStanza, object))
            std::abort();
    }
    // The ACK fast path must agree with the strict parser on everything it accepts.
    if (const auto ack = ccs::json::parsePlainAck(bytes)) {
        QJsonObject strict;
        if (!ccs::json::parseObject(bytes, &strict, &error)
            || strict.value(QLatin1String("message_type")) != QLatin1String("ack"))
            std::abort();
        for (const QString &key : strict.keys()) {
            if (key != QLatin1String("message_type") && key != QLatin1String("message_id")
                && key != QLatin1String("from") && key != QLatin1String("to"))
                std::abort();
        }
        const ccs::Ack expected {strict.value(QLatin1String("message_id")).toString(),
            strict.value(QLatin1String("from")).toString(), strict.value(QLatin1String("to")).toString(), {}};
        if (!(expected == *ack))
            std::abort();
    }
    // The plain-stanza fast path must read what an XML reader reads from the same bytes
    // (in UTF-8), and its views must stand in the bytes read or in its own buffers.
    ccs::stanza::PlainGcm plain;
    if (const qsizetype taken = ccs::stanza::readPlainGcmMessage(bytes, &plain, 1 << 20); taken > 0) {
        // A text is the very bytes of the stanza exactly when it holds no entity.
        const QByteArrayView stanza = bytes.first(taken);
        const QByteArrayView gcmOpen = "<gcm xmlns=\"google:mobile:data\">"; // no '<' in an id
        const qsizetype jsonFrom = stanza.indexOf(gcmOpen) + gcmOpen.size();
        const QByteArrayView rawJson
            = stanza.sliced(jsonFrom, taken - 16 - jsonFrom); // before </gcm></message>
        const QByteArrayView rawId = stanza.startsWith("<message id=\"")
            ? stanza.sliced(13, stanza.indexOf('"', 13) - 13)
            : QByteArrayView();
        const auto same = [](QByteArrayView view, QByteArrayView raw) {
            return view.data() == raw.data() && view.size() == raw.size();
        };
        if (same(plain.json, rawJson) == rawJson.contains('&')
            || same(plain.id, rawId) == rawId.contains('&'))
            std::abort();
        QXmlStreamReader reader(bytes.first(taken).toByteArray());
        QString id, text;
        int elements = 0;
        while (!reader.atEnd()) {
            reader.readNext();
            if (!reader.isStartElement())
                continue;
            ++elements;
            if (reader.name() == QLatin1String("message"))
                id = reader.attributes().value(QLatin1String("id")).toString();
            else if (reader.name() == QLatin1String("gcm")
                && reader.namespaceUri() == QLatin1String("google:mobile:data"))
                text = reader.readElementText();
        }
        if (reader.hasError() || elements != 2 || id.toUtf8() != plain.id || text.toUtf8() != plain.json)
            std::abort();
    }
    (void)ccs::json::parseServerMessage(bytes);
    (void)ccs::json::parseClientMessage(bytes);
    return 0;
}
