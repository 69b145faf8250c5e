#include "EmulatorStream.h"

#include "protocol/Messages.h"
#include "protocol/Stanza.h"

#include <QRandomGenerator>

#include <algorithm>

Q_LOGGING_CATEGORY(lcCcsServer, "ccs.server")

namespace ccs::emulator {

namespace {
constexpr auto kStreamsNs = "http://etherx.jabber.org/streams";
constexpr auto kSaslNs = "urn:ietf:params:xml:ns:xmpp-sasl";
constexpr auto kBindNs = "urn:ietf:params:xml:ns:xmpp-bind";
constexpr auto kSessionNs = "urn:ietf:params:xml:ns:xmpp-session";
constexpr auto kPingNs = "urn:xmpp:ping";
constexpr int kMaxAuthAttempts = 3;
constexpr int kCloseGraceMs = 2000;
// Reads from the socket in pieces of this size, and lets the socket buffer
// no more, so the stanza limit is checked before much more is held.
constexpr qint64 kReadChunkBytes = 64 * 1024;

QByteArray esc(QStringView text)
{
    return stanza::escapeXml(text).toUtf8();
}

QString randomToken(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), bytes / 4);
    return QString::fromLatin1(raw.toHex());
}
} // namespace

const XmlElement *XmlElement::child(QStringView childName, QStringView childNs) const
{
    for (const XmlElement &c : children) {
        if (c.name == childName && (childNs.isEmpty() || c.ns == childNs))
            return &c;
    }
    return nullptr;
}

EmulatorStream::EmulatorStream(
    int id, QSslSocket *socket, StreamLimits limits, Authenticator authenticator, QObject *parent)
    : QObject(parent)
    , m_id(id)
    , m_socket(socket)
    , m_limits(limits)
    , m_authenticator(std::move(authenticator))
{
    socket->setParent(this);
    socket->setReadBufferSize(kReadChunkBytes);
    m_streamId = randomToken(8);
    m_closeTimer.setSingleShot(true);
    connect(&m_closeTimer, &QTimer::timeout, this, [this] {
        if (m_socket)
            m_socket->abort();
    });
    m_authTimer.setSingleShot(true);
    connect(&m_authTimer, &QTimer::timeout, this, [this] {
        sendStreamErrorAndClose(
            QStringLiteral("connection-timeout"), QStringLiteral("not authenticated in time"));
    });
    if (m_limits.authTimeoutMs > 0)
        m_authTimer.start(m_limits.authTimeoutMs);
    restartReader();
    connect(socket, &QSslSocket::readyRead, this, &EmulatorStream::onReadyRead);
    // Progress on what was written resumes reading held back by maxUnsentBytes.
    connect(socket, &QSslSocket::bytesWritten, this, &EmulatorStream::onReadyRead);
    connect(socket, &QSslSocket::encryptedBytesWritten, this, &EmulatorStream::onReadyRead);
    connect(socket, &QSslSocket::disconnected, this, &EmulatorStream::finishClose);
    connect(socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        qCDebug(lcCcsServer) << "connection" << m_id << "socket error" << error;
        if (m_socket && m_socket->state() == QAbstractSocket::UnconnectedState)
            finishClose();
    });
    // Data may have arrived with the TLS handshake, before these connections.
    if (socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &EmulatorStream::onReadyRead, Qt::QueuedConnection);
}

EmulatorStream::EmulatorStream(
    int id, StreamLimits limits, Authenticator authenticator, Output output, QObject *parent)
    : QObject(parent)
    , m_id(id)
    , m_limits(limits)
    , m_authenticator(std::move(authenticator))
    , m_output(std::move(output))
    , m_socketFree(true)
{
    m_streamId = QStringLiteral("s%1").arg(id);
    m_authTimer.setSingleShot(true);
    connect(&m_authTimer, &QTimer::timeout, this, [this] {
        sendStreamErrorAndClose(
            QStringLiteral("connection-timeout"), QStringLiteral("not authenticated in time"));
    });
    if (m_limits.authTimeoutMs > 0)
        m_authTimer.start(m_limits.authTimeoutMs);
    restartReader();
}

EmulatorStream::~EmulatorStream() = default;

