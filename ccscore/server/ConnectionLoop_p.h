#pragma once

// Internal to ccscore/server: the event loops that serve the emulator's
// connections when EmulatorConfig::threads > 1 (see EmulatorServer.cpp).

#include "EmulatorStream_p.h"
#include "EmulatorTypes.h"
#include "protocol/Messages.h"

#include <QJsonObject>
#include <QSslConfiguration>
#include <QTcpServer>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace ccs::emulator {

// One <gcm> payload of a client, its JSON parsed: what the server answers.
struct ParsedGcm {
    QByteArray stanzaId; // UTF-8
    QByteArray raw; // the JSON as sent, UTF-8
    QJsonObject object; // what validation sees (not filled for a plain ACK)
    ClientMessage message;
};
using ParsedGcmBatch = std::vector<ParsedGcm>;
ParsedGcm parseGcm(QByteArray stanzaId, QByteArray json);

// Hands each accepted socket descriptor on, unopened: the TLS handshake is
// made by the loop that will serve the connection.
class DescriptorServer : public QTcpServer
{
    Q_OBJECT
public:
    std::function<void(qintptr descriptor)> onDescriptor;

protected:
    void incomingConnection(qintptr descriptor) override;
};

// One event loop's share of the connections: the TLS handshake (as
// QSslServer makes it: the configured certificate, a 10 s limit), then the
// EmulatorStream, both owned by this object on its thread, and the parsing of
// the JSON the stream reads (the server's thread, which every connection
// shares, keeps only what needs its state). Nothing here
// touches the server's state: the stream's signals reach the server queued,
// and what the server needs to know goes through the callbacks below, which
// the server makes safe to call from this thread.
class ConnectionLoop : public QObject
{
    Q_OBJECT
public:
    struct Setup {
        QSslConfiguration ssl;
        int handshakeTimeoutMs = 10000;
        StreamLimits limits;
        EmulatorStream::Authenticator authenticator; // called on this loop's thread
        std::shared_ptr<std::atomic<int>> nextConnectionId;
        // A stream was made: connect its signals (thread-safe QObject::connect only).
        std::function<void(EmulatorStream *stream, int id)> watch;
        // The connection is ready: tell the server (queued unless on its thread).
        std::function<void(int id, EmulatorStream *stream, const QString &peer,
            std::shared_ptr<std::atomic<qint64>> unsentBytes)>
            opened;
        std::function<void()> handshakeFailed;
        // A stream on a loop other than the server's: the <gcm> stanzas of
        // one read, parsed here (queued to the server by the callback); the
        // server's own loop leaves them to the server, one by one.
        QThread *serverThread = nullptr;
        std::function<void(int id, ParsedGcmBatch batch)> received;
    };

    explicit ConnectionLoop(Setup setup, QObject *parent = nullptr);
    // On this object's thread.
    void accept(qintptr descriptor);

private:
    void open(QSslSocket *socket);

    Setup m_setup;
};

} // namespace ccs::emulator
