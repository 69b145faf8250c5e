#include "ServerHandshake_p.h"

#include "StanzaWriter_p.h"
#include "protocol/Stanza.h"

#include <QLoggingCategory>
#include <QRandomGenerator>

Q_DECLARE_LOGGING_CATEGORY(lcCcsServer)

namespace ccs::xmpp {

namespace {
constexpr int kMaxAuthAttempts = 3;

QString randomToken(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), bytes / 4);
    return QString::fromLatin1(raw.toHex());
}

ServerHandshake::Step streamError(const QString &condition, const QString &text)
{
    ServerHandshake::Step step;
    step.kind = ServerHandshake::Step::Kind::StreamError;
    step.condition = condition;
    step.text = text;
    return step;
}

ServerHandshake::Step reply(const QByteArray &bytes)
{
    ServerHandshake::Step step;
    step.reply = bytes;
    return step;
}
} // namespace

ServerHandshake::ServerHandshake(int id, Authenticator authenticator, bool deterministic)
    : m_id(id)
    , m_authenticator(std::move(authenticator))
    , m_deterministic(deterministic)
{
    m_streamId = deterministic ? QStringLiteral("s%1").arg(id) : randomToken(8);
}

QByteArray ServerHandshake::streamHeader() const
{
    return writer::streamHeader(m_domain, m_streamId);
}

QByteArray ServerHandshake::streamOpened(const StreamHeader &header)
{
    if (!header.to.isEmpty() && stanza::isXmlSafe(header.to) && header.to.size() < 256)
        m_domain = header.to;
    if (m_phase == Phase::AwaitingStream) {
        m_phase = Phase::AwaitingAuth;
        return streamHeader() + writer::saslFeatures();
    }
    m_phase = Phase::AwaitingBind;
    return streamHeader() + writer::bindFeatures();
}

ServerHandshake::Step ServerHandshake::handle(const XmlElement &stanza)
{
    if (m_phase == Phase::AwaitingAuth) {
        if (stanza.ns == QLatin1String(kSaslNs))
            return auth(stanza);
        return streamError(QStringLiteral("not-authorized"), QStringLiteral("authenticate first"));
    }
    if (stanza.ns != QLatin1String(kClientNs)) {
        return streamError(QStringLiteral("unsupported-stanza-type"),
            QStringLiteral("unexpected <%1> in %2").arg(stanza.name, stanza.ns));
    }
    if (stanza.name == QLatin1String("iq"))
        return iq(stanza);
    if (stanza.name == QLatin1String("message")) {
        if (m_phase != Phase::Bound)
            return streamError(QStringLiteral("not-authorized"), QStringLiteral("bind a resource first"));
        Step step;
        step.kind = Step::Kind::Message;
        return step;
    }
    if (stanza.name == QLatin1String("presence"))
        return {}; // CCS has no presence; XMPP libraries send an initial one. Ignored.
    return streamError(QStringLiteral("unsupported-stanza-type"), QStringLiteral("unexpected <%1>").arg(stanza.name));
}

ServerHandshake::Step ServerHandshake::auth(const XmlElement &auth)
{
    auto fail = [this](const char *condition) {
        Step step = reply(writer::saslFailure(condition));
        step.kind = Step::Kind::AuthFailed;
        step.close = ++m_authAttempts >= kMaxAuthAttempts;
        return step;
    };
    if (auth.name == QLatin1String("abort"))
        return fail("aborted");
    if (auth.name != QLatin1String("auth"))
        return streamError(QStringLiteral("not-authorized"), QStringLiteral("expected <auth>"));
    const QString mechanism = auth.attribute(QLatin1String("mechanism"));
    if (mechanism == QLatin1String("X-OAUTH2") || mechanism == QLatin1String("X-GOOGLE-TOKEN")) {
        // Advertised as CCS did, but the emulator has no token service to check them against.
        return fail("not-authorized");
    }
    if (mechanism != QLatin1String("PLAIN"))
        return fail("invalid-mechanism");
    const QByteArray encoded = auth.text.trimmed().toLatin1();
    const auto decoded = QByteArray::fromBase64Encoding(encoded, QByteArray::AbortOnBase64DecodingErrors);
    if (encoded.isEmpty() || encoded == "=" || !decoded)
        return fail("malformed-request");
    const QList<QByteArray> parts = decoded.decoded.split('\0');
    if (parts.size() != 3)
        return fail("malformed-request");
    const QString authzid = QString::fromUtf8(parts.at(0));
    const QString authcid = QString::fromUtf8(parts.at(1));
    const QString password = QString::fromUtf8(parts.at(2));
    const QString senderId = m_authenticator ? m_authenticator(authcid, password) : QString();
    if (senderId.isEmpty() || (!authzid.isEmpty() && authzid != authcid)) {
        // Never log the password; the user name is not secret.
        qCInfo(lcCcsServer) << "connection" << m_id << "SASL PLAIN refused for" << authcid;
        return fail("not-authorized");
    }
    m_senderId = senderId;
    m_authcid = authcid;
    m_phase = Phase::AwaitingRestart;
    Step step = reply(writer::saslSuccess());
    step.kind = Step::Kind::Authenticated;
    return step;
}

ServerHandshake::Step ServerHandshake::iq(const XmlElement &iq)
{
    const QString type = iq.attribute(QLatin1String("type"));
    const QString id = iq.attribute(QLatin1String("id"));
    if (type == QLatin1String("result") || type == QLatin1String("error"))
        return {};
    if (type != QLatin1String("get") && type != QLatin1String("set"))
        return reply(writer::iqError(id, "modify", "bad-request"));
    const XmlElement *payload = iq.children.empty() ? nullptr : &iq.children.front();
    if (type == QLatin1String("set") && payload && payload->name == QLatin1String("bind")
        && payload->ns == QLatin1String(kBindNs)) {
        if (m_phase != Phase::AwaitingBind)
            return reply(writer::iqError(id, "cancel", "not-allowed"));
        QString resource;
        if (const XmlElement *r = payload->child(u"resource"))
            resource = r->text.trimmed();
        if (resource.isEmpty() || resource.size() > 256 || !stanza::isXmlSafe(resource)) {
            resource = m_deterministic ? QStringLiteral("ccs-%1").arg(m_nextResource++)
                                       : QStringLiteral("ccs-") + randomToken(4);
        }
        const QString bare
            = m_authcid.contains(QLatin1Char('@')) ? m_authcid : m_senderId + QLatin1Char('@') + m_domain;
        m_fullJid = bare + QLatin1Char('/') + resource;
        m_phase = Phase::Bound;
        Step step = reply(writer::bindResult(id, m_fullJid));
        step.kind = Step::Kind::Bound;
        return step;
    }
    if (m_phase != Phase::Bound)
        return streamError(QStringLiteral("not-authorized"), QStringLiteral("bind a resource first"));
    if (type == QLatin1String("set") && payload && payload->name == QLatin1String("session")
        && payload->ns == QLatin1String(kSessionNs))
        return reply(writer::iqResult(id));
    if (type == QLatin1String("get") && payload && payload->name == QLatin1String("ping")
        && payload->ns == QLatin1String(kPingNs)) {
        // Client keep-alives must get an answer or the client gives up the connection.
        return reply(writer::iqResult(id));
    }
    return reply(writer::iqError(id, "cancel", "service-unavailable"));
}

} // namespace ccs::xmpp