void EmulatorStream::restartReader()
{
    // What the client sent after the element that ended the old stream (a
    // pipelined stream header) belongs to the new one.
    QByteArray leftover;
    if (m_reader) {
        markStanzaBoundary();
        leftover = m_pending.mid(m_pendingHead);
    }
    m_reader = std::make_unique<QXmlStreamReader>();
    m_plainPending.clear();
    m_defaultNsIsClient = false;
    m_reader->setNamespaceProcessing(true);
    m_stack.clear();
    m_pending.clear();
    m_pendingHead = 0;
    m_pendingHeadUnits = 0;
    if (!leftover.isEmpty()) {
        m_pending = leftover;
        m_reader->addData(leftover);
    }
}

void EmulatorStream::onReadyRead()
{
    if (m_reading)
        return;
    m_reading = true;
    // Bounded reads: the limit is checked after each piece. A peer that does
    // not read what it is sent is not read either (bytesWritten resumes).
    while (m_socket && isOpen() && m_socket->bytesAvailable() > 0
        && (m_limits.maxUnsentBytes <= 0 || unsentBytes() <= m_limits.maxUnsentBytes)) {
        const QByteArray data = m_socket->read(kReadChunkBytes);
        if (data.isEmpty())
            break;
        feed(data);
    }
    m_reading = false;
}

qint64 EmulatorStream::unsentBytes() const
{
    // A QSslSocket encrypts at once: what waits is mostly in encryptedBytesToWrite().
    return m_socket ? m_socket->bytesToWrite() + m_socket->encryptedBytesToWrite() : 0;
}

void EmulatorStream::feed(QByteArrayView bytes)
{
    if (bytes.isEmpty() || !isOpen())
        return;
    // QXmlStreamReader does not reject every invalid UTF-8 sequence (it may
    // substitute or wait for more), so check here, with the state carried
    // across reads. What came before the fault is still handled.
    const qint64 checkedBefore = m_utf8.bytesChecked();
    const qsizetype valid
        = m_utf8.feed(bytes) ? bytes.size() : qsizetype(m_utf8.errorOffset() - checkedBefore);
    feedValid(bytes.first(valid));
    if (valid < bytes.size() && isOpen())
        sendStreamErrorAndClose(QStringLiteral("not-well-formed"), QStringLiteral("invalid UTF-8"));
}

bool EmulatorStream::plainReady() const
{
    return m_phase == Phase::Bound && m_stack.empty() && m_pending.isEmpty() && m_defaultNsIsClient
        && m_limits.maxDepth >= 2 && m_limits.maxStanzaElements >= 2;
}

void EmulatorStream::feedValid(QByteArrayView bytes)
{
    if (bytes.isEmpty() || !isOpen())
        return;
    QByteArray joined;
    if (!m_plainPending.isEmpty()) {
        joined = m_plainPending + bytes.toByteArray();
        m_plainPending.clear();
        bytes = joined;
    }
    // Plain stanzas, the form every CCS client library writes, go without the reader.
    constexpr qsizetype kMaxPlainPending = 16 * 1024;
    while (!bytes.isEmpty() && plainReady()) {
        const char c = bytes.front();
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            bytes = bytes.sliced(1); // white space between stanzas means nothing
            continue;
        }
        QString id, json;
        const qsizetype taken = stanza::readPlainGcmMessage(bytes, &id, &json, m_limits.maxStanzaBytes);
        if (taken < 0 && bytes.size() <= std::min<qint64>(kMaxPlainPending, m_limits.maxStanzaBytes)) {
            m_plainPending = bytes.toByteArray();
            return;
        }
        if (taken <= 0 || taken > m_limits.maxStanzaBytes)
            break; // the reader decides, and enforces the limits
        bytes = bytes.sliced(taken);
        Q_EMIT gcmReceived(id, json);
        if (!isOpen())
            return;
    }
    if (bytes.isEmpty())
        return;
    const QByteArray data = bytes.toByteArray();
    m_pending.append(data);
    m_reader->addData(data);
    processTokens();
    if (!isOpen())
        return;
    // Drop what is before the current stanza; erasing at the front is cheap.
    if (m_pendingHead > 0) {
        m_pending.remove(0, m_pendingHead);
        m_pendingHead = 0;
    }
    // Bounds memory for a stanza that never ends (or a start tag that never closes).
    if (m_pending.size() > m_limits.maxStanzaBytes)
        sendStreamErrorAndClose(QStringLiteral("policy-violation"),
            QStringLiteral("stanza larger than %1 bytes").arg(m_limits.maxStanzaBytes));
}

