#include "CcsConnection.h"

#include "ClientLog.h"
#include "protocol/Messages.h"
#include "xmpp/QXmppPin.h"
#include "xmpp/StanzaWriter.h"

#include <QDomElement>
#include <QDomNamedNodeMap>
#include <QRegularExpression>
#include <QSslCipher>
#include <QSslSocket>
#include <QXmppAuthenticationError.h>
#include <QXmppClient.h>
#include <QXmppClientExtension.h>
#include <QXmppConfiguration.h>
#include <QXmppError.h>
#include <QXmppLogger.h>
#include <QXmppStreamError.h>

#include <algorithm>

Q_LOGGING_CATEGORY(lcCcsXmpp, "ccs.xmpp")

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

// The <gcm> child of a <message>, with or without a prefix (CCS writes
// <data:gcm xmlns:data="google:mobile:data"> for control messages).
const xmpp::XmlElement *gcmChild(const xmpp::XmlElement &message)
{
    return message.child(u"gcm", QString::fromLatin1(kGcmNamespace));
}

} // namespace

// Takes every <message> QXmpp reads before bind; nothing else of XMPP is used.
// After bind the stream is read by xmpp::StanzaReader (takeOverReading()).
class GcmStanzaExtension : public QXmppClientExtension
{
public:
    explicit GcmStanzaExtension(CcsConnection *connection)
        : m_connection(connection)
    { }

    bool handleStanza(const QDomElement &stanza) override
    {
        if (stanza.tagName() != QLatin1String("message"))
            return false;
        // consumed: QXmppMessage would copy deep children recursively (stack overflow)
        m_connection->dispatchStanza(fromDom(stanza, xmpp::clientReaderLimits().keptDepth), false);
        return true;
    }

private:
    CcsConnection *m_connection;
};

CcsConnection::CcsConnection(int id, const ConnectionSettings &settings, QObject *parent)
    : QObject(parent)
    , m_id(id)
    , m_settings(settings)
    , m_client(std::make_unique<QXmppClient>(QXmppClient::NoExtensions))
{
    m_client->setLogger(nullptr); // our own handler below; no global logger
    m_client->addExtension(new GcmStanzaExtension(this));
    // The QSslSocket is QXmpp's; we need it to check encryption before SASL and to write stanzas.
    m_socket = m_client->findChild<QSslSocket *>();

    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        abort(SessionError::Timeout,
            tr("No connection to %1:%2 within %3 s (TCP, TLS and authentication).")
                .arg(m_settings.host)
                .arg(m_settings.port)
                .arg(m_settings.connectTimeoutMs / 1000.0));
    });

    connect(m_client.get(), &QXmppLoggable::logMessage, this,
        [this](QXmppLogger::MessageType type, const QString &text) { onLogMessage(int(type), text); });
    connect(m_client.get(), &QXmppClient::sslErrors, this,
        [this](const QList<QSslError> &errors) { m_sslErrors += errors; });
    connect(m_client.get(), &QXmppClient::connected, this, &CcsConnection::onConnected);
    connect(m_client.get(), &QXmppClient::errorOccurred, this, [this](const QXmppError &error) {
        if (const auto auth = error.value<QXmpp::AuthenticationError>();
            auth && auth->type == QXmpp::AuthenticationError::MechanismMismatch) {
            // Not a credentials problem: the server does not offer PLAIN (CCS always does).
            onXmppError(SessionError::AuthenticationFailed,
                tr("%1:%2 does not offer SASL PLAIN, the only way CCS authenticates a sender ID (%3): "
                   "check the host and port; it is not a CCS server. Nothing was sent.")
                    .arg(m_settings.host)
                    .arg(m_settings.port)
                    .arg(error.description.left(200)));
        } else if (auth) {
            onXmppError(SessionError::AuthenticationFailed,
                tr("The server refused sender ID %1 (%2): check the sender ID and the API key.")
                    .arg(m_settings.senderId,
                        auth->text.isEmpty() ? QStringLiteral("not-authorized") : auth->text.left(200)));
        } else if (const auto socketError = error.value<QAbstractSocket::SocketError>()) {
            const QString where = QStringLiteral("%1:%2").arg(m_settings.host).arg(m_settings.port);
            switch (*socketError) {
            case QAbstractSocket::ConnectionRefusedError:
                onXmppError(SessionError::ConnectionRefused, tr("%1 refused the connection.").arg(where));
                break;
            case QAbstractSocket::HostNotFoundError:
                onXmppError(SessionError::HostNotFound, tr("Host %1 was not found.").arg(m_settings.host));
                break;
            case QAbstractSocket::SocketTimeoutError:
                onXmppError(SessionError::Timeout, tr("%1 did not answer in time.").arg(where));
                break;
            case QAbstractSocket::SslHandshakeFailedError:
            case QAbstractSocket::SslInternalError:
            case QAbstractSocket::SslInvalidUserDataError:
                onXmppError(SessionError::TlsError,
                    tr("TLS with %1 failed: %2")
                        .arg(where, m_sslErrors.isEmpty() ? error.description : describeTlsErrors()));
                break;
            case QAbstractSocket::RemoteHostClosedError:
                onXmppError(SessionError::ConnectionLost, tr("%1 closed the connection.").arg(where));
                break;
            default:
                onXmppError(SessionError::ConnectionLost,
                    tr("Connection to %1 lost: %2").arg(where, error.description));
                break;
            }
        } else if (error.holdsType<QXmpp::StreamError>()) {
            onXmppError(
                SessionError::StreamError, tr("The server ended the stream: %1").arg(error.description));
        } else {
            onXmppError(SessionError::ProtocolError, error.description);
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
                abort(SessionError::TlsError,
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
                scheduleFinish();
        });
    }
}

