#include "EmulatorStream_p.h"
#include "StreamFuzzing_p.h"
#include "protocol/JsonCodec.h"
#include "protocol/NackCatalogue.h"
#include "protocol/Validation.h"

#include <algorithm>

namespace ccs::emulator {

QByteArray emulatorLoginTranscript()
{
    const QByteArray header = "<?xml version='1.0'?><stream:stream to='gcm.googleapis.com' version='1.0' "
                              "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    const QByteArray plain
        = QByteArray(1, '\0') + kStreamRunSenderId + "@gcm.googleapis.com" + '\0' + kStreamRunApiKey;
    return header + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + plain.toBase64()
        + "</auth>" + header
        + "<iq type='set' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
          "<resource>fuzz</resource></bind></iq>";
}

StreamRunResult runEmulatorStream(QByteArrayView input, const StreamRunOptions &options)
{
    StreamRunResult result;
    StreamLimits limits;
    limits.maxStanzaBytes = options.maxStanzaBytes;
    limits.maxDepth = options.maxDepth;
    limits.maxStanzaElements = options.maxStanzaElements;
    limits.authTimeoutMs = 0; // no timer: the run has no event loop
    const QString expectedAuthcid = QLatin1String(kStreamRunSenderId) + QLatin1String("@gcm.googleapis.com");
    auto authenticate = [expectedAuthcid](const QString &authcid, const QString &password) {
        return authcid == expectedAuthcid && password == QLatin1String(kStreamRunApiKey)
            ? QString::fromLatin1(kStreamRunSenderId)
            : QString();
    };
    EmulatorStream stream(
        1, limits, authenticate, [&result](const QByteArray &bytes) { result.output += bytes; });
    QObject::connect(
        &stream, &EmulatorStream::authenticated, &stream, [&result] { result.authenticated = true; });
    QObject::connect(&stream, &EmulatorStream::bound, &stream, [&result] { result.bound = true; });
    QObject::connect(&stream, &EmulatorStream::closed, &stream, [&result] { result.closed = true; });
    QObject::connect(&stream, &EmulatorStream::streamErrorSent, &stream,
        [&result](const QString &condition) { result.streamError = condition; });
    QObject::connect(&stream, &EmulatorStream::gcmReceived, &stream,
        [&result, &stream](QByteArrayView id, QByteArrayView json) {
            ++result.gcmReceived;
            const QString stanzaId = QString::fromUtf8(id);
            const QByteArray raw = json.toByteArray();
            QJsonObject object;
            ParseError error;
            if (!json::parseObject(raw, &object, &error)) {
                stream.sendStanzaError(
                    stanzaId, raw, QStringLiteral("InvalidJson: JSON_PARSING_ERROR : ") + error.message);
                ++result.answers;
                return;
            }
            const QString messageId = object.value(QLatin1String("message_id")).toString();
            const QString to = object.value(QLatin1String("to")).toString();
            if (object.contains(QLatin1String("message_type"))) {
                if (object.value(QLatin1String("message_type")).toString() == QLatin1String("ack")
                    && messageId.isEmpty()) {
                    // Nothing was sent upstream on this stream: every ACK is a bad one.
                    stream.sendGcm(json::serialize(Nack::make(
                        messageId, to, NackCode::BadAck, QStringLiteral("Missing message_id in ACK"))
                                                       .toJson()));
                    ++result.answers;
                }
                return;
            }
            if (const std::optional<ValidationFailure> failure = validateDownstream(object)) {
                if (failure->stanzaError)
                    stream.sendStanzaError(stanzaId, raw, failure->description);
                else
                    stream.sendGcm(json::serialize(
                        Nack::make(messageId, to, failure->nackCode, failure->description).toJson()));
            } else {
                Ack ack;
                ack.messageId = messageId;
                ack.from = to;
                stream.sendGcm(json::serializeAck(ack));
            }
            ++result.answers;
        });

    if (options.startBound)
        stream.feed(emulatorLoginTranscript()); // whole: the pieces matter for the input
    const qsizetype step = options.chunkBytes > 0 ? options.chunkBytes : std::max<qsizetype>(1, input.size());
    for (qsizetype offset = 0; offset < input.size() && stream.isOpen(); offset += step)
        stream.feed(input.sliced(offset, std::min(step, input.size() - offset)));
    return result;
}

} // namespace ccs::emulator
