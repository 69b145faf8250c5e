#include "Stanza.h"

#include "JsonWriter.h"
#include "Messages.h"

#include <algorithm>
#include <array>
#include <cstring>

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

// The text of a <gcm> element: JSON, escaped.
QString gcmText(QByteArrayView json)
{
    // Inside JSON, a character XML cannot carry can only stand in a string
    // (anywhere else the JSON is invalid anyway), where a \u escape means the same.
    return escape(QString::fromUtf8(json), false, [](char32_t, QStringView units) {
        QString out;
        for (const QChar u : units)
            out += QStringLiteral("\\u%1").arg(u.unicode(), 4, 16, QLatin1Char('0'));
        return out;
    });
}

// <gcm xmlns="google:mobile:data">JSON</gcm>
QString gcmElement(const QByteArray &json)
{
    return QStringLiteral("<gcm xmlns=\"%1\">%2</gcm>").arg(QLatin1String(kGcmNamespace), gcmText(json));
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
    // One pass over a table: 0 copies the byte, 1 needs an entity (for '"' and '\''
    // only in attribute values), 2 leaves the fast path.
    using Classes = std::array<quint8, 256>;
    static constexpr auto classes = [](bool attribute) {
        Classes c {};
        for (int b = 0; b < 256; ++b)
            c[b] = (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b > 0x7e ? 2 : 0;
        c['&'] = c['<'] = c['>'] = 1;
        if (attribute)
            c['"'] = c['\''] = 1;
        return c;
    };
    static constexpr Classes kText = classes(false), kAttribute = classes(true);
    const Classes &kClass = quotes ? kAttribute : kText;
    const auto *const begin = reinterpret_cast<const uchar *>(text.data());
    const auto *const end = begin + text.size();
    const qsizetype at = out.size();
    out.resize(at + text.size()); // entities make it longer; appended as they come
    char *dst = out.data() + at;
    for (const uchar *p = begin; p != end; ++p) {
        const quint8 cls = kClass[*p];
        if (cls == 0) {
            *dst++ = char(*p);
            continue;
        }
        if (cls == 2) {
            out.truncate(at);
            return false;
        }
        const char *entity = *p == '&' ? "&amp;"
            : *p == '<'                ? "&lt;"
            : *p == '>'                ? "&gt;"
            : *p == '"'                ? "&quot;"
                                       : "&apos;";
        const qsizetype written = dst - out.data();
        const qsizetype entityLength = qsizetype(std::strlen(entity));
        out.resize(out.size() + entityLength - 1);
        dst = out.data() + written;
        std::memcpy(dst, entity, size_t(entityLength));
        dst += entityLength;
    }
    out.truncate(dst - out.data());
    return true;
}

// Escaping is character by character, so a text escaped in pieces is the whole escaped.
void appendGcmText(QByteArray &out, QByteArrayView json)
{
    if (!appendEscapedAscii(out, json, false))
        out += gcmText(json).toUtf8();
}

void appendIdAttribute(QByteArray &out, const QString &stanzaId)
{
    const bool ascii
        = std::all_of(stanzaId.cbegin(), stanzaId.cend(), [](QChar c) { return c.unicode() < 0x80; });
    if (!ascii || !appendEscapedAscii(out, stanzaId.toLatin1(), true))
        out += escapeXml(stanzaId).toUtf8();
}

} // namespace

GcmCopies::GcmCopies(QByteArrayView jsonBefore, QByteArrayView jsonAfter)
{
    m_head = "\"><gcm xmlns=\"";
    m_head += kGcmNamespace;
    m_head += "\">";
    appendGcmText(m_head, jsonBefore);
    appendGcmText(m_tail, jsonAfter);
    m_tail += "</gcm></message>";
}