CcsConnection::~CcsConnection()
{
    // No signal may reach the session from a connection being torn down.
    m_client->disconnect(this);
    if (m_socket)
        m_socket->disconnect(this);
    if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort();
}

void CcsConnection::open()
{
    if (!m_socket) {
        onXmppError(SessionError::ProtocolError, tr("QXmpp has no socket: cannot connect."));
        scheduleFinish();
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
    m_connectTimer.start(std::max(1000, m_settings.connectTimeoutMs));
    qCDebug(lcCcsXmpp) << "connection" << m_id << "connecting to" << m_settings.host << m_settings.port;
    m_client->connectToServer(config);
}

void CcsConnection::close()
{
    m_closing = true;
    m_connectTimer.stop();
    if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState) {
        m_client->disconnectFromServer();
        // A server that never lets go does not hold the close forever.
        QTimer::singleShot(3000, this, [this] {
            if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState)
                m_socket->abort();
            scheduleFinish();
        });
    } else {
        scheduleFinish();
    }
}

void CcsConnection::abort(SessionError error, const QString &message)
{
    m_aborted = true;
    onXmppError(error, message);
    m_connectTimer.stop();
    if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort();
    scheduleFinish();
}

bool CcsConnection::isEncrypted() const
{
    return m_socket && m_socket->isEncrypted();
}

bool CcsConnection::writeGcm(const QString &stanzaId, const QByteArray &json)
{
    if (!m_authenticated || m_finished || !m_socket || !m_socket->isEncrypted())
        return false;
    const QByteArray stanza = xmpp::writer::gcmMessage(stanzaId, json);
    if (m_traffic)
        Q_EMIT trafficLogged(TrafficDirection::Out, QString::fromUtf8(stanza));
    return m_socket->write(stanza) == stanza.size();
}

