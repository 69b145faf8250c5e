#include "RawCcsClient.h"

#include "TestEmulator.h"

#include <QJsonDocument>
#include <QSslConfiguration>
#include <QTest>

namespace ccs::test {

namespace {
constexpr auto kGcmNs = "google:mobile:data";
constexpr auto kSaslNs = "urn:ietf:params:xml:ns:xmpp-sasl";
} // namespace

struct RawCcsClient::Node {
    QString name;
    QString ns;
    QXmlStreamAttributes attributes;
    QString text;
    std::vector<std::unique_ptr<Node>> children;
};

RawCcsClient::RawCcsClient(QObject *parent)
    : QObject(parent)
{
    resetReader();
}

RawCcsClient::~RawCcsClient()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void RawCcsClient::setPinnedCertificate(const QSslCertificate &certificate)
{
    m_pinned = {certificate};
}

void RawCcsClient::setPeerVerifyName(const QString &name)
{
    m_peerVerifyName = name;
}

QString RawCcsClient::escape(QStringView text)
{
    QString out;
    out.reserve(text.size());
    for (const QChar c : text) {
        if (c == QLatin1Char('&'))
            out += QLatin1String("&amp;");
        else if (c == QLatin1Char('<'))
            out += QLatin1String("&lt;");
        else if (c == QLatin1Char('>'))
            out += QLatin1String("&gt;");
        else if (c == QLatin1Char('"'))
            out += QLatin1String("&quot;");
        else
            out += c;
    }
    return out;
}

void RawCcsClient::resetReader()
{
    m_reader = std::make_unique<QXmlStreamReader>();
    m_stack.clear();
    m_streamOpen = false;
}

bool RawCcsClient::connectTls(const QString &host, quint16 port, int timeoutMs)
{
    m_socket = std::make_unique<QSslSocket>();
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    if (!m_pinned.isEmpty())
        config.setCaCertificates(m_pinned);
    m_socket->setSslConfiguration(config);
    m_socket->setPeerVerifyName(m_peerVerifyName);
    connect(m_socket.get(), &QSslSocket::sslErrors, this,
        [this](const QList<QSslError> &errors) { m_sslErrors += errors; });
    connect(m_socket.get(), &QSslSocket::readyRead, this, &RawCcsClient::onReadyRead);
    connect(m_socket.get(), &QSslSocket::disconnected, this, &RawCcsClient::disconnected);
    bool failed = false;
    connect(m_socket.get(), &QSslSocket::errorOccurred, this, [&failed] { failed = true; });
    m_socket->connectToHostEncrypted(host, port);
    // The emulator usually runs on this thread: spin the event loop, never block in waitFor*().
    const bool ok
        = waitFor([&] { return m_socket->isEncrypted() || failed; }, timeoutMs) && m_socket->isEncrypted();
    disconnect(m_socket.get(), &QSslSocket::errorOccurred, this, nullptr);
    return ok;
}

bool RawCcsClient::openStream(const QString &domain, int timeoutMs)
{
    const int before = m_featuresSeen;
    sendRaw("<?xml version='1.0'?><stream:stream to=\"" + escape(domain).toUtf8()
        + "\" version=\"1.0\" xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\">");
    return waitFor([&] { return m_featuresSeen > before || !isConnected(); }, timeoutMs)
        && m_featuresSeen > before;
}

bool RawCcsClient::authenticate(const QString &authcid, const QString &password, int timeoutMs)
{
    m_saslFailure.clear();
    m_saslSuccess = false;
    const QByteArray plain = QByteArray(1, '\0') + authcid.toUtf8() + '\0' + password.toUtf8();
    sendRaw("<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"PLAIN\">" + plain.toBase64()
        + "</auth>");
    if (!waitFor([&] { return m_saslSuccess || !m_saslFailure.isEmpty() || !isConnected(); }, timeoutMs))
        return false;
    return m_saslSuccess;
}

bool RawCcsClient::bind(const QString &resource, int timeoutMs)
{
    if (!openStream(QStringLiteral("gcm.googleapis.com"), timeoutMs))
        return false;
    sendRaw("<iq type=\"set\" id=\"bind-1\"><bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"><resource>"
        + escape(resource).toUtf8() + "</resource></bind></iq>");
    return waitFor([&] { return !m_boundJid.isEmpty() || !isConnected(); }, timeoutMs)
        && !m_boundJid.isEmpty();
}

bool RawCcsClient::login(
    const QString &host, quint16 port, const QString &senderId, const QString &apiKey, QString *error)
{
    auto fail = [error](const QString &what) {
        if (error)
            *error = what;
        return false;
    };
    if (!connectTls(host, port))
        return fail(QStringLiteral("TLS: ") + (m_socket ? m_socket->errorString() : QString()));
    if (!openStream())
        return fail(QStringLiteral("no stream features"));
    if (!authenticate(senderId + QStringLiteral("@gcm.googleapis.com"), apiKey))
        return fail(QStringLiteral("SASL: ") + m_saslFailure);
    if (!bind())
        return fail(QStringLiteral("bind failed"));
    return true;
}

bool RawCcsClient::loginTo(const TestEmulator &emulator, QString *error)
{
    setPinnedCertificate(emulator.certificate());
    return login(QStringLiteral("127.0.0.1"), emulator.port(), QString::fromLatin1(TestEmulator::kSenderId),
        QString::fromLatin1(TestEmulator::kApiKey), error);
}

void RawCcsClient::sendRaw(const QByteArray &xml)
{
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->write(xml);
}

QString RawCcsClient::sendGcmText(const QString &jsonText, const QString &stanzaId)
{
    const QString id = stanzaId.isEmpty() ? QStringLiteral("raw-%1").arg(m_nextId++) : stanzaId;
    sendRaw("<message id=\"" + escape(id).toUtf8() + "\"><gcm xmlns=\"google:mobile:data\">"
        + escape(jsonText).toUtf8() + "</gcm></message>");
    return id;
}

QString RawCcsClient::sendJson(const QJsonObject &json, const QString &stanzaId)
{
    return sendGcmText(QString::fromUtf8(QJsonDocument(json).toJson(QJsonDocument::Compact)), stanzaId);
}

void RawCcsClient::ack(const QString &to, const QString &messageId)
{
    sendJson(QJsonObject {{QStringLiteral("to"), to}, {QStringLiteral("message_id"), messageId},
        {QStringLiteral("message_type"), QStringLiteral("ack")}});
}

void RawCcsClient::closeStream()
{
    sendRaw("</stream:stream>");
}

void RawCcsClient::abort()
{
    if (m_socket)
        m_socket->abort();
}

bool RawCcsClient::answersOneByOne(const TestEmulator &emulator, int count, QStringList *answers)
{
    RawCcsClient c;
    if (!c.loginTo(emulator))
        return false;
    for (int i = 0; i < count; ++i) {
        c.sendJson({{"to", "dev-1"}, {"message_id", QStringLiteral("r-%1").arg(i)}});
        if (!c.waitFor([&] { return c.gcmCount() == i + 1; }))
            return false;
    }
    for (const QJsonObject &o : c.gcmMessages())
        answers->append(o.value("message_id").toString() + QLatin1Char(':')
            + o.value("message_type").toString() + o.value("error").toString());
    return true;
}

QList<QJsonObject> RawCcsClient::gcmMessages() const
{
    QList<QJsonObject> out;
    for (const Stanza &s : m_received) {
        if (s.name == QLatin1String("message") && s.type != QLatin1String("error") && !s.gcmText.isNull())
            out.append(s.json);
    }
    return out;
}

QList<RawCcsClient::Stanza> RawCcsClient::stanzaErrors() const
{
    QList<Stanza> out;
    for (const Stanza &s : m_received) {
        if (s.name == QLatin1String("message") && s.type == QLatin1String("error"))
            out.append(s);
    }
    return out;
}

bool RawCcsClient::waitForGcm(
    const std::function<bool(const QJsonObject &)> &pred, QJsonObject *out, int timeoutMs)
{
    QJsonObject found;
    const bool ok = waitFor(
        [&] {
            for (const QJsonObject &o : gcmMessages()) {
                if (pred(o)) {
                    found = o;
                    return true;
                }
            }
            return false;
        },
        timeoutMs);
    if (ok && out)
        *out = found;
    return ok;
}

bool RawCcsClient::waitForGcmCount(int count, int timeoutMs)
{
    return waitFor([&] { return gcmCount() >= count; }, timeoutMs);
}

bool RawCcsClient::waitFor(const std::function<bool()> &condition, int timeoutMs)
{
    return QTest::qWaitFor(condition, timeoutMs);
}

bool RawCcsClient::waitForDisconnected(int timeoutMs)
{
    return waitFor([&] { return !isConnected(); }, timeoutMs);
}

bool RawCcsClient::isConnected() const
{
    return m_socket && m_socket->state() == QAbstractSocket::ConnectedState;
}

void RawCcsClient::onReadyRead()
{
    const QByteArray data = m_socket->readAll();
    m_bytesReceived += data.size();
    m_raw += data;
    m_reader->addData(data);
    while (!m_reader->atEnd()) {
        const auto token = m_reader->readNext();
        if (token == QXmlStreamReader::Invalid) {
            if (m_reader->error() != QXmlStreamReader::PrematureEndOfDocumentError)
                qWarning("RawCcsClient: server sent bad XML: %s", qPrintable(m_reader->errorString()));
            return;
        }
        if (token == QXmlStreamReader::StartElement) {
            if (!m_streamOpen && m_stack.empty()) {
                m_streamOpen = true; // <stream:stream>
                continue;
            }
            auto node = std::make_unique<Node>();
            node->name = m_reader->name().toString();
            node->ns = m_reader->namespaceUri().toString();
            node->attributes = m_reader->attributes();
            m_stack.push_back(std::move(node));
        } else if (token == QXmlStreamReader::Characters) {
            if (!m_stack.empty())
                m_stack.back()->text += m_reader->text();
        } else if (token == QXmlStreamReader::EndElement) {
            if (m_stack.empty()) {
                m_streamClosed = true; // </stream:stream>
                continue;
            }
            std::unique_ptr<Node> done = std::move(m_stack.back());
            m_stack.pop_back();
            if (!m_stack.empty()) {
                m_stack.back()->children.push_back(std::move(done));
            } else {
                const bool restart
                    = done->name == QLatin1String("success") && done->ns == QLatin1String(kSaslNs);
                handleTopLevel(*done);
                if (restart) {
                    resetReader(); // the server starts a new stream after our next header
                    return;
                }
            }
        }
    }
}

void RawCcsClient::handleTopLevel(const Node &node)
{
    Stanza s;
    s.name = node.name;
    s.ns = node.ns;
    s.id = node.attributes.value(QLatin1String("id")).toString();
    s.type = node.attributes.value(QLatin1String("type")).toString();
    for (const auto &child : node.children) {
        s.childNames.append(child->name);
        for (const auto &grandChild : child->children)
            s.texts.append(grandChild->text);
        if (child->name == QLatin1String("gcm") && child->ns == QLatin1String(kGcmNs)) {
            s.gcmText = child->text;
            s.json = QJsonDocument::fromJson(child->text.toUtf8()).object();
        }
        if (child->name == QLatin1String("error")) {
            for (const auto &grandChild : child->children) {
                if (grandChild->name == QLatin1String("text"))
                    s.errorText = grandChild->text.trimmed();
                else
                    s.errorCondition = grandChild->name;
            }
        }
    }
    if (node.name == QLatin1String("features")) {
        ++m_featuresSeen;
        m_featureNames = s.childNames;
        for (const auto &child : node.children) {
            if (child->name == QLatin1String("mechanisms")) {
                m_mechanisms.clear();
                for (const auto &m : child->children)
                    m_mechanisms.append(m->text.trimmed());
            }
        }
    } else if (node.name == QLatin1String("success") && node.ns == QLatin1String(kSaslNs)) {
        m_saslSuccess = true;
    } else if (node.name == QLatin1String("failure") && node.ns == QLatin1String(kSaslNs)) {
        m_saslFailure = node.children.empty() ? QStringLiteral("failure") : node.children.front()->name;
        s.errorCondition = m_saslFailure;
    } else if (node.name == QLatin1String("error")
        && node.ns == QLatin1String("http://etherx.jabber.org/streams")) {
        for (const auto &child : node.children) {
            if (child->name == QLatin1String("text"))
                m_streamErrorText = child->text;
            else
                m_streamError = child->name;
        }
        s.errorCondition = m_streamError;
        s.errorText = m_streamErrorText;
    } else if (node.name == QLatin1String("iq") && s.id == QLatin1String("bind-1")
        && s.type == QLatin1String("result")) {
        for (const auto &child : node.children) {
            for (const auto &grandChild : child->children) {
                if (grandChild->name == QLatin1String("jid"))
                    m_boundJid = grandChild->text;
            }
        }
    }
    m_received.append(s);
    Q_EMIT stanzaReceived(s);
}

} // namespace ccs::test
