// libFuzzer target: the emulator's stream parser and stanza handling
// (EmulatorStream: stream header, SASL PLAIN, restart, bind, iq, <message>
// with <gcm>, stream errors, the size and depth limits), fed from one end of
// a local socket pair with no TLS and no network. The first byte picks the
// phase the bytes arrive in: odd = after a valid login (stream, SASL PLAIN,
// restart, bind), so the fuzzer reaches CCS stanzas at once; even = from the
// first byte of the stream. Each <gcm> payload goes through the JSON codec
// and the validation rules, as EmulatorServer does. Nothing may crash, hang
// or leak.
//
// EmulatorStream has no socket-free entry point; a socketpair is the
// smallest way in without changing it (see the reliability notes).

#include "protocol/JsonCodec.h"
#include "protocol/Validation.h"
#include "server/EmulatorStream_p.h"

#include <QCoreApplication>
#include <QSslSocket>

#include <cstdint>
#include <cstdlib>
#include <sys/socket.h>
#include <unistd.h>

namespace {

const QByteArray kLogin
    = QByteArray("<?xml version='1.0'?><stream:stream to='gcm.googleapis.com' version='1.0' "
                 "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
                 "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>")
    + QByteArray("\0"
                 "1234@gcm.googleapis.com\0"
                 "key",
        28)
          .toBase64()
    + "</auth><stream:stream to='gcm.googleapis.com' version='1.0' xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams'>"
      "<iq type='set' id='b'><bind "
      "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>f</resource></bind></iq>";

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static QCoreApplication app(*argc, *argv); // timers and sockets need one
    qputenv("QT_LOGGING_RULES", "ccs.*=false");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    QByteArray input;
    if (data[0] & 1)
        input = kLogin;
    input.append(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));

    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        std::abort();
    auto *socket = new QSslSocket; // plain mode: no handshake is started
    if (!socket->setSocketDescriptor(fds[0]))
        std::abort();

    ccs::emulator::StreamLimits limits;
    limits.maxStanzaBytes = 16 * 1024; // small, so the fuzzer reaches the limit
    limits.maxDepth = 16;
    auto authenticate = [](const QString &authcid, const QString &password) {
        return authcid == QLatin1String("1234@gcm.googleapis.com") && password == QLatin1String("key")
            ? QStringLiteral("1234")
            : QString();
    };
    auto *stream = new ccs::emulator::EmulatorStream(1, socket, limits, authenticate);
    QObject::connect(stream, &ccs::emulator::EmulatorStream::gcmReceived, stream,
        [stream](QByteArrayView id, QByteArrayView json) {
            const QString stanzaId = QString::fromUtf8(id);
            const QByteArray bytes = json.toByteArray();
            QJsonObject object;
            ccs::ParseError error;
            if (!ccs::json::parseObject(bytes, &object, &error)) {
                stream->sendStanzaError(stanzaId, bytes, error.message);
                return;
            }
            (void)ccs::json::parseClientMessage(bytes);
            if (const auto failure = ccs::validateDownstream(object))
                stream->sendStanzaError(stanzaId, bytes, failure->description);
            else
                stream->sendGcm(R"({"message_type":"ack","message_id":"x"})");
        });

    // Everything is written before reading: the pair's buffer holds far more than -max_len.
    for (qsizetype off = 0; off < input.size();) {
        const ssize_t n = ::write(fds[1], input.constData() + off, size_t(input.size() - off));
        if (n <= 0)
            std::abort();
        off += n;
    }
    ::shutdown(fds[1], SHUT_WR);
    for (int i = 0; i < 1000 && stream->isOpen() && socket->state() == QAbstractSocket::ConnectedState; ++i) {
        if (!socket->waitForReadyRead(50))
            break;
    }
    delete stream; // and its socket
    ::close(fds[1]);
    return 0;
}
