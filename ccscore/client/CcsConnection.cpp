#include "CcsConnection_p.h"
#include "ClientLog_p.h"
#include "QXmppTransport_p.h"
#include "protocol/Messages.h"
#include "protocol/Redaction.h"
#include "xmpp/StanzaWriter_p.h"

#include <QSslSocket>

#include <algorithm>

Q_LOGGING_CATEGORY(lcCcsXmpp, "ccs.xmpp")

namespace ccs {

namespace {

// The <gcm> child of a <message>, with or without a prefix (CCS writes
// <data:gcm xmlns:data="google:mobile:data"> for control messages).
const xmpp::XmlElement *gcmChild(const xmpp::XmlElement &message)
{
    return message.child(u"gcm", QString::fromLatin1(kGcmNamespace));
}

} // namespace

CcsConnection::CcsConnection(int id, const ConnectionSettings &settings, QObject *parent)
    : QObject(parent)
    , m_id(id)
    , m_settings(settings)
    , m_transport(std::make_unique<QXmppTransport>(id, settings))
{
    m_socket = m_transport->socket();

    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        abort(SessionError::Timeout,
            tr("No connection to %1:%2 within %3 s (TCP, TLS and authentication).")
                .arg(m_settings.host)
                .arg(m_settings.port)
                .arg(m_settings.connectTimeoutMs / 1000.0));
    });

    connect(m_transport.get(), &QXmppTransport::logged, this,
        [this](QXmppTransport::LogKind kind, const QString &text) { onLogMessage(int(kind), text); });
    connect(m_transport.get(), &QXmppTransport::errorOccurred, this, &CcsConnection::onXmppError);
    connect(m_transport.get(), &QXmppTransport::refused, this, &CcsConnection::abort);
    connect(m_transport.get(), &QXmppTransport::encrypted, this, &CcsConnection::encrypted);
    connect(m_transport.get(), &QXmppTransport::socketClosed, this, &CcsConnection::scheduleFinish);
    connect(m_transport.get(), &QXmppTransport::sessionReady, this, &CcsConnection::onConnected);
    connect(m_transport.get(), &QXmppTransport::stanzaBeforeBind, this,
        [this](const xmpp::XmlElement &stanza) { dispatchStanza(stanza, false); });
}

CcsConnection::~CcsConnection()
{
    // No signal may reach the session from a connection being torn down.
    m_transport->disconnect(this);
    if (m_socket)
        m_socket->disconnect(this);
    if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort();
}

void CcsConnection::open()
{
    // The connection's time counts from when the event loop runs again: a caller that
    // queues many messages right after opening (ccsctl send --count N) does not use it up.
    QTimer::singleShot(0, this, [this] {
        if (!m_authenticated && !m_finished && !m_closing && !m_aborted)
            m_connectTimer.start(std::max(1000, m_settings.connectTimeoutMs));
    });
    m_transport->connectToServer();
}

void CcsConnection::close()
{
    m_closing = true;
    m_connectTimer.stop();
    if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState) {
        m_transport->disconnectFromServer();
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
    return writeStanza(xmpp::writer::gcmMessage(stanzaId, json));
}

bool CcsConnection::writeStanza(const QByteArray &stanza)
{
    if (!m_authenticated || m_finished || !m_socket || !m_socket->isEncrypted())
        return false;
    if (m_traffic)
        Q_EMIT trafficLogged(TrafficDirection::Out, QString::fromUtf8(stanza));
    return m_socket->write(stanza) == stanza.size();
}

void CcsConnection::onLogMessage(int kind, const QString &text)
{
    // For people only (the traffic view and the debug log): nothing is decided here.
    switch (QXmppTransport::LogKind(kind)) {
    case QXmppTransport::LogKind::Sent:
        if (m_traffic)
            Q_EMIT trafficLogged(TrafficDirection::Out, redact(text));
        break;
    case QXmppTransport::LogKind::Received:
        if (m_traffic && !text.isEmpty())
            Q_EMIT trafficLogged(TrafficDirection::In, redact(text));
        break;
    case QXmppTransport::LogKind::Debug:
        qCDebug(lcCcsXmpp) << "connection" << m_id << "QXmpp:" << redact(text);
        break;
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
    return redactSecrets(std::move(xml), {m_settings.apiKey, m_settings.senderId, m_settings.domain});
}

void CcsConnection::onConnected()
{
    // QXmppTransport checked what QXmpp did: TLS, SASL PLAIN, bind.
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
    m_transport->handOverReading();
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

bool CcsConnection::plainGcmRead(QByteArrayView id, QByteArrayView json)
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
        Q_EMIT gcmReceived(gcm->text.toUtf8());
    else
        qCInfo(lcCcsXmpp) << "connection" << m_id << "ignored message" << id.left(80) << "without <gcm>";
}

} // namespace ccs
