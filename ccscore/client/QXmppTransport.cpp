#include "ClientLog_p.h"
#include "QXmppTransport_p.h"
#include "protocol/Messages.h"
#include "xmpp/QXmppPin_p.h"
#include "xmpp/StanzaReader_p.h"

#include <QDomElement>
#include <QDomNamedNodeMap>
#include <QSslCipher>
#include <QSslSocket>
#include <QXmppAuthenticationError.h>
#include <QXmppConfiguration.h>
#include <QXmppLogger.h>
#include <QXmppOutgoingClient.h>
#include <QXmppStreamError.h>

#include <utility>

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

QXmppTransport::QXmppTransport(int id, const ConnectionSettings &settings, QObject *parent)
    : QObject(parent)
    , m_id(id)
    , m_settings(settings)
    // QXmpp's stream object, used without QXmppClient: it is all ccscore needs
    // of QXmpp (connect, authenticate, bind), and it names its socket in its
    // public API (QXmppOutgoingClient::socket()).
    , m_stream(new QXmppOutgoingClient(this))
    , m_socket(m_stream->socket())
{
    // After QXmpp's own reader (connected in QXmppOutgoingClient's constructor,
    // so it runs first on every read): where the hand-over takes place.
    connect(m_socket, &QIODevice::readyRead, this, &QXmppTransport::afterQXmppRead);

    connect(m_stream, &QXmppLoggable::logMessage, this,
        [this](QXmppLogger::MessageType type, const QString &text) {
            // For people only (the traffic view and the debug log): nothing is decided here.
            if (type == QXmppLogger::SentMessage)
                Q_EMIT logged(LogKind::Sent, text);
            else if (type == QXmppLogger::ReceivedMessage)
                Q_EMIT logged(LogKind::Received, text);
            else
                Q_EMIT logged(LogKind::Debug, text);
        });
    connect(m_stream, &QXmppOutgoingClient::elementReceived, this,
        [this](const QDomElement &element, bool &handled) {
            m_qxmppParsed = true; // QXmpp parsed its whole buffer: nothing of it is left over
            if (handled || element.tagName() != QLatin1String("message"))
                return;
            // Consumed here: QXmppMessage would copy deep children recursively (stack overflow).
            handled = true;
            Q_EMIT stanzaBeforeBind(fromDom(element, xmpp::clientReaderLimits().keptDepth));
        });
    connect(m_stream, &QXmppOutgoingClient::sslErrors, this,
        [this](const QList<QSslError> &errors) { m_sslErrors += errors; });
    connect(m_stream, &QXmppOutgoingClient::connected, this, &QXmppTransport::onConnected);
    connect(m_stream, &QXmppOutgoingClient::errorOccurred, this,
        [this](const QString &text, const QXmppOutgoingClient::ConnectionError &details, QXmppClient::Error) {
            if (const auto *auth = std::get_if<QXmpp::AuthenticationError>(&details))
                reportAuthenticationError(
                    auth->type == QXmpp::AuthenticationError::MechanismMismatch, auth->text, text);
            else if (const auto *socketError = std::get_if<QAbstractSocket::SocketError>(&details))
                reportSocketError(*socketError, text);
            else if (std::holds_alternative<QXmpp::StreamError>(details))
                Q_EMIT errorOccurred(
                    SessionError::StreamError, tr("The server ended the stream: %1").arg(text));
            else
                Q_EMIT errorOccurred(SessionError::ProtocolError, text);
        });
    // Stanzas are small and answered one by one: Nagle's algorithm would hold them back.
    connect(m_socket, &QAbstractSocket::connected, this, [this] {
        m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        // The last line of defence: SASL never goes out on an unencrypted socket,
        // whatever path led there (QXmpp follows a see-other-host redirect over
        // plain TCP). CCS is TLS from the first byte; a socket connected without
        // TLS is ended before the server can even offer a mechanism.
        if (m_socket->mode() == QSslSocket::UnencryptedMode) {
            Q_EMIT refused(SessionError::TlsError,
                tr("Refused to send credentials to %1 over an unencrypted connection.").arg(m_settings.host));
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

QXmppTransport::~QXmppTransport()
{
    // No signal may reach the connection from a transport being torn down.
    if (m_stream)
        m_stream->disconnect(this);
    if (m_socket)
        m_socket->disconnect(this);
    if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort();
}

void QXmppTransport::reportAuthenticationError(
    bool mechanismMismatch, const QString &condition, const QString &description)
{
    if (mechanismMismatch) {
        // Not a credentials problem: the server does not offer PLAIN (CCS always does).
        Q_EMIT errorOccurred(SessionError::AuthenticationFailed,
            tr("%1:%2 does not offer SASL PLAIN, the only way CCS authenticates a sender ID (%3): "
               "check the host and port; it is not a CCS server. Nothing was sent.")
                .arg(m_settings.host)
                .arg(m_settings.port)
                .arg(description.left(200)));
    } else {
        Q_EMIT errorOccurred(SessionError::AuthenticationFailed,
            tr("The server refused sender ID %1 (%2): check the sender ID and the API key.")
                .arg(m_settings.senderId,
                    condition.isEmpty() ? QStringLiteral("not-authorized") : condition.left(200)));
    }
}

void QXmppTransport::reportSocketError(QAbstractSocket::SocketError error, const QString &description)
{
    const QString where = QStringLiteral("%1:%2").arg(m_settings.host).arg(m_settings.port);
    switch (error) {
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
                .arg(where, m_sslErrors.isEmpty() ? description : describeTlsErrors()));
        break;
    case QAbstractSocket::RemoteHostClosedError:
        Q_EMIT errorOccurred(SessionError::ConnectionLost, tr("%1 closed the connection.").arg(where));
        break;
    default:
        Q_EMIT errorOccurred(
            SessionError::ConnectionLost, tr("Connection to %1 lost: %2").arg(where, description));
        break;
    }
}

void QXmppTransport::connectToServer()
{
    if (!m_stream || !m_socket) {
        Q_EMIT refused(SessionError::ProtocolError, tr("This connection was already used: open a new one."));
        return;
    }
    QXmppConfiguration &config = m_stream->configuration();
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
    m_stream->connectToHost();
}

void QXmppTransport::disconnectFromServer()
{
    if (m_stream) {
        m_stream->disconnectFromHost();
    } else if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState) {
        // QXmpp has handed over: the stream's end is written here, as QXmpp would.
        m_socket->write(QByteArrayLiteral("</stream:stream>"));
        m_socket->flush();
        m_socket->disconnectFromHost();
    }
}

void QXmppTransport::onConnected()
{
    // QXmpp reports "connected" whatever the server skipped: with no SASL mechanism on
    // offer it starts a session unauthenticated, without a bind feature it does not bind.
    // Neither is CCS, and no message may go out on such a stream.
    const QString where = QStringLiteral("%1:%2").arg(m_settings.host).arg(m_settings.port);
    if (!m_socket || !m_socket->isEncrypted()) {
        Q_EMIT refused(SessionError::TlsError,
            tr("The connection to %1 is not encrypted; nothing was sent.").arg(where));
        return;
    }
    // Every SASL mechanism QXmpp implements but PLAIN is disabled (xmpp/QXmppPin_p.h), as
    // are non-SASL and SASL 2: authenticated means SASL PLAIN.
    if (!m_stream->isAuthenticated()) {
        Q_EMIT refused(SessionError::AuthenticationFailed,
            tr("%1 started a session without authenticating the sender ID (it offered no SASL "
               "mechanism): check the host and port; it is not a CCS server. Nothing was sent.")
                .arg(where));
        return;
    }
    // QXmpp replaces the configured user (SENDER_ID@domain, the PLAIN user name) with
    // the local part of the JID the server bound, which cannot hold an '@'. Still
    // holding one, no resource was bound.
    if (m_stream->configuration().user().contains(QLatin1Char('@'))) {
        Q_EMIT refused(SessionError::ProtocolError,
            tr("%1 did not offer resource binding after authentication, so no session was "
               "established: it is not a CCS server, or it is misconfigured. Nothing was sent.")
                .arg(where));
        return;
    }
    m_qxmppParsed = true; // the bind result was a complete parse of QXmpp's buffer
    Q_EMIT sessionReady();
}

void QXmppTransport::handOverReading()
{
    m_handOverWanted = true;
}

void QXmppTransport::afterQXmppRead()
{
    // Called on every read, after QXmpp's reader. QXmpp 1.10.3 (xmpp/QXmppPin_p.h)
    // parses its buffer all or nothing: when it handed on an element in this
    // read (or the session began in it), it holds nothing back.
    const bool parsed = std::exchange(m_qxmppParsed, false);
    if (!m_stream || !m_handOverWanted || !parsed)
        return;
    // QXmpp connected, authenticated and bound: its part is done. The socket
    // becomes the transport's, and QXmpp's stream object goes, its handlers
    // with it (safe here: this is the socket's signal, not QXmpp's stack).
    m_socket->setParent(this);
    QXmppOutgoingClient *stream = std::exchange(m_stream, nullptr);
    stream->disconnect(this);
    delete stream;
    connect(m_socket, &QAbstractSocket::errorOccurred, this,
        [this](QAbstractSocket::SocketError error) { reportSocketError(error, m_socket->errorString()); });
    qCDebug(lcCcsXmpp) << "connection" << m_id << "QXmpp handed over the stream after bind";
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
