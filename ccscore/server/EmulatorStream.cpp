#include "EmulatorStream_p.h"
#include "protocol/Messages.h"
#include "xmpp/StanzaWriter_p.h"

#include <algorithm>
#include <utility>

Q_LOGGING_CATEGORY(lcCcsServer, "ccs.server")

namespace ccs::emulator {

namespace {
constexpr int kCloseGraceMs = 2000;
// Reads from the socket in pieces of this size, and lets the socket buffer
// no more, so the stanza limit is checked before much more is held.
constexpr qint64 kReadChunkBytes = 64 * 1024;

xmpp::ReaderLimits readerLimits(const StreamLimits &limits)
{
    return xmpp::serverReaderLimits(limits.maxStanzaBytes, limits.maxDepth, limits.maxStanzaElements);
}
} // namespace

EmulatorStream::EmulatorStream(
    int id, QSslSocket *socket, StreamLimits limits, Authenticator authenticator, QObject *parent)
    : QObject(parent)
    , m_id(id)
    , m_socket(socket)
    , m_limits(limits)
    , m_handshake(id, std::move(authenticator), false)
    , m_reader(readerLimits(limits), this)
{
    socket->setParent(this);
    socket->setReadBufferSize(kReadChunkBytes);
    m_closeTimer.setSingleShot(true);
    connect(&m_closeTimer, &QTimer::timeout, this, [this] {
        if (m_socket)
            m_socket->abort();
    });
    m_authTimer.setSingleShot(true);
    connect(&m_authTimer, &QTimer::timeout, this, [this] {
        sendStreamErrorAndClose(
            QStringLiteral("connection-timeout"), QStringLiteral("not authenticated in time"));
    });
    if (m_limits.authTimeoutMs > 0)
        m_authTimer.start(m_limits.authTimeoutMs);
    connect(socket, &QSslSocket::readyRead, this, &EmulatorStream::onReadyRead);
    // Progress on what was written resumes reading held back by maxUnsentBytes.
    connect(socket, &QSslSocket::bytesWritten, this, &EmulatorStream::onReadyRead);
    connect(socket, &QSslSocket::encryptedBytesWritten, this, &EmulatorStream::onReadyRead);
    connect(socket, &QSslSocket::disconnected, this, &EmulatorStream::finishClose);
    connect(socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        qCDebug(lcCcsServer) << "connection" << m_id << "socket error" << error;
        if (m_socket && m_socket->state() == QAbstractSocket::UnconnectedState)
            finishClose();
    });
    // Data may have arrived with the TLS handshake, before these connections.
    if (socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &EmulatorStream::onReadyRead, Qt::QueuedConnection);
}

EmulatorStream::EmulatorStream(
    int id, StreamLimits limits, Authenticator authenticator, Output output, QObject *parent)
    : QObject(parent)
    , m_id(id)
    , m_limits(limits)
    , m_handshake(id, std::move(authenticator), true)
    , m_reader(readerLimits(limits), this)
    , m_output(std::move(output))
    , m_socketFree(true)
{
    m_authTimer.setSingleShot(true);
    connect(&m_authTimer, &QTimer::timeout, this, [this] {
        sendStreamErrorAndClose(
            QStringLiteral("connection-timeout"), QStringLiteral("not authenticated in time"));
    });
    if (m_limits.authTimeoutMs > 0)
        m_authTimer.start(m_limits.authTimeoutMs);
}

EmulatorStream::~EmulatorStream() = default;

EmulatorStream::Phase EmulatorStream::phase() const
{
    if (m_closed)
        return Phase::Closed;
    if (m_closing)
        return Phase::Closing;
    switch (m_handshake.phase()) {
    case xmpp::ServerHandshake::Phase::AwaitingStream:
        return Phase::AwaitingStream;
    case xmpp::ServerHandshake::Phase::AwaitingAuth:
        return Phase::AwaitingAuth;
    case xmpp::ServerHandshake::Phase::AwaitingRestart:
        return Phase::AwaitingRestart;
    case xmpp::ServerHandshake::Phase::AwaitingBind:
        return Phase::AwaitingBind;
    case xmpp::ServerHandshake::Phase::Bound:
        break;
    }
    return Phase::Bound;
}

