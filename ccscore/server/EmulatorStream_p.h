#pragma once

#include "xmpp/ServerHandshake_p.h"
#include "xmpp/StanzaReader_p.h"

// Internal to ccscore/server: one client's XMPP stream on the emulator.

#include <QByteArrayView>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QSslSocket>
#include <QTimer>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

Q_DECLARE_LOGGING_CATEGORY(lcCcsServer)

namespace ccs::emulator {

using XmlElement = xmpp::XmlElement;

struct StreamLimits {
    qint64 maxStanzaBytes = 1 << 20; // in bytes read, checked while the stanza still arrives too
    int maxDepth = 32;
    int authTimeoutMs = 30000; // 0: none
    // Elements in one stanza (CCS stanzas have a handful): each costs far
    // more memory than its bytes, so the byte limit alone does not bound it.
    int maxStanzaElements = 1000;
    // Written and not yet taken by the peer: past this, the stream stops
    // reading until the peer reads (TCP pushes back on a client that sends
    // without ever reading its answers). 0: no limit.
    qint64 maxUnsentBytes = 4 << 20;
};

// One <gcm> payload read from a client: the <message>'s id and the JSON, UTF-8.
struct GcmStanza {
    QByteArray stanzaId;
    QByteArray json;
};
using GcmBatch = QList<GcmStanza>;

// Speaks the XMPP side of CCS on one TLS socket: reads with the shared
// xmpp::StanzaReader, leaves stream header, features, SASL PLAIN, restart,
// bind, session and iq answers to xmpp::ServerHandshake, and writes stream
// errors and <gcm> traffic with xmpp::writer. Hands the
// <gcm> payload of each <message> to the server, which answers through
// sendGcm() or sendStanzaError(). Never trusts the peer: any malformed XML,
// oversize or too-deep stanza ends the stream with a stream error.
class EmulatorStream : public QObject, private xmpp::StanzaReader::Handler
{
    Q_OBJECT
public:
    // Returns the sender ID for valid credentials, an empty string otherwise.
    using Authenticator = xmpp::ServerHandshake::Authenticator;
    // Receives every byte the stream writes, in the socket-free mode.
    using Output = std::function<void(const QByteArray &bytes)>;

    // xmpp::ServerHandshake::Phase's five, then Closing (</stream:stream> sent) and Closed.
    enum class Phase { AwaitingStream, AwaitingAuth, AwaitingRestart, AwaitingBind, Bound, Closing, Closed };

    EmulatorStream(int id, QSslSocket *socket, StreamLimits limits, Authenticator authenticator,
        QObject *parent = nullptr);
    // Socket-free: bytes come in through feed() and go out through output, in
    // the same parser and state machine. Needs no event loop, starts no timer
    // unless limits.authTimeoutMs > 0, closes at once (closed() is emitted
    // from closeStream()), and is deterministic (no random stream id or
    // resource). For fuzzing (see StreamFuzzing_p.h) and tests.
    EmulatorStream(
        int id, StreamLimits limits, Authenticator authenticator, Output output, QObject *parent = nullptr);
    ~EmulatorStream() override;

    // Bytes from the peer, as they arrive (any split, even inside a UTF-8
    // sequence). The socket mode calls it for what it reads.
    void feed(QByteArrayView bytes);

    int id() const { return m_id; }
    Phase phase() const;
    bool isBound() const { return phase() == Phase::Bound; }
    bool isOpen() const { return !m_closing; }
    QString senderId() const { return m_handshake.senderId(); }
    QString fullJid() const { return m_handshake.fullJid(); }
    qint64 unsentBytes() const; // written, not yet sent to the peer
    // Batched: the <gcm> payloads of one read reach the server as one
    // gcmBatchReceived() instead of one gcmReceived() each, emitted at the end
    // of the read and before any other signal (so the order holds). For a
    // stream on another thread than the server's: one queued hop a read, not
    // one a stanza.
    void setBatched(bool batched) { m_batched = batched; }

    // <message id=".."><gcm xmlns="google:mobile:data">JSON</gcm></message>
    void sendGcm(const QByteArray &json);
    // CONNECTION_DRAINING as the guide prints it: <message> without an id and
    // <data:gcm xmlns:data="google:mobile:data">, the JSON on its own line.
    void sendDrainingControl(const QByteArray &json);
    void sendStanzaError(const QString &stanzaId, const QByteArray &originalJson, const QString &text);
    // <stream:error><CONDITION/><text>..</text></stream:error></stream:stream>, then close.
    void sendStreamErrorAndClose(const QString &condition, const QString &text = {});
    // </stream:stream>, then close once written.
    void closeStream();
    // TCP reset, nothing more written.
    void abort();

Q_SIGNALS:
    void authenticated(const QString &senderId);
    void authenticationFailed();
    void bound();
    // A <message> with a <gcm xmlns="google:mobile:data"> child: its id and JSON text,
    // unescaped, UTF-8; off the fast path views into the bytes read (no copy). Valid only
    // during the emission: connect it directly (only a stream on the server's thread, which
    // is not batched, emits it) and copy what must outlive the call; never queue it.
    void gcmReceived(QByteArrayView stanzaId, QByteArrayView json);
    // Batched mode: the <gcm> payloads of one read, in order.
    void gcmBatchReceived(const ccs::emulator::GcmBatch &batch);
    void streamErrorSent(const QString &condition);
    void closed();

private:
    void onReadyRead();
    // StanzaReader::Handler
    void streamOpened(const xmpp::StreamHeader &header) override;
    void stanzaRead(XmlElement &&stanza, bool oversized) override;
    bool plainGcmRead(QByteArrayView id, QByteArrayView json) override;
    void streamClosed() override;
    void readFailed(xmpp::ReadError error, const QString &detail) override;
    bool keepReading() const override { return isOpen(); }
    void handleStanza(const XmlElement &stanza);
    void handleMessage(const XmlElement &message);
    void gcmRead(QByteArrayView stanzaId, QByteArrayView json);
    void flushGcmBatch();
    void sendStreamHeader();
    void write(const QByteArray &xml);
    void finishClose();

    int m_id;
    QPointer<QSslSocket> m_socket;
    StreamLimits m_limits;
    xmpp::ServerHandshake m_handshake;
    xmpp::StanzaReader m_reader;
    bool m_closing = false; // Closing or Closed
    bool m_closed = false;
    bool m_reading = false; // in onReadyRead: no re-entry
    Output m_output; // socket-free mode
    bool m_socketFree = false;
    bool m_headerSent = false;
    bool m_closedEmitted = false;
    quint64 m_nextStanzaId = 1;
    bool m_batched = false;
    GcmBatch m_gcmBatch; // batched mode: read, not yet emitted
    QTimer m_closeTimer;
    QTimer m_authTimer;
};

} // namespace ccs::emulator
