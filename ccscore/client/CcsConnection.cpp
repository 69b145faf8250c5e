#include "CcsConnection.h"

#include "ClientLog.h"
#include "protocol/Redaction.h"
#include "protocol/Stanza.h"

#include <QDomElement>
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

// The <gcm> child of a <message>, with or without a prefix (CCS writes
// <data:gcm xmlns:data="google:mobile:data"> for control messages).
QDomElement gcmChild(const QDomElement &message)
{
    for (QDomElement child = message.firstChildElement(); !child.isNull();
         child = child.nextSiblingElement()) {
        if (child.namespaceURI() == QLatin1String(kGcmNamespace)
            && (child.localName() == QLatin1String("gcm") || child.tagName().endsWith(QLatin1String("gcm"))))
            return child;
    }
    return {};
}

StanzaError parseStanzaError(const QDomElement &message, const QDomElement &gcm)
{
    StanzaError error;
    error.stanzaId = message.attribute(QStringLiteral("id"));
    error.gcmPayload = gcm.isNull() ? QString() : gcm.text().trimmed();
    const QDomElement errorElement = message.firstChildElement(QStringLiteral("error"));
    if (!errorElement.isNull()) {
        error.code = errorElement.attribute(QStringLiteral("code"), QStringLiteral("400")).toInt();
        error.type = errorElement.attribute(QStringLiteral("type"), error.type);
        for (QDomElement child = errorElement.firstChildElement(); !child.isNull();
             child = child.nextSiblingElement()) {
            const QString name = child.localName().isEmpty() ? child.tagName() : child.localName();
            if (name == QLatin1String("text"))
                error.text = child.text().trimmed();
            else
                error.condition = name;
        }
    }
    if (error.text.isEmpty())
        error.text = QStringLiteral("stanza error: %1").arg(error.condition);
    return error;
}

} // namespace

// Takes every <message> carrying a <gcm> element; nothing else of XMPP is used.
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
        const QDomElement gcm = gcmChild(stanza);
        if (stanza.attribute(QStringLiteral("type")) == QLatin1String("error")) {
            Q_EMIT m_connection->stanzaErrorReceived(parseStanzaError(stanza, gcm));
            return true;
        }
        if (gcm.isNull())
            return true; // consumed: QXmppMessage would copy deep children recursively (stack overflow)
        Q_EMIT m_connection->gcmReceived(gcm.text());
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
        connect(m_socket, &QAbstractSocket::connected, this,
            [this] { m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); });
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
    config.setDisabledSaslMechanisms(
        {QStringLiteral("SCRAM-SHA-1"), QStringLiteral("SCRAM-SHA-256"), QStringLiteral("SCRAM-SHA-512"),
            QStringLiteral("SCRAM-SHA3-512"), QStringLiteral("DIGEST-MD5"), QStringLiteral("ANONYMOUS"),
            QStringLiteral("X-FACEBOOK-PLATFORM"), QStringLiteral("X-MESSENGER-OAUTH2"),
            QStringLiteral("X-OAUTH2"), QStringLiteral("HT-SHA-256-NONE"), QStringLiteral("HT-SHA-256-UNIQ"),
            QStringLiteral("HT-SHA-256-ENDP"), QStringLiteral("HT-SHA-256-EXPR")});
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
    const QByteArray stanza = stanza::gcmMessage(stanzaId, json);
    if (m_traffic)
        Q_EMIT trafficLogged(TrafficDirection::Out, QString::fromUtf8(stanza));
    return m_socket->write(stanza) == stanza.size();
}

