#pragma once

#include "protocol/Utf8Validator.h"

// Internal to ccscore/server: one client's XMPP stream on the emulator.

#include <QByteArrayView>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QSslSocket>
#include <QTimer>
#include <QXmlStreamAttributes>
#include <QXmlStreamReader>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

Q_DECLARE_LOGGING_CATEGORY(lcCcsServer)

namespace ccs::emulator {

// A top-level stanza as read from the stream: enough of a tree for CCS.
struct XmlElement {
    QString name;
    QString ns;
    QXmlStreamAttributes attributes;
    QString text;
    std::vector<XmlElement> children;

    const XmlElement *child(QStringView childName, QStringView childNs = {}) const;
    QString attribute(QLatin1StringView attributeName) const
    {
        return attributes.value(attributeName).toString();
    }
};

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

// Speaks the XMPP side of CCS on one TLS socket: stream header, features,
// SASL PLAIN, restart, bind, session, iq answers, stream errors. Hands the
// <gcm> payload of each <message> to the server, which answers through
// sendGcm() or sendStanzaError(). Never trusts the peer: any malformed XML,
// oversize or too-deep stanza ends the stream with a stream error.
class EmulatorStream : public QObject
{
    Q_OBJECT
public:
    // Returns the sender ID for valid credentials, an empty string otherwise.
    using Authenticator = std::function<QString(const QString &authcid, const QString &password)>;
    // Receives every byte the stream writes, in the socket-free mode.
    using Output = std::function<void(const QByteArray &bytes)>;

    enum class Phase {
        AwaitingStream, // TLS up, waiting for <stream:stream>
        AwaitingAuth, // features with mechanisms sent
        AwaitingRestart, // <success/> sent, waiting for the new stream header
        AwaitingBind, // features with bind sent
        Bound, // CCS traffic allowed
        Closing, // </stream:stream> sent
        Closed,
    };

    EmulatorStream(int id, QSslSocket *socket, StreamLimits limits, Authenticator authenticator,
        QObject *parent = nullptr);
    // Socket-free: bytes come in through feed() and go out through output, in
    // the same parser and state machine. Needs no event loop, starts no timer
    // unless limits.authTimeoutMs > 0, closes at once (closed() is emitted
    // from closeStream()), and is deterministic (no random stream id or
    // resource). For fuzzing (see StreamFuzzing.h) and tests.
    EmulatorStream(
        int id, StreamLimits limits, Authenticator authenticator, Output output, QObject *parent = nullptr);
    ~EmulatorStream() override;

    // Bytes from the peer, as they arrive (any split, even inside a UTF-8
    // sequence). The socket mode calls it for what it reads.
    void feed(QByteArrayView bytes);

    int id() const { return m_id; }
    Phase phase() const { return m_phase; }
    bool isBound() const { return m_phase == Phase::Bound; }
    bool isOpen() const { return m_phase != Phase::Closing && m_phase != Phase::Closed; }
    QString senderId() const { return m_senderId; }
    QString fullJid() const { return m_fullJid; }
    qint64 unsentBytes() const; // written, not yet sent to the peer

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
    // A <message> with a <gcm xmlns="google:mobile:data"> child.
    void gcmReceived(const QString &stanzaId, const QString &json);
    void streamErrorSent(const QString &condition);
    void closed();

private:
    void onReadyRead();
    void feedValid(QByteArrayView bytes);
    void processTokens();
    qint64 markStanzaBoundary();
    void restartReader();
    void handleStreamStart();
    void handleStanza(const XmlElement &stanza);
    void handleAuth(const XmlElement &auth);
    void handleIq(const XmlElement &iq);
    void handleMessage(const XmlElement &message);
    void sendStreamHeader();
    void write(const QByteArray &xml);
    void finishClose();

    int m_id;
    QPointer<QSslSocket> m_socket;
    StreamLimits m_limits;
    Authenticator m_authenticator;
    Phase m_phase = Phase::AwaitingStream;
    std::unique_ptr<QXmlStreamReader> m_reader;
    std::vector<XmlElement> m_stack; // open elements below the stream root
    // Bytes given to the current reader from where the current (or next)
    // stanza began: the limit counts these, so a stanza, or a start tag, that
    // never ends cannot grow without bound however the reader buffers it.
    QByteArray m_pending;
    qsizetype m_pendingHead = 0; // m_pending[0, head) is before the stanza start
    qint64 m_pendingHeadUnits = 0; // reader characterOffset() of m_pendingHead
    int m_stanzaElements = 0; // elements in the stanza being read
    // The fast path (stanza::readPlainGcmMessage): after bind, while the reader
    // has nothing buffered (m_pending empty), plain <message> stanzas are read
    // without it, as the client's own reader does. The start of one that a read
    // cut off waits here for the rest.
    QByteArray m_plainPending;
    bool m_defaultNsIsClient = false; // the stream element declared xmlns='jabber:client'
    bool plainReady() const;
    bool m_reading = false; // in onReadyRead: no re-entry
    // Incremental UTF-8 check (RFC 3629): a sequence may be split across reads.
    Utf8Validator m_utf8;
    Output m_output; // socket-free mode
    bool m_socketFree = false;
    bool m_headerSent = false;
    bool m_closedEmitted = false;
    int m_authAttempts = 0;
    QString m_domain = QStringLiteral("gcm.googleapis.com");
    QString m_senderId;
    QString m_authcid;
    QString m_fullJid;
    QString m_streamId;
    quint64 m_nextStanzaId = 1;
    quint64 m_nextResource = 1; // socket-free mode: deterministic resources
    QTimer m_closeTimer;
    QTimer m_authTimer;
};

} // namespace ccs::emulator
