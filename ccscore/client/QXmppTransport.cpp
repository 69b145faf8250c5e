#include "QXmppTransport.h"

#include "ClientLog.h"
#include "protocol/Messages.h"
#include "xmpp/QXmppPin.h"
#include "xmpp/StanzaReader.h"

#include <QDomElement>
#include <QDomNamedNodeMap>
#include <QSslCipher>
#include <QSslSocket>
#include <QXmppAuthenticationError.h>
#include <QXmppClient.h>
#include <QXmppClientExtension.h>
#include <QXmppConfiguration.h>
#include <QXmppError.h>
#include <QXmppLogger.h>
#include <QXmppStreamError.h>

namespace ccs {

namespace {

// What QXmpp parsed before bind, as the stanza reader would have read it: the
// same bounded tree, so that one function gives every stanza its meaning.
xmpp::XmlElement fromDom(const QDomElement &element, int levels)
{
    xmpp::XmlElement out;
    out.name = element.localName().isEmpty() ? element.tagName() : element.localName();
    out.ns = element.namespaceURI();
    const QDomNamedNodeMap attributes = element.attributes();
    for (int i = 0; i < attributes.count(); ++i) {
        const QDomAttr attribute = attributes.item(i).toAttr();
        if (attribute.namespaceURI().isEmpty())
            out.attributes.append(attribute.name(), attribute.value());
    }
    for (QDomNode node = element.firstChild(); !node.isNull(); node = node.nextSibling()) {
        if (node.isElement() && levels > 1)
            out.children.push_back(fromDom(node.toElement(), levels - 1));
        else if (node.isText() || node.isCDATASection())
            out.text += node.toCharacterData().data();
    }
    return out;
}

} // namespace

// Takes every <message> QXmpp reads before bind; nothing else of XMPP is used.
// After bind the stream is read by xmpp::StanzaReader (handOverReading()).
class GcmStanzaExtension : public QXmppClientExtension
{
public:
    explicit GcmStanzaExtension(QXmppTransport *transport)
        : m_transport(transport)
    { }