// Moves the start of the next stanza to where the reader is; returns the bytes
// passed over (the size of what just ended there). The reader counts UTF-16
// units, m_pending holds valid UTF-8: walk it a character at a time.
qint64 EmulatorStream::markStanzaBoundary()
{
    const qint64 target = m_reader->characterOffset();
    const qsizetype from = m_pendingHead;
    while (m_pendingHeadUnits < target && m_pendingHead < m_pending.size()) {
        const auto b = static_cast<unsigned char>(m_pending.at(m_pendingHead));
        const int length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        if (m_pendingHead + length > m_pending.size())
            break;
        m_pendingHead += length;
        m_pendingHeadUnits += length == 4 ? 2 : 1;
    }
    return m_pendingHead - from;
}

void EmulatorStream::processTokens()
{
    // m_reader is read afresh each round: a stream restart replaces it, and
    // what was left in the old one has been handed to the new one.
    while (isOpen() && !m_reader->atEnd()) {
        QXmlStreamReader *reader = m_reader.get();
        const QXmlStreamReader::TokenType token = reader->readNext();
        switch (token) {
        case QXmlStreamReader::StartDocument: {
            // XMPP is UTF-8 only (RFC 6120 11.6); the bytes were checked as such.
            const QStringView encoding = reader->documentEncoding();
            if (!encoding.isEmpty() && encoding.compare(u"UTF-8", Qt::CaseInsensitive) != 0) {
                sendStreamErrorAndClose(
                    QStringLiteral("unsupported-encoding"), QStringLiteral("only UTF-8 is supported"));
                return;
            }
            break;
        }
        case QXmlStreamReader::NoToken:
        case QXmlStreamReader::Comment:
        case QXmlStreamReader::ProcessingInstruction:
            break;
        case QXmlStreamReader::DTD:
        case QXmlStreamReader::EntityReference:
            sendStreamErrorAndClose(QStringLiteral("restricted-xml"),
                QStringLiteral("DTDs and entity references are not allowed"));
            return;
        case QXmlStreamReader::Invalid:
            if (reader->error() == QXmlStreamReader::PrematureEndOfDocumentError)
                return; // wait for more data
            sendStreamErrorAndClose(QStringLiteral("not-well-formed"), reader->errorString());
            return;
        case QXmlStreamReader::EndDocument:
            sendStreamErrorAndClose(QStringLiteral("not-well-formed"), QStringLiteral("document ended"));
            return;
        case QXmlStreamReader::StartElement: {
            if (m_phase == Phase::AwaitingStream || m_phase == Phase::AwaitingRestart) {
                if (reader->name() != QLatin1String("stream")
                    || reader->namespaceUri() != QLatin1String(kStreamsNs)) {
                    sendStreamErrorAndClose(
                        QStringLiteral("invalid-namespace"), QStringLiteral("expected <stream:stream>"));
                    return;
                }
                m_defaultNsIsClient = false;
                for (const QXmlStreamNamespaceDeclaration &d : reader->namespaceDeclarations()) {
                    if (d.prefix().isEmpty())
                        m_defaultNsIsClient = d.namespaceUri() == QLatin1String("jabber:client");
                }
                const QString to = reader->attributes().value(QLatin1String("to")).toString();
                if (!to.isEmpty() && stanza::isXmlSafe(to) && to.size() < 256)
                    m_domain = to;
                markStanzaBoundary();
                handleStreamStart();
                break;
            }
            if (m_stack.empty() && reader->name() == QLatin1String("stream")
                && reader->namespaceUri() == QLatin1String(kStreamsNs)) {
                sendStreamErrorAndClose(QStringLiteral("unsupported-stanza-type"),
                    QStringLiteral("a stream header inside the stream"));
                return;
            }
            if (static_cast<int>(m_stack.size()) + 1 > m_limits.maxDepth) {
                sendStreamErrorAndClose(QStringLiteral("policy-violation"),
                    QStringLiteral("XML nested deeper than %1").arg(m_limits.maxDepth));
                return;
            }
            if (m_stack.empty())
                m_stanzaElements = 0;
            if (++m_stanzaElements > m_limits.maxStanzaElements) {
                sendStreamErrorAndClose(QStringLiteral("policy-violation"),
                    QStringLiteral("more than %1 elements in a stanza").arg(m_limits.maxStanzaElements));
                return;
            }
            XmlElement element;
            element.name = reader->name().toString();
            element.ns = reader->namespaceUri().toString();
            element.attributes = reader->attributes();
            m_stack.push_back(std::move(element));
            break;
        }
        case QXmlStreamReader::Characters:
            if (!m_stack.empty())
                m_stack.back().text += reader->text();
            else
                markStanzaBoundary(); // white space keep-alive between stanzas
            break;
        case QXmlStreamReader::EndElement: {
            if (m_stack.empty()) {
                // The client closed its stream: close ours.
                qCDebug(lcCcsServer) << "connection" << m_id << "client closed the stream";
                closeStream();
                return;
            }
            XmlElement done = std::move(m_stack.back());
            m_stack.pop_back();
            if (!m_stack.empty()) {
                m_stack.back().children.push_back(std::move(done));
                break;
            }
            if (markStanzaBoundary() > m_limits.maxStanzaBytes) {
                sendStreamErrorAndClose(QStringLiteral("policy-violation"),
                    QStringLiteral("stanza larger than %1 bytes").arg(m_limits.maxStanzaBytes));
                return;
            }
            handleStanza(done);
            break;
        }
        }
    }
}