void EmulatorStream::onReadyRead()
{
    if (m_reading)
        return;
    m_reading = true;
    // Bounded reads: the limit is checked after each piece. A peer that does
    // not read what it is sent is not read either (bytesWritten resumes).
    while (m_socket && isOpen() && m_socket->bytesAvailable() > 0
        && (m_limits.maxUnsentBytes <= 0 || unsentBytes() <= m_limits.maxUnsentBytes)) {
        const QByteArray data = m_socket->read(kReadChunkBytes);
        if (data.isEmpty())
            break;
        feed(data);
    }
    m_reading = false;
}

qint64 EmulatorStream::unsentBytes() const
{
    // A QSslSocket encrypts at once: what waits is mostly in encryptedBytesToWrite().
    return m_socket ? m_socket->bytesToWrite() + m_socket->encryptedBytesToWrite() : 0;
}

void EmulatorStream::feed(QByteArrayView bytes)
{
    if (bytes.isEmpty() || !isOpen())
        return;
    m_reader.feed(bytes);
    flushGcmBatch();
}

void EmulatorStream::gcmRead(QByteArrayView stanzaId, QByteArrayView json)
{
    if (m_batched)
        m_gcmBatch.append({stanzaId.toByteArray(), json.toByteArray()});
    else
        Q_EMIT gcmReceived(stanzaId, json);
}

// Before any other signal and at the end of each read: the server sees
// everything in the order it was read.
void EmulatorStream::flushGcmBatch()
{
    if (m_gcmBatch.isEmpty())
        return;
    const GcmBatch batch = std::exchange(m_gcmBatch, {});
    Q_EMIT gcmBatchReceived(batch);
}

void EmulatorStream::streamOpened(const xmpp::StreamHeader &header)
{
    write(m_handshake.streamOpened(header));
    m_headerSent = true;
}

void EmulatorStream::stanzaRead(XmlElement &&stanza, bool /*oversized: no run is cut here*/)
{
    handleStanza(stanza);
}

bool EmulatorStream::plainGcmRead(QByteArrayView id, QByteArrayView json)
{
    gcmRead(id, json);
    return true;
}

void EmulatorStream::streamClosed()
{
    // The client closed its stream: close ours.
    qCDebug(lcCcsServer) << "connection" << m_id << "client closed the stream";
    closeStream();
}

void EmulatorStream::readFailed(xmpp::ReadError error, const QString &detail)
{
    using xmpp::ReadError;
    switch (error) {
    case ReadError::NotUtf8:
        sendStreamErrorAndClose(QStringLiteral("not-well-formed"), QStringLiteral("invalid UTF-8"));
        break;
    case ReadError::NotWellFormed:
    case ReadError::DocumentEnded:
        sendStreamErrorAndClose(QStringLiteral("not-well-formed"), detail);
        break;
    case ReadError::UnsupportedEncoding:
        sendStreamErrorAndClose(QStringLiteral("unsupported-encoding"), detail);
        break;
    case ReadError::RestrictedXml:
        sendStreamErrorAndClose(QStringLiteral("restricted-xml"), detail);
        break;
    case ReadError::NotAStream:
        sendStreamErrorAndClose(QStringLiteral("invalid-namespace"), detail);
        break;
    case ReadError::StreamInsideStream:
        sendStreamErrorAndClose(QStringLiteral("unsupported-stanza-type"), detail);
        break;
    case ReadError::TooDeep:
        sendStreamErrorAndClose(
            QStringLiteral("policy-violation"), QStringLiteral("XML nested deeper than %1").arg(detail));
        break;
    case ReadError::TooManyElements:
        sendStreamErrorAndClose(QStringLiteral("policy-violation"),
            QStringLiteral("more than %1 elements in a stanza").arg(detail));
        break;
    case ReadError::StanzaTooLarge:
    case ReadError::MarkupTooLong:
        sendStreamErrorAndClose(
            QStringLiteral("policy-violation"), QStringLiteral("stanza larger than %1 bytes").arg(detail));
        break;
    }
}