void CcsConnection::onLogMessage(int type, const QString &text)
{
    // For people only (the traffic view and the debug log): nothing is decided here.
    if (type == QXmppLogger::SentMessage) {
        if (m_traffic)
            Q_EMIT trafficLogged(TrafficDirection::Out, redact(text));
    } else if (type == QXmppLogger::ReceivedMessage) {
        if (m_traffic && !text.isEmpty())
            Q_EMIT trafficLogged(TrafficDirection::In, redact(text));
    } else if (type == QXmppLogger::WarningMessage || type == QXmppLogger::InformationMessage
        || type == QXmppLogger::DebugMessage) {
        qCDebug(lcCcsXmpp) << "connection" << m_id << "QXmpp:" << redact(text);
    }
}

void CcsConnection::onXmppError(SessionError error, const QString &message)
{
    // The first error is the cause; what follows (socket closed...) is a consequence.
    if (m_error != SessionError::None)
        return;
    m_error = error;
    m_errorMessage = redact(message);
    qCInfo(lcCcsXmpp) << "connection" << m_id << sessionErrorName(error) << m_errorMessage;
}

void CcsConnection::scheduleFinish()
{
    if (m_finishScheduled)
        return;
    m_finishScheduled = true;
    // Deferred: QXmpp reports the error and the socket state in either order.
    QTimer::singleShot(0, this, &CcsConnection::finish);
}

void CcsConnection::finish()
{
    if (m_finished)
        return;
    if (!m_closing && m_socket && m_socket->state() != QAbstractSocket::UnconnectedState) {
        // QXmpp reconnected the same socket meanwhile (a see-other-host redirect): not the end.
        m_finishScheduled = false;
        return;
    }
    // Stanzas already received (a slice not yet read, or the last bytes before the
    // close) are answers the session must see before it hears the connection is gone.
    if (m_reader && !m_aborted)
        readIncoming(false);
    if (m_finished)
        return;
    m_finished = true;
    m_authenticated = false;
    m_connectTimer.stop();
    SessionError error = m_error;
    QString message = m_errorMessage;
    if (error == SessionError::None && !m_closing) {
        error = SessionError::ConnectionLost;
        message = tr("%1:%2 closed the connection.").arg(m_settings.host).arg(m_settings.port);
    }
    if (m_closing && m_error == SessionError::ConnectionLost) {
        error = SessionError::None;
        message.clear();
    }
    Q_EMIT finished(error, message, m_wasAuthenticated);
}

QString CcsConnection::redact(QString xml) const
{
    static const QRegularExpression saslPayload(
        QStringLiteral("(<(auth|response)\\b[^>]*>)[^<]*(</(auth|response)>)"));
    xml.replace(saslPayload, QStringLiteral("\\1[redacted]\\3"));
    if (!m_settings.apiKey.isEmpty()) {
        xml.replace(m_settings.apiKey, QStringLiteral("[redacted]"));
        const QByteArray plain = QByteArray(1, '\0')
            + (m_settings.senderId + QLatin1Char('@') + m_settings.domain).toUtf8() + QByteArray(1, '\0')
            + m_settings.apiKey.toUtf8();
        xml.replace(QString::fromLatin1(plain.toBase64()), QStringLiteral("[redacted]"));
    }
    return xml;
}

void CcsConnection::onConnected()
{
    // QXmpp reports "connected" whatever the server skipped: with no SASL mechanism on
    // offer it starts a session unauthenticated, without a bind feature it does not bind.
    // Neither is CCS, and no message may go out on such a stream.
    const QString where = QStringLiteral("%1:%2").arg(m_settings.host).arg(m_settings.port);
    if (!isEncrypted()) {
        abort(SessionError::TlsError,
            tr("The connection to %1 is not encrypted; nothing was sent.").arg(where));
        return;
    }
    // Every SASL mechanism QXmpp implements but PLAIN is disabled (xmpp::QXmppPin), as
    // are non-SASL and SASL 2: authenticated means SASL PLAIN.
    if (!m_client->isAuthenticated()) {
        abort(SessionError::AuthenticationFailed,
            tr("%1 started a session without authenticating the sender ID (it offered no SASL "
               "mechanism): check the host and port; it is not a CCS server. Nothing was sent.")
                .arg(where));
        return;
    }
    // QXmpp replaces the configured user (SENDER_ID@domain, the PLAIN user name) with
    // the local part of the JID the server bound, which cannot hold an '@'. Still
    // holding one, no resource was bound.
    if (m_client->configuration().user().contains(QLatin1Char('@'))) {
        abort(SessionError::ProtocolError,
            tr("%1 did not offer resource binding after authentication, so no session was "
               "established: it is not a CCS server, or it is misconfigured. Nothing was sent.")
                .arg(where));
        return;
    }
    m_connectTimer.stop();
    m_authenticated = true;
    m_wasAuthenticated = true;
    qCDebug(lcCcsXmpp) << "connection" << m_id << "authenticated";
    takeOverReading();
    Q_EMIT authenticated();
}