void EmulatorStream::handleStreamStart()
{
    sendStreamHeader();
    if (m_phase == Phase::AwaitingStream) {
        write(QByteArrayLiteral("<stream:features><mechanisms xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
                                "<mechanism>X-OAUTH2</mechanism><mechanism>X-GOOGLE-TOKEN</mechanism>"
                                "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"));
        m_phase = Phase::AwaitingAuth;
    } else {
        write(
            QByteArrayLiteral("<stream:features><bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"/>"
                              "<session xmlns=\"urn:ietf:params:xml:ns:xmpp-session\"/></stream:features>"));
        m_phase = Phase::AwaitingBind;
    }
}

void EmulatorStream::sendStreamHeader()
{
    write("<?xml version='1.0'?><stream:stream from=\"" + esc(m_domain) + "\" id=\"" + m_streamId.toLatin1()
        + "\" version=\"1.0\" xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\">");
    m_headerSent = true;
}

void EmulatorStream::handleStanza(const XmlElement &stanza)
{
    if (m_phase == Phase::AwaitingAuth) {
        if (stanza.ns == QLatin1String(kSaslNs)) {
            handleAuth(stanza);
            return;
        }
        sendStreamErrorAndClose(QStringLiteral("not-authorized"), QStringLiteral("authenticate first"));
        return;
    }
    if (stanza.ns != QLatin1String("jabber:client")) {
        sendStreamErrorAndClose(QStringLiteral("unsupported-stanza-type"),
            QStringLiteral("unexpected <%1> in %2").arg(stanza.name, stanza.ns));
        return;
    }
    if (stanza.name == QLatin1String("iq")) {
        handleIq(stanza);
    } else if (stanza.name == QLatin1String("message")) {
        if (m_phase != Phase::Bound) {
            sendStreamErrorAndClose(
                QStringLiteral("not-authorized"), QStringLiteral("bind a resource first"));
            return;
        }
        handleMessage(stanza);
    } else if (stanza.name == QLatin1String("presence")) {
        // CCS has no presence; XMPP libraries send an initial one. Ignored.
    } else {
        sendStreamErrorAndClose(
            QStringLiteral("unsupported-stanza-type"), QStringLiteral("unexpected <%1>").arg(stanza.name));
    }
}