QByteArray GcmCopies::stanza(const QString &messageId) const
{
    // The usual id (ccscore's own, or a number) means itself in JSON, in XML text and in
    // an attribute: it is copied in twice, into one allocation.
    const bool plain = !messageId.isEmpty() && std::all_of(messageId.cbegin(), messageId.cend(), [](QChar c) {
        const char16_t u = c.unicode();
        return u >= 0x20 && u < 0x7f && u != u'"' && u != u'\\' && u != u'&' && u != u'<' && u != u'>'
            && u != u'\'';
    });
    if (plain) {
        static constexpr char kOpen[] = "<message id=\"";
        const qsizetype open = qsizetype(sizeof(kOpen) - 1), n = messageId.size();
        QByteArray out(open + n + m_head.size() + 1 + n + 1 + m_tail.size(), Qt::Uninitialized);
        char *dst = out.data();
        const auto copyId = [&dst, &messageId, n] {
            const QChar *src = messageId.constData();
            for (qsizetype i = 0; i < n; ++i)
                *dst++ = char(src[i].unicode());
        };
        dst = std::copy_n(kOpen, open, dst);
        copyId();
        dst = std::copy_n(m_head.constData(), m_head.size(), dst);
        *dst++ = '"';
        copyId();
        *dst++ = '"';
        std::copy_n(m_tail.constData(), m_tail.size(), dst);
        return out;
    }
    QByteArray idJson;
    json::appendString(idJson, messageId);
    QByteArray out;
    out.reserve(m_head.size() + m_tail.size() + 2 * idJson.size() + 16);
    if (messageId.isEmpty()) { // no id attribute, as gcmMessage() writes it
        out += "<message";
        out += QByteArrayView(m_head).sliced(1);
    } else {
        out += "<message id=\"";
        appendIdAttribute(out, messageId);
        out += m_head;
    }
    appendGcmText(out, idJson);
    out += m_tail;
    return out;
}

QByteArray gcmMessage(const QString &stanzaId, const QByteArray &json)
{
    // Printable ASCII (nearly everything) is escaped byte for byte; anything else by
    // characters. A copy's stanza (GcmCopies) is made of the same pieces.
    QByteArray out;
    out.reserve(json.size() + stanzaId.size() + 96);
    out += "<message";
    if (!stanzaId.isEmpty()) {
        out += " id=\"";
        appendIdAttribute(out, stanzaId);
        out += '"';
    }
    out += "><gcm xmlns=\"";
    out += kGcmNamespace;
    out += "\">";
    appendGcmText(out, json);
    out += "</gcm></message>";
    return out;
}

namespace {

// Unescapes the text of a plain stanza: *out is `raw` itself when it holds no entity
// (no copy), else the unescaped bytes, written to *buffer. False for anything the fast
// path leaves to the XML reader (other bytes, other entities, "]]>" in text).
bool unescapePlain(QByteArrayView raw, bool attribute, QByteArrayView *out, QByteArray *buffer)
{
    // 0: printable ASCII that means itself; anything else is looked at below.
    static constexpr auto kPlain = [] {
        std::array<bool, 256> plain {};
        for (int b = 0x20; b <= 0x7e; ++b)
            plain[b] = b != '&' && b != '<' && b != '>';
        return plain;
    }();
    // kPlain for eight bytes at once: none below 0x20, above 0x7e, or one of & < >.
    const auto allPlain = [](const char *p) {
        constexpr quint64 ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
        quint64 x;
        std::memcpy(&x, p, sizeof x);
        const auto hasZero = [](quint64 v) { return (v - ones) & ~v & highs; };
        const quint64 below = (x - ones * 0x20) & ~x & highs;
        const quint64 above = ((x + ones * (0x7f - 0x7e)) | x) & highs;
        return (below | above | hasZero(x ^ (ones * '&')) | hasZero(x ^ (ones * '<'))
                   | hasZero(x ^ (ones * '>')))
            == 0;
    };
    bool entities = false;
    for (qsizetype i = 0; i < raw.size(); ++i) {
        while (i + 8 <= raw.size() && allPlain(raw.data() + i))
            i += 8;
        if (i == raw.size())
            break;
        const auto c = static_cast<unsigned char>(raw[i]);
        if (kPlain[c])
            continue;
        if (c == '&') {
            entities = true;
            continue;
        }
        if (c == '<')
            return false;
        if (c == '>') {
            if (!attribute && i >= 2 && raw[i - 1] == ']' && raw[i - 2] == ']')
                return false; // "]]>" is not allowed in text
            continue;
        }
        // Tabs and line feeds mean themselves in text; in an attribute value XML
        // turns them into spaces, and carriage returns are normalized everywhere.
        if (attribute || (c != '\t' && c != '\n'))
            return false;
    }
    if (!entities) {
        *out = raw;
        return true;
    }
    // Entities only shorten the text.
    QByteArray text(raw.size(), Qt::Uninitialized);
    char *dst = text.data();
    qsizetype run = 0;
    for (qsizetype i = 0; i < raw.size(); ++i) {
        if (raw[i] != '&')
            continue;
        dst = std::copy_n(raw.data() + run, i - run, dst);
        const QByteArrayView rest = raw.sliced(i);
        char c;
        qsizetype length;
        if (rest.startsWith("&amp;"))
            c = '&', length = 5;
        else if (rest.startsWith("&lt;"))
            c = '<', length = 4;
        else if (rest.startsWith("&gt;"))
            c = '>', length = 4;
        else if (rest.startsWith("&quot;"))
            c = '"', length = 6;
        else if (rest.startsWith("&apos;"))
            c = '\'', length = 6;
        else
            return false; // a character reference or a bad entity: the reader decides
        *dst++ = c;
        i += length - 1;
        run = i + 1;
    }
    dst = std::copy_n(raw.data() + run, raw.size() - run, dst);
    text.truncate(dst - text.constData());
    *buffer = std::move(text);
    *out = *buffer;
    return true;
}

} // namespace

