#include "StanzaWriter_p.h"

#include "XmlElement_p.h"
#include "protocol/Stanza.h"

namespace ccs::xmpp::writer {

namespace {
QByteArray esc(QStringView text)
{
    return stanza::escapeXml(text).toUtf8();
}
QByteArray idAttribute(const QString &iqId)
{
    return "\" id=\"" + esc(iqId) + "\"";
}
} // namespace

QByteArray gcmMessage(const QString &stanzaId, const QByteArray &json)
{
    return stanza::gcmMessage(stanzaId, json);
}

QByteArray drainingControl(const QByteArray &json)
{
    // Text content: only & < > need escaping (quotes stay as the guide shows them).
    QByteArray text = json;
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    return "<message>\n  <data:gcm xmlns:data=\"google:mobile:data\">\n  " + text
        + "\n  </data:gcm>\n</message>";
}

QByteArray gcmStanzaError(
    const QString &stanzaId, const QString &to, const QByteArray &originalJson, const QString &text)
{
    return stanza::gcmStanzaError(stanzaId, to, originalJson, text);
}

QByteArray streamHeader(const QString &from, const QString &streamId)
{
    return "<?xml version='1.0'?><stream:stream from=\"" + esc(from) + "\" id=\"" + streamId.toLatin1()
        + "\" version=\"1.0\" xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\">";
}

QByteArray streamClose()
{
    return QByteArrayLiteral("</stream:stream>");
}

QByteArray streamError(const QString &condition, const QString &text)
{
    QByteArray xml = "<stream:error><" + condition.toLatin1() + " xmlns=\"" + kStreamErrorNs + "\"/>";
    if (!text.isEmpty())
        xml += "<text xmlns=\"" + QByteArray(kStreamErrorNs) + "\">" + esc(text) + "</text>";
    xml += "</stream:error>";
    return xml;
}

QByteArray saslFeatures()
{
    return QByteArrayLiteral("<stream:features><mechanisms xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
                             "<mechanism>X-OAUTH2</mechanism><mechanism>X-GOOGLE-TOKEN</mechanism>"
                             "<mechanism>PLAIN</mechanism></mechanisms></stream:features>");
}

QByteArray bindFeatures()
{
    return QByteArrayLiteral("<stream:features><bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"/>"
                             "<session xmlns=\"urn:ietf:params:xml:ns:xmpp-session\"/></stream:features>");
}

QByteArray saslSuccess()
{
    return QByteArrayLiteral("<success xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"/>");
}

QByteArray saslFailure(const char *condition)
{
    return QByteArray("<failure xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"><") + condition + "/></failure>";
}

QByteArray bindResult(const QString &iqId, const QString &fullJid)
{
    return "<iq type=\"result" + idAttribute(iqId) + "><bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"><jid>"
        + esc(fullJid) + "</jid></bind></iq>";
}

QByteArray iqResult(const QString &iqId)
{
    return "<iq type=\"result" + idAttribute(iqId) + "/>";
}

QByteArray iqError(const QString &iqId, const char *errorType, const char *condition)
{
    return "<iq type=\"error" + idAttribute(iqId) + "><error type=\"" + errorType + "\"><" + condition
        + " xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/></error></iq>";
}

} // namespace ccs::xmpp::writer