void EmulatorStream::handleAuth(const XmlElement &auth)
{
    auto fail = [this](const char *condition) {
        write(
            QByteArray("<failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"><") + condition + "/></failure>");
        Q_EMIT authenticationFailed();
        if (++m_authAttempts >= kMaxAuthAttempts)
            closeStream();
    };
    if (auth.name == QLatin1String("abort")) {
        fail("aborted");
        return;
    }
    if (auth.name != QLatin1String("auth")) {
        sendStreamErrorAndClose(QStringLiteral("not-authorized"), QStringLiteral("expected <auth>"));
        return;
    }
    const QString mechanism = auth.attribute(QLatin1String("mechanism"));
    if (mechanism == QLatin1String("X-OAUTH2") || mechanism == QLatin1String("X-GOOGLE-TOKEN")) {
        // Advertised as CCS did, but the emulator has no token service to check them against.
        fail("not-authorized");
        return;
    }
    if (mechanism != QLatin1String("PLAIN")) {
        fail("invalid-mechanism");
        return;
    }
    const QByteArray encoded = auth.text.trimmed().toLatin1();
    const auto decoded = QByteArray::fromBase64Encoding(encoded, QByteArray::AbortOnBase64DecodingErrors);
    if (encoded.isEmpty() || encoded == "=" || !decoded) {
        fail("malformed-request");
        return;
    }
    const QList<QByteArray> parts = decoded.decoded.split('\0');
    if (parts.size() != 3) {
        fail("malformed-request");
        return;
    }
    const QString authzid = QString::fromUtf8(parts.at(0));
    const QString authcid = QString::fromUtf8(parts.at(1));
    const QString password = QString::fromUtf8(parts.at(2));
    const QString senderId = m_authenticator ? m_authenticator(authcid, password) : QString();
    if (senderId.isEmpty() || (!authzid.isEmpty() && authzid != authcid)) {
        // Never log the password; the user name is not secret.
        qCInfo(lcCcsServer) << "connection" << m_id << "SASL PLAIN refused for" << authcid;
        fail("not-authorized");
        return;
    }
    m_senderId = senderId;
    m_authcid = authcid;
    write(QByteArrayLiteral("<success xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"/>"));
    m_phase = Phase::AwaitingRestart;
    restartReader();
    qCInfo(lcCcsServer) << "connection" << m_id << "authenticated as sender" << senderId;
    Q_EMIT authenticated(senderId);
}

void EmulatorStream::handleIq(const XmlElement &iq)
{
    const QString type = iq.attribute(QLatin1String("type"));
    const QString id = iq.attribute(QLatin1String("id"));
    const QByteArray idAttr = "\" id=\"" + esc(id) + "\"";
    if (type == QLatin1String("result") || type == QLatin1String("error"))
        return;
    if (type != QLatin1String("get") && type != QLatin1String("set")) {
        write("<iq type=\"error" + idAttr
            + "><error type=\"modify\"><bad-request xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>"
              "</error></iq>");
        return;
    }
    const XmlElement *payload = iq.children.empty() ? nullptr : &iq.children.front();
    if (type == QLatin1String("set") && payload && payload->name == QLatin1String("bind")
        && payload->ns == QLatin1String(kBindNs)) {
        if (m_phase != Phase::AwaitingBind) {
            write("<iq type=\"error" + idAttr
                + "><error type=\"cancel\"><not-allowed xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>"
                  "</error></iq>");
            return;
        }
        QString resource;
        if (const XmlElement *r = payload->child(u"resource"))
            resource = r->text.trimmed();
        if (resource.isEmpty() || resource.size() > 256 || !stanza::isXmlSafe(resource)) {
            resource = m_socketFree ? QStringLiteral("ccs-%1").arg(m_nextResource++)
                                    : QStringLiteral("ccs-") + randomToken(4);
        }
        const QString bare
            = m_authcid.contains(QLatin1Char('@')) ? m_authcid : m_senderId + QLatin1Char('@') + m_domain;
        m_fullJid = bare + QLatin1Char('/') + resource;
        write("<iq type=\"result" + idAttr + "><bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"><jid>"
            + esc(m_fullJid) + "</jid></bind></iq>");
        m_phase = Phase::Bound;
        m_authTimer.stop();
        Q_EMIT bound();
        return;
    }
    if (m_phase != Phase::Bound) {
        sendStreamErrorAndClose(QStringLiteral("not-authorized"), QStringLiteral("bind a resource first"));
        return;
    }
    if (type == QLatin1String("set") && payload && payload->name == QLatin1String("session")
        && payload->ns == QLatin1String(kSessionNs)) {
        write("<iq type=\"result" + idAttr + "/>");
        return;
    }
    if (type == QLatin1String("get") && payload && payload->name == QLatin1String("ping")
        && payload->ns == QLatin1String(kPingNs)) {
        // Client keep-alives must get an answer or the client gives up the connection.
        write("<iq type=\"result" + idAttr + "/>");
        return;
    }
    write("<iq type=\"error" + idAttr
        + "><error type=\"cancel\"><service-unavailable xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>"
          "</error></iq>");
}

void EmulatorStream::handleMessage(const XmlElement &message)
{
    const XmlElement *gcm = message.child(u"gcm", QString::fromLatin1(kGcmNamespace));
    if (!gcm) {
        qCDebug(lcCcsServer) << "connection" << m_id << "ignored a <message> without <gcm>";
        return;
    }
    Q_EMIT gcmReceived(message.attribute(QLatin1String("id")), gcm->text);
}

void EmulatorStream::sendGcm(const QByteArray &json)
{
    if (!isOpen())
        return;
    write(stanza::gcmMessage(QStringLiteral("e%1").arg(m_nextStanzaId++), json));
}

void EmulatorStream::sendDrainingControl(const QByteArray &json)
{
    if (!isOpen())
        return;
    // Text content: only & < > need escaping (quotes stay as the guide shows them).
    QByteArray text = json;
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    write("<message>\n  <data:gcm xmlns:data=\"google:mobile:data\">\n  " + text
        + "\n  </data:gcm>\n</message>");
}

void EmulatorStream::sendStanzaError(
    const QString &stanzaId, const QByteArray &originalJson, const QString &text)
{
    if (!isOpen())
        return;
    write(stanza::gcmStanzaError(stanzaId, m_fullJid, originalJson, text));
}

void EmulatorStream::sendStreamErrorAndClose(const QString &condition, const QString &text)
{
    if (!isOpen())
        return;
    qCInfo(lcCcsServer) << "connection" << m_id << "stream error" << condition << text;
    if (!m_headerSent)
        sendStreamHeader();
    QByteArray xml
        = "<stream:error><" + condition.toLatin1() + " xmlns=\"urn:ietf:params:xml:ns:xmpp-streams\"/>";
    if (!text.isEmpty())
        xml += "<text xmlns=\"urn:ietf:params:xml:ns:xmpp-streams\">" + esc(text) + "</text>";
    xml += "</stream:error>";
    write(xml);
    Q_EMIT streamErrorSent(condition);
    closeStream();
}

void EmulatorStream::closeStream()
{
    if (!isOpen())
        return;
    if (!m_headerSent)
        sendStreamHeader();
    write(QByteArrayLiteral("</stream:stream>"));
    m_phase = Phase::Closing;
    if (m_socketFree) {
        finishClose(); // nothing to wait for
        return;
    }
    if (m_socket)
        m_socket->disconnectFromHost(); // after the buffered bytes are written
    m_closeTimer.start(kCloseGraceMs);
}

void EmulatorStream::abort()
{
    if (m_phase == Phase::Closed)
        return;
    m_phase = Phase::Closing;
    if (m_socket) {
        // What was already answered reaches the client; the cut comes after it.
        m_socket->flush();
        m_socket->abort();
    }
    finishClose();
}

void EmulatorStream::write(const QByteArray &xml)
{
    if (m_socketFree) {
        if (m_output)
            m_output(xml);
        return;
    }
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->write(xml);
}

void EmulatorStream::finishClose()
{
    if (m_closedEmitted)
        return;
    m_closedEmitted = true;
    m_phase = Phase::Closed;
    m_closeTimer.stop();
    m_authTimer.stop();
    qCDebug(lcCcsServer) << "connection" << m_id << "closed";
    Q_EMIT closed();
}

} // namespace ccs::emulator