void CcsConnection::takeOverReading()
{
    if (!m_socket || m_reader)
        return;
    // QXmpp has handed over everything it read (its buffer is empty once a parse
    // succeeded, and the bind result was such a parse); what follows is ours.
    QObject::disconnect(m_socket, &QIODevice::readyRead, nullptr, nullptr);
    connect(m_socket, &QIODevice::readyRead, this, &CcsConnection::readStanzas);
    m_reader = std::make_unique<xmpp::StanzaReader>(
        xmpp::clientReaderLimits(), static_cast<xmpp::StanzaReader::Handler *>(this));
    m_reader->assumeStreamOpen(QByteArrayLiteral("<stream:stream xmlns='jabber:client' "
                                                 "xmlns:stream='http://etherx.jabber.org/streams'>"));
    m_reader->setPlainEnabled(true);
    if (m_socket->bytesAvailable() > 0)
        QTimer::singleShot(0, this, &CcsConnection::readStanzas);
}

void CcsConnection::readStanzas()
{
    readIncoming(true);
}

void CcsConnection::readIncoming(bool sliced)
{
    if (!m_socket || m_finished || m_aborted || !m_reader)
        return;
    const QByteArray data = m_socket->readAll();
    if (data.isEmpty() && !m_reader->hasHeldBytes())
        return;
    if (m_traffic && !data.isEmpty()) {
        // The log is for people: a flood is shown by its start and its size.
        constexpr qsizetype shown = 64 * 1024;
        Q_EMIT trafficLogged(TrafficDirection::In,
            data.size() <= shown ? QString::fromUtf8(data)
                                 : QString::fromUtf8(data.first(shown))
                    + tr(" [... %1 more bytes not shown]").arg(data.size() - shown));
    }
    m_sliced = sliced;
    m_handledInSlice = 0;
    m_reader->feed(data);
}

bool CcsConnection::plainGcmRead(const QString &id, const QString &json)
{
    Q_UNUSED(id)
    Q_EMIT gcmReceived(json);
    if (m_sliced && ++m_handledInSlice >= kStanzasPerSlice) {
        // Back to the event loop, which hands the server what the ACKs just read
        // let the session write; the rest of this read follows at once.
        QMetaObject::invokeMethod(this, &CcsConnection::readStanzas, Qt::QueuedConnection);
        return false;
    }
    return true;
}

bool CcsConnection::keepReading() const
{
    return m_socket && !m_finished && !m_aborted;
}

void CcsConnection::stanzaRead(xmpp::XmlElement &&stanza, bool oversized)
{
    dispatchStanza(stanza, oversized);
}

void CcsConnection::streamClosed()
{
    // </stream:stream>: the server ends the stream
    qCDebug(lcCcsXmpp) << "connection" << m_id << "stream closed by the server";
    m_socket->write(xmpp::writer::streamClose());
    m_socket->disconnectFromHost();
}