    bool handleStanza(const QDomElement &stanza) override
    {
        if (stanza.tagName() != QLatin1String("message"))
            return false;
        // consumed: QXmppMessage would copy deep children recursively (stack overflow)
        Q_EMIT m_transport->stanzaBeforeBind(fromDom(stanza, xmpp::clientReaderLimits().keptDepth));
        return true;
    }

private:
    QXmppTransport *m_transport;
};

QXmppTransport::QXmppTransport(int id, const ConnectionSettings &settings, QObject *parent)
    : QObject(parent)
    , m_id(id)
    , m_settings(settings)
    , m_client(std::make_unique<QXmppClient>(QXmppClient::NoExtensions))
{
    m_client->setLogger(nullptr); // our own handler below; no global logger
    m_client->addExtension(new GcmStanzaExtension(this));
    // QXmpp 1.10 has no public accessor for its socket (xmpp/QXmppPin.h): it is
    // the client's only QSslSocket child. Needed to check encryption before SASL,
    // to write stanzas and to read them after bind.
    m_socket = m_client->findChild<QSslSocket *>();

    connect(m_client.get(), &QXmppLoggable::logMessage, this, [this](QXmppLogger::MessageType type, const QString &text) {
        // For people only (the traffic view and the debug log): nothing is decided here.
        if (type == QXmppLogger::SentMessage)
            Q_EMIT logged(LogKind::Sent, text);
        else if (type == QXmppLogger::ReceivedMessage)
            Q_EMIT logged(LogKind::Received, text);
        else
            Q_EMIT logged(LogKind::Debug, text);
    });
    connect(m_client.get(), &QXmppClient::sslErrors, this,
        [this](const QList<QSslError> &errors) { m_sslErrors += errors; });
    connect(m_client.get(), &QXmppClient::connected, this, &QXmppTransport::onConnected);
    connect(m_client.get(), &QXmppClient::errorOccurred, this, [this](const QXmppError &error) {
        if (const auto auth = error.value<QXmpp::AuthenticationError>();
            auth && auth->type == QXmpp::AuthenticationError::MechanismMismatch) {
            // Not a credentials problem: the server does not offer PLAIN (CCS always does).
            Q_EMIT errorOccurred(SessionError::AuthenticationFailed,
                tr("%1:%2 does not offer SASL PLAIN, the only way CCS authenticates a sender ID (%3): "
                   "check the host and port; it is not a CCS server. Nothing was sent.")
                    .arg(m_settings.host)
                    .arg(m_settings.port)
                    .arg(error.description.left(200)));
        } else if (auth) {
            Q_EMIT errorOccurred(SessionError::AuthenticationFailed,
                tr("The server refused sender ID %1 (%2): check the sender ID and the API key.")
                    .arg(m_settings.senderId,
                        auth->text.isEmpty() ? QStringLiteral("not-authorized") : auth->text.left(200)));
        } else if (const auto socketError = error.value<QAbstractSocket::SocketError>()) {
            const QString where = QStringLiteral("%1:%2").arg(m_settings.host).arg(m_settings.port);
            switch (*socketError) {
            case QAbstractSocket::ConnectionRefusedError:
                Q_EMIT errorOccurred(SessionError::ConnectionRefused, tr("%1 refused the connection.").arg(where));
                break;
            case QAbstractSocket::HostNotFoundError:
                Q_EMIT errorOccurred(SessionError::HostNotFound, tr("Host %1 was not found.").arg(m_settings.host));
                break;
            case QAbstractSocket::SocketTimeoutError:
                Q_EMIT errorOccurred(SessionError::Timeout, tr("%1 did not answer in time.").arg(where));
                break;
            case QAbstractSocket::SslHandshakeFailedError:
            case QAbstractSocket::SslInternalError:
            case QAbstractSocket::SslInvalidUserDataError:
                Q_EMIT errorOccurred(SessionError::TlsError,
                    tr("TLS with %1 failed: %2")
                        .arg(where, m_sslErrors.isEmpty() ? error.description : describeTlsErrors()));
                break;
            case QAbstractSocket::RemoteHostClosedError:
                Q_EMIT errorOccurred(SessionError::ConnectionLost, tr("%1 closed the connection.").arg(where));
                break;
            default:
                Q_EMIT errorOccurred(SessionError::ConnectionLost,
                    tr("Connection to %1 lost: %2").arg(where, error.description));
                break;
            }
        } else if (error.holdsType<QXmpp::StreamError>()) {
            Q_EMIT errorOccurred(
                SessionError::StreamError, tr("The server ended the stream: %1").arg(error.description));
        } else {
            Q_EMIT errorOccurred(SessionError::ProtocolError, error.description);
        }
    });
    if (m_socket) {
        // Stanzas are small and answered one by one: Nagle's algorithm would hold them back.
        connect(m_socket, &QAbstractSocket::connected, this, [this] {
            m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            // The last line of defence: SASL never goes out on an unencrypted socket,
            // whatever path led there (QXmpp follows a see-other-host redirect over
            // plain TCP). CCS is TLS from the first byte; a socket connected without
            // TLS is ended before the server can even offer a mechanism.
            if (m_socket->mode() == QSslSocket::UnencryptedMode) {
                Q_EMIT refused(SessionError::TlsError,
                    tr("Refused to send credentials to %1 over an unencrypted connection.")
                        .arg(m_settings.host));
            }
        });
        connect(m_socket, &QSslSocket::encrypted, this, [this] {
            qCDebug(lcCcsXmpp) << "connection" << m_id << "TLS up:" << m_socket->sessionCipher().name();
            Q_EMIT encrypted();
        });
        connect(m_socket, &QAbstractSocket::stateChanged, this, [this](QAbstractSocket::SocketState state) {
            if (state == QAbstractSocket::UnconnectedState)
                Q_EMIT socketClosed();
        });
    }
}

QXmppTransport::~QXmppTransport()
{
    // No signal may reach the connection from a transport being torn down.
    m_client->disconnect(this);
    if (m_socket)
        m_socket->disconnect(this);
    if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort();
}

void QXmppTransport::connectToServer()
{
    if (!m_socket) {
        Q_EMIT refused(SessionError::ProtocolError, tr("QXmpp has no socket: cannot connect."));
        return;
    }
    QXmppConfiguration config;
    config.setHost(m_settings.host);
    config.setPort(m_settings.port);
    config.setDomain(m_settings.domain);
    // CCS wants the whole SENDER_ID@domain as the PLAIN user name.
    config.setUser(m_settings.senderId + QLatin1Char('@') + m_settings.domain);
    config.setPassword(m_settings.apiKey);
    config.setResource(QStringLiteral("ccs-admin"));
    config.setStreamSecurityMode(QXmppConfiguration::LegacySSL); // TLS from the first byte
    if (!m_settings.pinnedCertificates.isEmpty())
        config.setCaCertificates(m_settings.pinnedCertificates); // replaces the system CAs
    config.setIgnoreSslErrors(false);
    config.setUseSASLAuthentication(true);
    config.setUseNonSASLAuthentication(false);
    config.setUseSasl2Authentication(false);
    config.setUseFastTokenAuthentication(false);
    config.setSaslAuthMechanism(QStringLiteral("PLAIN"));
    // PLAIN or nothing: QXmpp would otherwise fall back to any other mechanism the server offers.
    config.setDisabledSaslMechanisms(xmpp::disabledSaslMechanisms());
    config.setAutoReconnectionEnabled(false); // the session alone decides
    config.setAutoAcceptSubscriptions(false);
    // No keep-alive pings: the guide does not speak of them (the emulator answers
    // them, as XMPP requires of an iq get); a dead connection shows through the
    // answer timeout instead.
    config.setKeepAliveInterval(0);
    config.setKeepAliveTimeout(0);
    qCDebug(lcCcsXmpp) << "connection" << m_id << "connecting to" << m_settings.host << m_settings.port;
    m_client->connectToServer(config);
}

void QXmppTransport::disconnectFromServer()
{
    m_client->disconnectFromServer();
}

void QXmppTransport::onConnected()
{
    // QXmpp reports "connected" whatever the server skipped: with no SASL mechanism on
    // offer it starts a session unauthenticated, without a bind feature it does not bind.
    // Neither is CCS, and no message may go out on such a stream.
    const QString where = QStringLiteral("%1:%2").arg(m_settings.host).arg(m_settings.port);
    if (!m_socket || !m_socket->isEncrypted()) {
        Q_EMIT refused(SessionError::TlsError, tr("The connection to %1 is not encrypted; nothing was sent.").arg(where));
        return;
    }
    // Every SASL mechanism QXmpp implements but PLAIN is disabled (xmpp/QXmppPin.h), as
    // are non-SASL and SASL 2: authenticated means SASL PLAIN.
    if (!m_client->isAuthenticated()) {
        Q_EMIT refused(SessionError::AuthenticationFailed,
            tr("%1 started a session without authenticating the sender ID (it offered no SASL "
               "mechanism): check the host and port; it is not a CCS server. Nothing was sent.")
                .arg(where));
        return;
    }
    // QXmpp replaces the configured user (SENDER_ID@domain, the PLAIN user name) with
    // the local part of the JID the server bound, which cannot hold an '@'. Still
    // holding one, no resource was bound.
    if (m_client->configuration().user().contains(QLatin1Char('@'))) {
        Q_EMIT refused(SessionError::ProtocolError,
            tr("%1 did not offer resource binding after authentication, so no session was "
               "established: it is not a CCS server, or it is misconfigured. Nothing was sent.")
                .arg(where));
        return;
    }
    Q_EMIT sessionReady();
}

void QXmppTransport::handOverReading()
{
    if (!m_socket)
        return;
    // QXmpp has handed over everything it read (its buffer is empty once a parse
    // succeeded, and the bind result was such a parse); what follows is the caller's.
    // QXmpp 1.10 offers no public way to stop its reader (xmpp/QXmppPin.h).
    QObject::disconnect(m_socket, &QIODevice::readyRead, nullptr, nullptr);
}

QString QXmppTransport::describeTlsErrors() const
{
    QStringList causes;
    for (const QSslError &error : m_sslErrors) {
        QString cause;
        switch (error.error()) {
        case QSslError::HostNameMismatch:
            cause = tr("the certificate does not name %1 (wrong host name)").arg(m_settings.domain);
            break;
        case QSslError::CertificateExpired:
            cause = tr("the certificate has expired");
            break;
        case QSslError::CertificateNotYetValid:
            cause = tr("the certificate is not yet valid");
            break;
        case QSslError::SelfSignedCertificate:
        case QSslError::SelfSignedCertificateInChain:
        case QSslError::CertificateUntrusted:
        case QSslError::UnableToGetLocalIssuerCertificate:
        case QSslError::UnableToGetIssuerCertificate:
        case QSslError::UnableToVerifyFirstCertificate:
            cause = m_settings.pinnedCertificates.isEmpty()
                ? tr("the certificate is not trusted (no system CA signed it)")
                : tr("the certificate is not trusted (it is not the pinned certificate)");
            break;
        case QSslError::CertificateRevoked:
            cause = tr("the certificate was revoked");
            break;
        default:
            cause = error.errorString();
            break;
        }
        if (!causes.contains(cause))
            causes.append(cause);
    }
    return causes.join(QStringLiteral("; "));
}

} // namespace ccs
