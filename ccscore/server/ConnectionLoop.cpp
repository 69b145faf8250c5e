#include "ConnectionLoop_p.h"
#include "protocol/JsonCodec.h"

#include <QTimer>

namespace ccs::emulator {

ParsedGcm parseGcm(QByteArray stanzaId, QByteArray json)
{
    ParsedGcm gcm;
    gcm.stanzaId = std::move(stanzaId);
    gcm.raw = std::move(json);
    gcm.message = json::parseClientMessage(gcm.raw, &gcm.object);
    return gcm;
}

void DescriptorServer::incomingConnection(qintptr descriptor)
{
    if (onDescriptor)
        onDescriptor(descriptor);
}

ConnectionLoop::ConnectionLoop(Setup setup, QObject *parent)
    : QObject(parent)
    , m_setup(std::move(setup))
{ }

void ConnectionLoop::accept(qintptr descriptor)
{
    auto *socket = new QSslSocket(this);
    socket->setSslConfiguration(m_setup.ssl);
    if (!socket->setSocketDescriptor(descriptor)) {
        qCDebug(lcCcsServer) << "cannot take an accepted socket:" << socket->errorString();
        delete socket;
        return;
    }
    auto *handshakeTimer = new QTimer(socket);
    handshakeTimer->setSingleShot(true);
    QObject::connect(handshakeTimer, &QTimer::timeout, socket, [socket] {
        qCDebug(lcCcsServer) << "TLS handshake timed out";
        socket->abort();
        socket->deleteLater();
    });
    QObject::connect(socket, &QSslSocket::encrypted, this, [this, socket, handshakeTimer] {
        delete handshakeTimer;
        socket->disconnect(this);
        open(socket);
    });
    QObject::connect(
        socket, &QAbstractSocket::errorOccurred, this, [this, socket](QAbstractSocket::SocketError error) {
            qCDebug(lcCcsServer) << "TLS handshake failed:" << error;
            if (error == QAbstractSocket::SslHandshakeFailedError && m_setup.handshakeFailed)
                m_setup.handshakeFailed();
            socket->disconnect(this);
            socket->deleteLater();
        });
    handshakeTimer->start(m_setup.handshakeTimeoutMs);
    socket->startServerEncryption();
}

void ConnectionLoop::open(QSslSocket *socket)
{
    // Stanzas are small and answered one by one: no Nagle delay on ACKs.
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    const int id = m_setup.nextConnectionId->fetch_add(1);
    const QString peer = socket->peerAddress().toString();
    auto unsent = std::make_shared<std::atomic<qint64>>(0);
    auto *stream = new EmulatorStream(id, socket, m_setup.limits, m_setup.authenticator, this);
    // Another loop than the server's parses a read's stanzas here and hands
    // them over at once; on the server's own loop the stream's signals are
    // direct calls and the server parses them.
    if (thread() != m_setup.serverThread) {
        stream->setBatched(true);
        QObject::connect(stream, &EmulatorStream::gcmBatchReceived, this, [this, id](const GcmBatch &batch) {
            ParsedGcmBatch parsed;
            parsed.reserve(size_t(batch.size()));
            for (const GcmStanza &gcm : batch)
                parsed.push_back(parseGcm(gcm.stanzaId, gcm.json));
            m_setup.received(id, std::move(parsed));
        });
    }
    // What the server reads as ConnectionInfo::unsentBytes, kept current here.
    auto update = [stream, unsent] { unsent->store(stream->unsentBytes(), std::memory_order_relaxed); };
    QObject::connect(socket, &QSslSocket::encryptedBytesWritten, stream, update);
    QObject::connect(socket, &QSslSocket::bytesWritten, stream, update);
    m_setup.watch(stream, id);
    m_setup.opened(id, stream, peer, unsent);
}

} // namespace ccs::emulator

// Its own moc object: what links the client alone does not pull in the emulator.
#include "moc_ConnectionLoop_p.cpp"
