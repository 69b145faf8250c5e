#pragma once

#include "SessionTypes.h"
#include "xmpp/XmlElement.h"

#include <QObject>
#include <QPointer>
#include <QSslError>

#include <memory>

class QXmppClient;
class QSslSocket;

namespace ccs {

class GcmStanzaExtension;

// The one place ccscore meets QXmpp (internal to ccscore/client; QXmpp
// appears only in the .cpp). QXmpp opens the TLS connection (direct TLS),
// authenticates with SASL PLAIN (every other mechanism disabled, see
// xmpp/QXmppPin.h) and binds; this class checks through QXmpp's public API
// what it did, maps its errors to SessionError with a message for people,
// and, once bound, hands the socket's reading to the caller. QXmpp's log is
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
    // After sessionReady(): QXmpp reads nothing more from the socket; whoever
    // connects to its readyRead does.
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
    friend class GcmStanzaExtension;
    void onConnected();
    QString describeTlsErrors() const;

    int m_id;
    ConnectionSettings m_settings;
    std::unique_ptr<QXmppClient> m_client;
    QPointer<QSslSocket> m_socket;
    QList<QSslError> m_sslErrors;
};

} // namespace ccs
