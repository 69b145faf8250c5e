#pragma once

#include "SessionTypes.h"
#include "xmpp/XmlElement_p.h"

#include <QAbstractSocket>
#include <QObject>
#include <QPointer>
#include <QSslError>

#include <memory>

class QXmppOutgoingClient;
class QSslSocket;

namespace ccs {

// The one place ccscore meets QXmpp (internal to ccscore/client; QXmpp
// appears only in the .cpp), through its installed public headers only.
// QXmpp's stream object (QXmppOutgoingClient) opens the TLS connection (direct
// TLS), authenticates with SASL PLAIN (every other mechanism disabled, see
// xmpp/QXmppPin_p.h) and binds; this class checks through QXmpp's public API
// what it did and maps its errors to SessionError with a message for people.
// Once bound, QXmpp hands over: the socket (QXmppOutgoingClient::socket())
// becomes this transport's, QXmpp's stream object is deleted with its
// handlers, and the caller reads and writes the CCS traffic. QXmpp's log is
// passed on for display only.
class QXmppTransport : public QObject
{
    Q_OBJECT
public:
    enum class LogKind { Sent, Received, Debug };

    QXmppTransport(int id, const ConnectionSettings &settings, QObject *parent = nullptr);
    ~QXmppTransport() override;

    // The stream's socket: its TLS state, writes, and the reading after bind.
    QSslSocket *socket() const { return m_socket; }
    void connectToServer();
    void disconnectFromServer();
    // After sessionReady(): QXmpp reads nothing more from the socket once it has
    // handed on all it read (until then what it reads comes as
    // stanzaBeforeBind()); whoever connects to the socket's readyRead reads.
    void handOverReading();

Q_SIGNALS:
    void encrypted(); // TLS is up: SASL may start
    void sessionReady(); // SASL PLAIN over TLS done, resource bound
    // An error QXmpp or the socket reported; the first is the cause.
    void errorOccurred(ccs::SessionError error, const QString &message);
    // The stream is not CCS (or not safe): end it now, nothing more may be sent.
    void refused(ccs::SessionError error, const QString &message);
    void socketClosed();
    // A <message> QXmpp read before bind, as the stanza reader would have read it.
    void stanzaBeforeBind(const ccs::xmpp::XmlElement &stanza);
    void logged(ccs::QXmppTransport::LogKind kind, const QString &text);

private:
    void onConnected();
    void afterQXmppRead();
    void reportAuthenticationError(
        bool mechanismMismatch, const QString &condition, const QString &description);
    void reportSocketError(QAbstractSocket::SocketError error, const QString &description);
    QString describeTlsErrors() const;

    int m_id;
    ConnectionSettings m_settings;
    QXmppOutgoingClient *m_stream; // a child; deleted at the hand-over
    QPointer<QSslSocket> m_socket;
    QList<QSslError> m_sslErrors;
    bool m_handOverWanted = false;
    bool m_qxmppParsed = false; // QXmpp handed on an element in the current read
};

} // namespace ccs
