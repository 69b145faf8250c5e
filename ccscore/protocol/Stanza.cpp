#include "Stanza.h"

#include "Messages.h"

#include <algorithm>

namespace ccs::stanza {

namespace {

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
bool isXmlChar(char32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD)
        || (c >= 0x10000 && c <= 0x10FFFF);
}

// Walks code points, pairing surrogates; a lone surrogate comes out as itself
// (and is not an XML Char).
template<typename F> void forEachCodePoint(QStringView text, F f)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (c.isHighSurrogate() && i + 1 < text.size() && text[i + 1].isLowSurrogate()) {
            f(QChar::surrogateToUcs4(c, text[i + 1]), text.sliced(i, 2));
            ++i;
        } else {
            f(char32_t(c.unicode()), text.sliced(i, 1));
        }
    }
}

// `unsafe` decides what to write for a character XML cannot carry. Quotes
// matter only in attribute values; element text keeps them readable.
template<typename F> QString escape(QStringView text, bool quotes, F unsafe)
{
    QString out;
    out.reserve(text.size() + text.size() / 8);
    forEachCodePoint(text, [&](char32_t cp, QStringView units) {
        switch (cp) {
        case '&':
            out += QLatin1String("&amp;");
            return;
        case '<':
            out += QLatin1String("&lt;");
            return;
        case '>':
            // Escaped always, so that "]]>" can never appear in the output.
            out += QLatin1String("&gt;");
            return;
        case '"':
            if (quotes) {
                out += QLatin1String("&quot;");
                return;
            }
            break;
        case '\'':
            if (quotes) {
                out += QLatin1String("&apos;");
                return;
            }
            break;
        default:
            break;
        }
        if (isXmlChar(cp))
            out += units;
        else
            out += unsafe(cp, units);
    });
    return out;
}

// <gcm xmlns="google:mobile:data">JSON</gcm>
QString gcmElement(const QByteArray &json)
{
    // Inside JSON, a character XML cannot carry can only stand in a string
    // (anywhere else the JSON is invalid anyway), where a \u escape means the same.
    const QString body = escape(QString::fromUtf8(json), false, [](char32_t, QStringView units) {
        QString out;
        for (const QChar u : units)
            out += QStringLiteral("\\u%1").arg(u.unicode(), 4, 16, QLatin1Char('0'));
        return out;
    });
    return QStringLiteral("<gcm xmlns=\"%1\">%2</gcm>").arg(QLatin1String(kGcmNamespace), body);
}

} // namespace

QString escapeXml(QStringView text)
{
    // A character XML 1.0 cannot carry would make the whole stanza ill-formed.
    return escape(text, true, [](char32_t, QStringView) { return QString(QChar::ReplacementCharacter); });
}

bool isXmlSafe(QStringView text)
{
    bool safe = true;
    forEachCodePoint(text, [&safe](char32_t cp, QStringView) { safe = safe && isXmlChar(cp); });
    return safe;
}

namespace {

// The common case, on the hot path of every downstream message: printable
// ASCII, where escaping is a byte-for-byte job. Anything else (non-ASCII, a
// control character) returns false and takes the general path.
bool appendEscapedAscii(QByteArray &out, QByteArrayView text, bool quotes)
{
    for (const char c : text) {
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c > 0x7e)
            return false;
    }
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += quotes ? "&quot;" : "\"";
            break;
        case '\'':
            out += quotes ? "&apos;" : "'";
            break;
        default:
            out += c;
        }
    }
    return true;
}

} // namespace

QByteArray gcmMessage(const QString &stanzaId, const QByteArray &json)
{
    if (stanzaId.size() < 256) {
        QByteArray fast;
        fast.reserve(json.size() + 96);
        fast += "<message";
        bool ascii = true;
        if (!stanzaId.isEmpty()) {
            fast += " id=\"";
            // toLatin1() turns what it cannot hold into '?', so check the characters first.
            ascii = std::all_of(stanzaId.cbegin(), stanzaId.cend(), [](QChar c) {
                return c.unicode() < 0x80;
            }) && appendEscapedAscii(fast, stanzaId.toLatin1(), true);
            fast += '"';
        }
        if (ascii) {
            fast += "><gcm xmlns=\"";
            fast += kGcmNamespace;
            fast += "\">";
            if (appendEscapedAscii(fast, json, false)) {
                fast += "</gcm></message>";
                return fast;
            }
        }
    }
    QString xml = QStringLiteral("<message");
    if (!stanzaId.isEmpty())
        xml += QStringLiteral(" id=\"%1\"").arg(escapeXml(stanzaId));
    xml += QLatin1Char('>') + gcmElement(json) + QLatin1String("</message>");
    return xml.toUtf8();
}

QByteArray gcmStanzaError(
    const QString &stanzaId, const QString &to, const QByteArray &originalJson, const QString &text)
{
    QByteArray xml = "<message";
    if (!stanzaId.isEmpty())
        xml += " id=\"" + escapeXml(stanzaId).toUtf8() + '"';
    xml += " type=\"error\"";
    if (!to.isEmpty())
        xml += " to=\"" + escapeXml(to).toUtf8() + '"';
    xml += '>';
    xml += gcmElement(originalJson).toUtf8();
    xml += "<error code=\"400\" type=\"modify\">"
           "<bad-request xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>"
           "<text xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\">";
    xml += escapeXml(text).toUtf8();
    xml += "</text></error></message>";
    return xml;
}

} // namespace ccs::stanza