void CcsConnection::readFailed(xmpp::ReadError error, const QString &detail)
{
    const xmpp::ReaderLimits &limits = m_reader->limits();
    switch (error) {
    case xmpp::ReadError::NotUtf8:
        abort(SessionError::ProtocolError,
            tr("The server sent bytes that are not UTF-8 (at byte %1 after bind); the stream cannot be "
               "trusted, reconnecting.")
                .arg(detail));
        return;
    case xmpp::ReadError::StreamInsideStream:
        // A restart is legal only after SASL; mid-session it leaves every
        // pending message unanswerable: start over on a new connection.
        abort(SessionError::ProtocolError,
            tr("The server restarted the XML stream in the middle of the session; "
               "reconnecting to send the pending messages again."));
        return;
    case xmpp::ReadError::TooDeep:
        abort(SessionError::ProtocolError,
            tr("The server nested XML elements more than %1 deep; closing the connection.")
                .arg(limits.maxDepth + 1));
        return;
    case xmpp::ReadError::MarkupTooLong:
        abort(SessionError::ProtocolError,
            tr("The server sent an XML tag or declaration longer than %1 KiB; closing the connection.")
                .arg(limits.maxMarkupBytes / 1024));
        return;
    default:
        abort(SessionError::ProtocolError,
            tr("The server sent XML that cannot be read (%1, line %2 column %3); closing the connection.")
                .arg(detail.left(200))
                .arg(m_reader->lineNumber())
                .arg(m_reader->columnNumber()));
        return;
    }
}

void CcsConnection::dispatchStanza(const xmpp::XmlElement &s, bool oversized)
{
    const QString id = s.attribute(QLatin1String("id"));
    if (s.name == QLatin1String("error") && s.ns == QLatin1String(xmpp::kStreamsNs)) {
        QString condition, text;
        for (const xmpp::XmlElement &child : s.children) {
            if (child.name == QLatin1String("text"))
                text = child.text.left(1024).trimmed();
            else
                condition = child.name.left(80);
        }
        abort(SessionError::StreamError,
            tr("The server ended the stream: %1%2")
                .arg(condition.isEmpty() ? QStringLiteral("undefined-condition") : condition,
                    text.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(text.left(300))));
        return;
    }
    if (s.name != QLatin1String("message")) {
        qCInfo(lcCcsXmpp) << "connection" << m_id << "ignored a" << s.name.left(40) << "stanza";
        return; // CCS sends nothing else after bind; an iq or presence is ignored
    }
    if (oversized) {
        qCWarning(lcCcsXmpp) << "connection" << m_id << "dropped message" << id.left(80)
                             << "whose <gcm> payload is longer than" << xmpp::clientReaderLimits().maxRunChars
                             << "characters";
        return;
    }
    const xmpp::XmlElement *gcm = gcmChild(s);
    if (s.attribute(QLatin1String("type")) == QLatin1String("error")) {
        StanzaError error;
        error.stanzaId = id;
        error.gcmPayload = gcm ? gcm->text.trimmed() : QString();
        for (const xmpp::XmlElement &child : s.children) {
            if (child.name != QLatin1String("error"))
                continue;
            error.code = child.attribute(QLatin1String("code")).toInt();
            if (child.attributes.hasAttribute(QLatin1String("type")))
                error.type = child.attribute(QLatin1String("type")).left(40);
            for (const xmpp::XmlElement &detail : child.children) {
                if (detail.name == QLatin1String("text"))
                    error.text = detail.text.left(1024);
                else
                    error.condition = detail.name.left(80);
            }
        }
        error.text = error.text.trimmed();
        if (error.code == 0)
            error.code = 400;
        if (error.text.isEmpty())
            error.text = QStringLiteral("stanza error: %1").arg(error.condition);
        Q_EMIT stanzaErrorReceived(error);
        return;
    }
    if (gcm)
        Q_EMIT gcmReceived(gcm->text);
    else
        qCInfo(lcCcsXmpp) << "connection" << m_id << "ignored message" << id.left(80) << "without <gcm>";
}

QString CcsConnection::describeTlsErrors() const
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
