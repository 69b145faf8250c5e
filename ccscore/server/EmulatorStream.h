#pragma once

// Internal to ccscore/server: one client's XMPP stream on the emulator.

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
    qint64 maxStanzaBytes = 1 << 20;
    int maxDepth = 32;
    int authTimeoutMs = 30000; // 0: none
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
    ~EmulatorStream() override;

    int id() const { return m_id; }
    Phase phase() const { return m_phase; }
    bool isBound() const { return m_phase == Phase::Bound; }
    bool isOpen() const { return m_phase != Phase::Closing && m_phase != Phase::Closed; }
    QString senderId() const { return m_senderId; }
    QString fullJid() const { return m_fullJid; }

    // <message id=".."><gcm xmlns="google:mobile:data">JSON</gcm></message>
    void sendGcm(const QByteArray &json);
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
    void processTokens();
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
    quint64 m_readerGeneration = 0;
    std::vector<XmlElement> m_stack; // open elements below the stream root
    qint64 m_bytesFed = 0; // bytes given to the current reader
    qint64 m_stanzaStartOffset = 0; // reader offset where the current/next stanza began
    bool m_headerSent = false;
    bool m_closedEmitted = false;
    int m_authAttempts = 0;
    QString m_domain = QStringLiteral("gcm.googleapis.com");
    QString m_senderId;
    QString m_authcid;
    QString m_fullJid;
    QString m_streamId;
    quint64 m_nextStanzaId = 1;
    QTimer m_closeTimer;
    QTimer m_authTimer;
};

} // namespace ccs::emulator