void CcsConnection::onLogMessage(int type, const QString &text)
{
    if (type == QXmppLogger::SentMessage) {
        // The last line of defence: SASL never goes out on an unencrypted socket,
        // whatever path (a redirect, a STARTTLS downgrade) led there. The log
        // signal is emitted before the bytes are written, so aborting here stops them.
        if (!isEncrypted()
            && (text.contains(QLatin1String("<auth")) || text.contains(QLatin1String("<response")))) {
            abort(SessionError::TlsError,
                tr("Refused to send credentials to %1 over an unencrypted connection.").arg(m_settings.host));
            return;
        }
        if (!m_authenticated) {
            static const QRegularExpression saslAuth(
                QStringLiteral("<auth\\b[^>]*\\bmechanism=([\"'])([^\"']*)\\1"));
            if (const auto match = saslAuth.match(text); match.hasMatch()) {
                if (match.captured(2) != QLatin1String("PLAIN")) {
                    abort(SessionError::AuthenticationFailed,
                        tr("Refused to authenticate with %1 by SASL %2: CCS uses SASL PLAIN only.")
                            .arg(m_settings.host, match.captured(2).left(40)));
                    return;
                }
                m_saslPlainSent = true;
            }
            if (m_saslPlainSent && text.contains(QLatin1String("urn:ietf:params:xml:ns:xmpp-bind")))
                m_bindRequested = true;
        }
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
    if (m_readingOurselves && !m_aborted)
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
    return redactSecrets(std::move(xml), {m_settings.apiKey, m_settings.senderId, m_settings.domain});
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
    if (!m_client->isAuthenticated() || !m_saslPlainSent) {
        abort(SessionError::AuthenticationFailed,
            tr("%1 started a session without authenticating the sender ID (it offered no SASL "
               "mechanism): check the host and port; it is not a CCS server. Nothing was sent.")
                .arg(where));
        return;
    }
    if (!m_bindRequested) {
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
    if (!m_socket || m_readingOurselves)
        return;
    // QXmpp has handed over everything it read (its buffer is empty once a parse
    // succeeded, and the bind result was such a parse); what follows is ours.
    QObject::disconnect(m_socket, &QIODevice::readyRead, nullptr, nullptr);
    connect(m_socket, &QIODevice::readyRead, this, &CcsConnection::readStanzas);
    m_readingOurselves = true;
    m_reader.clear();
    m_plainPending.clear();
    m_charsFed = 0;
    m_depth = 0;
    feedReader(QByteArrayLiteral("<stream:stream xmlns='jabber:client' "
                                 "xmlns:stream='http://etherx.jabber.org/streams'>"));
    parseAvailable(); // the stream element: depth 1, the reader idle
    m_stanzaEndAt = m_reader.characterOffset();
    m_utf8.reset();
    m_guard.reset();
    m_truncated = false;
    if (m_socket->bytesAvailable() > 0)
        QTimer::singleShot(0, this, &CcsConnection::readStanzas);
}

void CcsConnection::readStanzas()
{
    readIncoming(true);
}

void CcsConnection::readIncoming(bool sliced)
{
    if (!m_socket || m_finished || m_aborted)
        return;
    const QByteArray data = m_socket->readAll();
    if (data.isEmpty() && m_plainPending.isEmpty())
        return;
    if (m_traffic && !data.isEmpty()) {
        // The log is for people: a flood is shown by its start and its size.
        constexpr qsizetype shown = 64 * 1024;
        Q_EMIT trafficLogged(TrafficDirection::In,
            data.size() <= shown ? QString::fromUtf8(data)
                                 : QString::fromUtf8(data.first(shown))
                    + tr(" [... %1 more bytes not shown]").arg(data.size() - shown));
    }
    if (!m_utf8.feed(data)) {
        abort(SessionError::ProtocolError,
            tr("The server sent bytes that are not UTF-8 (at byte %1 after bind); the stream cannot be "
               "trusted, reconnecting.")
                .arg(m_utf8.errorOffset()));
        return;
    }
    qsizetype pos = 0;
    // The fast path: whole stanzas of the plain form CCS sends, read without the
    // XML reader while it has nothing buffered. The start of one that the read
    // cut off waits for the next read (up to kMaxPlainPending bytes); anything
    // else goes to the reader.
    QByteArray joined;
    if (!m_plainPending.isEmpty()) {
        joined = m_plainPending + data;
        m_plainPending.clear();
    }
    const QByteArray &bytes = joined.isEmpty() ? data : joined;
    int handled = 0;
    while (pos < bytes.size() && readerIdle()) {
        const char c = bytes[pos];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            ++pos; // white space between stanzas means nothing
            continue;
        }
        const qsizetype taken = stanza::readPlainGcmMessage(
            QByteArrayView(bytes).sliced(pos), &m_stanza.id, &m_stanza.gcmText, kMaxGcmChars);
        if (taken < 0 && bytes.size() - pos <= kMaxPlainPending) {
            m_plainPending = bytes.sliced(pos);
            return;
        }
        if (taken <= 0)
            break;
        if (sliced && ++handled > kStanzasPerSlice) {
            // Back to the event loop, which hands the server what the ACKs just read
            // let the session write; the rest of this read follows at once.
            m_plainPending = bytes.sliced(pos);
            QMetaObject::invokeMethod(this, &CcsConnection::readStanzas, Qt::QueuedConnection);
            return;
        }
        pos += taken;
        static const QString message = QStringLiteral("message");
        m_stanza.name = message;
        m_stanza.type.clear();
        m_stanza.hasGcm = true;
        m_stanza.isError = m_stanza.oversized = false;
        m_stanza.error = StanzaError();
        dispatchStanza();
        if (m_finished || m_aborted || !m_socket)
            return;
    }
    while (pos < bytes.size()) {
        QByteArray forReader;
        const XmlSizeGuard::Result result = m_guard.process(bytes, &pos, &forReader);
        feedReader(forReader);
        if (!parseAvailable())
            return;
        if (result == XmlSizeGuard::Result::MarkupTooLong) {
            abort(SessionError::ProtocolError,
                tr("The server sent an XML tag or declaration longer than %1 KiB; closing the connection.")
                    .arg(kMaxMarkupBytes / 1024));
            return;
        }
        if (result == XmlSizeGuard::Result::CutStarted)
            m_truncated = true; // what the reader holds now is all it gets of that run
    }
}

void CcsConnection::feedReader(const QByteArray &bytes)
{
    // The reader counts UTF-16 units: one per UTF-8 sequence, two for four-byte ones.
    qint64 units = 0;
    for (const char b : bytes) {
        const auto c = static_cast<unsigned char>(b);
        units += (c & 0xC0) != 0x80;
        units += c >= 0xF0;
    }
    m_charsFed += units;
    m_reader.addData(bytes);
}

// Reads every complete token; false once the connection is being ended.
bool CcsConnection::parseAvailable()
{
    static const QString gcmNamespace = QString::fromLatin1(kGcmNamespace);
    static const QString streamNamespace = QStringLiteral("http://etherx.jabber.org/streams");
    while (!m_reader.atEnd()) {
        const QXmlStreamReader::TokenType token = m_reader.readNext();
        if (token == QXmlStreamReader::Invalid)
            break;
        switch (token) {
        case QXmlStreamReader::StartElement:
            if (++m_depth > kMaxDepth) {
                abort(SessionError::ProtocolError,
                    tr("The server nested XML elements more than %1 deep; closing the connection.")
                        .arg(kMaxDepth));
                return false;
            }
            if (m_depth == 2) {
                if (m_reader.namespaceUri() == streamNamespace
                    && m_reader.name() == QLatin1String("stream")) {
                    // A restart is legal only after SASL; mid-session it leaves every
                    // pending message unanswerable: start over on a new connection.
                    abort(SessionError::ProtocolError,
                        tr("The server restarted the XML stream in the middle of the session; "
                           "reconnecting to send the pending messages again."));
                    return false;
                }
                m_stanza = IncomingStanza();
                m_stanza.name = m_reader.name().toString();
                const QXmlStreamAttributes attributes = m_reader.attributes();
                m_stanza.id = attributes.value(QLatin1String("id")).toString();
                m_stanza.type = attributes.value(QLatin1String("type")).toString();
                if (m_reader.namespaceUri() == streamNamespace && m_stanza.name == QLatin1String("error"))
                    m_stanza.isError = true; // a stream error
            } else if (m_depth == 3) {
                if (m_reader.name() == QLatin1String("gcm") && m_reader.namespaceUri() == gcmNamespace) {
                    m_inGcm = true;
                    m_stanza.hasGcm = true;
                } else if (m_reader.name() == QLatin1String("error")) {
                    m_inError = true;
                    const QXmlStreamAttributes attributes = m_reader.attributes();
                    m_stanza.error.code = attributes.value(QLatin1String("code")).toInt();
                    if (attributes.hasAttribute(QLatin1String("type")))
                        m_stanza.error.type = attributes.value(QLatin1String("type")).toString().left(40);
                } else if (m_stanza.isError && m_reader.name() != QLatin1String("text")) {
                    m_stanza.error.condition = m_reader.name().left(80).toString();
                } else if (m_stanza.isError) {
                    m_inErrorText = true;
                }
            } else if (m_depth == 4 && m_inError) {
                if (m_reader.name() == QLatin1String("text"))
                    m_inErrorText = true;
                else
                    m_stanza.error.condition = m_reader.name().left(80).toString();
            }
            break;
        case QXmlStreamReader::Characters:
            if (m_inGcm && !m_stanza.oversized) {
                if (m_stanza.gcmText.size() + m_reader.text().size() > kMaxGcmChars) {
                    m_stanza.oversized = true; // CCS payloads are a few KB: drop it, keep nothing
                    m_stanza.gcmText = QString();
                } else {
                    m_stanza.gcmText += m_reader.text();
                }
            } else if (m_inErrorText && m_stanza.error.text.size() < 1024) {
                m_stanza.error.text += m_reader.text().left(1024);
            }
            break;
        case QXmlStreamReader::EndElement:
            if (m_depth == 2) {
                m_stanzaEndAt = m_reader.characterOffset();
                dispatchStanza();
            } else if (m_depth == 3)
                m_inGcm = m_inError = m_inErrorText = false;
            else if (m_depth == 4)
                m_inErrorText = false;
            --m_depth;
            if (m_depth == 0) { // </stream:stream>: the server ends the stream
                qCDebug(lcCcsXmpp) << "connection" << m_id << "stream closed by the server";
                m_socket->write(QByteArrayLiteral("</stream:stream>"));
                m_socket->disconnectFromHost();
                return false;
            }
            break;
        default:
            break;
        }
        if (m_finished || m_aborted)
            return false;
        if (m_truncated) {
            // The token that completes the cut run: a text node or CDATA section (Characters)
            // or a start tag whose attribute value was cut. Its stanza is not what was sent.
            if ((token == QXmlStreamReader::Characters || token == QXmlStreamReader::StartElement)
                && m_depth >= 2) {
                m_stanza.oversized = true;
                m_stanza.gcmText = QString();
            }
            m_truncated = false;
        }
    }
    if (m_reader.hasError() && m_reader.error() != QXmlStreamReader::PrematureEndOfDocumentError) {
        abort(SessionError::ProtocolError,
            tr("The server sent XML that cannot be read (%1, line %2 column %3); closing the connection.")
                .arg(m_reader.errorString().left(200))
                .arg(m_reader.lineNumber())
                .arg(m_reader.columnNumber()));
        return false;
    }
    return true;
}

void CcsConnection::dispatchStanza()
{
    IncomingStanza &s = m_stanza;
    if (s.isError) {
        abort(SessionError::StreamError,
            tr("The server ended the stream: %1%2")
                .arg(s.error.condition.isEmpty() ? QStringLiteral("undefined-condition") : s.error.condition,
                    s.error.text.trimmed().isEmpty()
                        ? QString()
                        : QStringLiteral(" (%1)").arg(s.error.text.trimmed().left(300))));
        return;
    }
    if (s.name != QLatin1String("message")) {
        qCInfo(lcCcsXmpp) << "connection" << m_id << "ignored a" << s.name.left(40) << "stanza";
        return; // CCS sends nothing else after bind; an iq or presence is ignored
    }
    if (s.oversized) {
        qCWarning(lcCcsXmpp) << "connection" << m_id << "dropped message" << s.id.left(80)
                             << "whose <gcm> payload is longer than" << kMaxGcmChars << "characters";
        return;
    }
    if (s.type == QLatin1String("error")) {
        StanzaError error = s.error;
        error.stanzaId = s.id;
        error.gcmPayload = s.gcmText.trimmed();
        error.text = error.text.trimmed();
        if (error.code == 0)
            error.code = 400;
        if (error.text.isEmpty())
            error.text = QStringLiteral("stanza error: %1").arg(error.condition);
        Q_EMIT stanzaErrorReceived(error);
        return;
    }
    if (s.hasGcm)
        Q_EMIT gcmReceived(s.gcmText);
    else
        qCInfo(lcCcsXmpp) << "connection" << m_id << "ignored message" << s.id.left(80) << "without <gcm>";
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