qsizetype readPlainGcmMessage(QByteArrayView bytes, PlainGcm *out, qsizetype maxJsonChars)
{
    static constexpr QByteArrayView open("<message");
    static constexpr QByteArrayView idOpen(" id=\"");
    static constexpr QByteArrayView gcmOpen("><gcm xmlns=\"google:mobile:data\">");
    static constexpr QByteArrayView close("</gcm></message>");
    qsizetype pos = 0;
    enum Take { Taken, Short, Other };
    auto take = [&](QByteArrayView literal) {
        const QByteArrayView rest = bytes.sliced(pos);
        if (rest.startsWith(literal)) {
            pos += literal.size();
            return Taken;
        }
        return rest.size() < literal.size() && literal.startsWith(rest) ? Short : Other;
    };
    if (const Take t = take(open); t != Taken)
        return t == Short ? -1 : 0;
    if (pos == bytes.size())
        return -1;
    // Unescaped text goes to buffers of its own until the stanza is known to be taken:
    // *out, and what its views show, stays as it was otherwise.
    QByteArrayView id, json;
    QByteArray idBuffer, jsonBuffer;
    if (bytes[pos] == ' ') {
        if (const Take t = take(idOpen); t != Taken)
            return t == Short ? -1 : 0;
        const qsizetype end = bytes.indexOf('"', pos);
        if (end < 0)
            return -1;
        if (!unescapePlain(bytes.sliced(pos, end - pos), true, &id, &idBuffer))
            return 0;
        pos = end + 1;
    }
    if (const Take t = take(gcmOpen); t != Taken)
        return t == Short ? -1 : 0;
    const qsizetype end = bytes.indexOf('<', pos);
    // Entities only shorten the text, so its bytes bound its characters.
    if ((end < 0 ? bytes.size() : end) - pos > maxJsonChars)
        return 0;
    if (end < 0)
        return -1;
    if (!unescapePlain(bytes.sliced(pos, end - pos), false, &json, &jsonBuffer))
        return 0;
    pos = end;
    if (const Take t = take(close); t != Taken)
        return t == Short ? -1 : 0;
    // A moved QByteArray keeps its data where it was; the views are set anew all the same.
    const bool idUnescaped = !idBuffer.isNull(), jsonUnescaped = !jsonBuffer.isNull();
    out->m_id = std::move(idBuffer);
    out->m_json = std::move(jsonBuffer);
    out->id = idUnescaped ? QByteArrayView(out->m_id) : id;
    out->json = jsonUnescaped ? QByteArrayView(out->m_json) : json;
    return pos;
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