void EmulatorStream::handleStanza(const XmlElement &stanza)
{
    using Kind = xmpp::ServerHandshake::Step::Kind;
    const xmpp::ServerHandshake::Step step = m_handshake.handle(stanza);
    if (!step.reply.isEmpty())
        write(step.reply);
    switch (step.kind) {
    case Kind::Handled:
        break;
    case Kind::Authenticated:
        m_reader.restartStream();
        qCInfo(lcCcsServer) << "connection" << m_id << "authenticated as sender" << m_handshake.senderId();
        flushGcmBatch();
        Q_EMIT authenticated(m_handshake.senderId());
        break;
    case Kind::AuthFailed:
        flushGcmBatch();
        Q_EMIT authenticationFailed();
        if (step.close)
            closeStream();
        break;
    case Kind::Bound:
        m_reader.setPlainEnabled(true);
        m_authTimer.stop();
        flushGcmBatch();
        Q_EMIT bound();
        break;
    case Kind::Message:
        handleMessage(stanza);
        break;
    case Kind::StreamError:
        sendStreamErrorAndClose(step.condition, step.text);
        break;
    }
}

void EmulatorStream::sendStreamHeader()
{
    if (m_headerSent)
        return;
    write(m_handshake.streamHeader());
    m_headerSent = true;
}

void EmulatorStream::handleMessage(const XmlElement &message)
{
    const XmlElement *gcm = message.child(u"gcm", QString::fromLatin1(kGcmNamespace));
    if (!gcm) {
        qCDebug(lcCcsServer) << "connection" << m_id << "ignored a <message> without <gcm>";
        return;
    }
    gcmRead(message.attribute(QLatin1String("id")).toUtf8(), gcm->text.toUtf8());
}

void EmulatorStream::sendGcm(const QByteArray &json)
{
    if (!isOpen())
        return;
    write(xmpp::writer::gcmMessage(QStringLiteral("e%1").arg(m_nextStanzaId++), json));
}

void EmulatorStream::sendDrainingControl(const QByteArray &json)
{
    if (!isOpen())
        return;
    write(xmpp::writer::drainingControl(json));
}

void EmulatorStream::sendStanzaError(
    const QString &stanzaId, const QByteArray &originalJson, const QString &text)
{
    if (!isOpen())
        return;
    write(xmpp::writer::gcmStanzaError(stanzaId, m_handshake.fullJid(), originalJson, text));
}

void EmulatorStream::sendStreamErrorAndClose(const QString &condition, const QString &text)
{
    if (!isOpen())
        return;
    qCInfo(lcCcsServer) << "connection" << m_id << "stream error" << condition << text;
    sendStreamHeader();
    write(xmpp::writer::streamError(condition, text));
    flushGcmBatch();
    Q_EMIT streamErrorSent(condition);
    closeStream();
}

void EmulatorStream::closeStream()
{
    if (!isOpen())
        return;
    sendStreamHeader();
    write(xmpp::writer::streamClose());
    m_closing = true;
    if (m_socketFree) {
        finishClose(); // nothing to wait for
        return;
    }
    if (m_socket)
        m_socket->disconnectFromHost(); // after the buffered bytes are written
    m_closeTimer.start(kCloseGraceMs);
}

void EmulatorStream::abort()
{
    if (m_closed)
        return;
    m_closing = true;
    if (m_socket) {
        // What was already answered reaches the client; the cut comes after it.
        m_socket->flush();
        m_socket->abort();
    }
    finishClose();
}

void EmulatorStream::write(const QByteArray &xml)
{
    if (m_socketFree) {
        if (m_output)
            m_output(xml);
        return;
    }
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->write(xml);
}

void EmulatorStream::finishClose()
{
    if (m_closedEmitted)
        return;
    m_closedEmitted = true;
    m_closing = m_closed = true;
    m_closeTimer.stop();
    m_authTimer.stop();
    qCDebug(lcCcsServer) << "connection" << m_id << "closed";
    flushGcmBatch();
    Q_EMIT closed();
}

} // namespace ccs::emulator

// Its own moc object: what links the client alone does not pull in the emulator.
#include "moc_EmulatorStream_p.cpp"
