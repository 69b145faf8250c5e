#include "JsonCodec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

#include <array>
#include <cmath>
#include <limits>
#include <optional>

namespace ccs::json {

namespace {

// Deep enough for any CCS message, shallow enough that hostile input cannot
// exhaust the stack of this recursive parser.
constexpr int kMaxDepth = 64;

// A recursive-descent parser over UTF-8 bytes. QJsonDocument accepts duplicate
// keys and reports only a byte offset, so CCS input goes through this instead.
class StrictParser
{
public:
    explicit StrictParser(QByteArrayView text)
        : m_text(text)
    { }

    bool parseTopObject(QJsonObject *out, ParseError *error)
    {
        skipWhitespace();
        if (atEnd())
            return fail(QStringLiteral("expected a JSON object '{' but the text is empty"), error);
        if (peek() != '{') {
            if (m_pos == 0 && m_text.startsWith("\xEF\xBB\xBF"))
                return fail(QStringLiteral("expected '{' but found a byte order mark"), error);
            return fail(QStringLiteral("expected a JSON object '{' but found %1").arg(describeHere()), error);
        }
        QJsonValue value;
        if (!parseValue(&value, 0))
            return fail(m_error, error);
        skipWhitespace();
        if (!atEnd())
            return fail(QStringLiteral("expected the end of the text after the object but found %1")
                            .arg(describeHere()),
                error);
        if (out)
            *out = value.toObject();
        return true;
    }

private:
    bool atEnd() const { return m_pos >= m_text.size(); }
    char peek() const { return m_text[m_pos]; }

    void skipWhitespace()
    {
        while (!atEnd()) {
            const char c = peek();
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                return;
            ++m_pos;
        }
    }

    // line:column of m_pos, 1-based; columns count characters, not bytes.
    QString position() const
    {
        int line = 1;
        int column = 1;
        for (qsizetype i = 0; i < m_pos && i < m_text.size(); ++i) {
            const auto c = static_cast<unsigned char>(m_text[i]);
            if (c == '\n') {
                ++line;
                column = 1;
            } else if ((c & 0xC0) != 0x80) {
                ++column;
            }
        }
        return QStringLiteral("%1:%2").arg(line).arg(column);
    }

    // What stands at m_pos, said so that a person recognises it.
    QString describeHere() const
    {
        if (atEnd())
            return QStringLiteral("the end of the text");
        const auto c = static_cast<unsigned char>(peek());
        if (c == '/')
            return QStringLiteral("'/' (comments are not allowed in JSON)");
        if (c >= 0x80) {
            const QByteArrayView rest = m_text.sliced(m_pos, std::min<qsizetype>(4, m_text.size() - m_pos));
            if (rest.startsWith("\xE2\x80\x9C") || rest.startsWith("\xE2\x80\x9D")
                || rest.startsWith("\xE2\x80\x98") || rest.startsWith("\xE2\x80\x99"))
                return QStringLiteral("a curly quote (JSON needs straight quotes \")");
            return QStringLiteral("a non-ASCII character outside a string");
        }
        if (c < 0x20)
            return QStringLiteral("control character U+%1").arg(c, 4, 16, QLatin1Char('0'));
        return QStringLiteral("'%1'").arg(QLatin1Char(static_cast<char>(c)));
    }

    bool fail(const QString &what)
    {
        if (m_error.isEmpty()) {
            m_error = what;
            m_errorPos = m_pos;
        }
        return false;
    }

    bool fail(const QString &what, ParseError *error)
    {
        fail(what);
        if (error) {
            m_pos = m_errorPos;
            error->message = QStringLiteral("JSON error at line %1: %2").arg(position(), m_error);
            error->offset = static_cast<int>(m_errorPos);
        }
        return false;
    }

    bool expected(const char *what)
    {
        return fail(QStringLiteral("expected %1 but found %2").arg(QLatin1String(what), describeHere()));
    }

    bool parseValue(QJsonValue *out, int depth)
    {
        skipWhitespace();
        if (atEnd())
            return expected("a value");
        switch (peek()) {
        case '{':
            return parseObject(out, depth + 1);
        case '[':
            return parseArray(out, depth + 1);
        case '"': {
            QString s;
            if (!parseString(&s))
                return false;
            *out = QJsonValue(s);
            return true;
        }
        case 't':
            return parseLiteral("true", QJsonValue(true), out);
        case 'f':
            return parseLiteral("false", QJsonValue(false), out);
        case 'n':
            return parseLiteral("null", QJsonValue(QJsonValue::Null), out);
        default:
            if (peek() == '-' || (peek() >= '0' && peek() <= '9'))
                return parseNumber(out);
            return expected("a value (object, array, string, number, true, false or null)");
        }
    }

    bool parseLiteral(const char *word, const QJsonValue &value, QJsonValue *out)
    {
        const QByteArrayView w(word);
        if (m_text.sliced(m_pos).startsWith(w)) {
            m_pos += w.size();
            *out = value;
            return true;
        }
        return fail(QStringLiteral("expected '%1' but found %2").arg(QLatin1String(word), describeHere()));
    }

    bool parseObject(QJsonValue *out, int depth)
    {
        if (depth > kMaxDepth)
            return fail(QStringLiteral("nesting deeper than %1 levels").arg(kMaxDepth));
        ++m_pos; // '{'
        QJsonObject object;
        skipWhitespace();
        if (!atEnd() && peek() == '}') {
            ++m_pos;
            *out = object;
            return true;
        }
        for (;;) {
            skipWhitespace();
            if (atEnd() || peek() != '"') {
                if (!atEnd() && peek() == '}')
                    return fail(QStringLiteral("expected a member name after ',' but found '}' (trailing "
                                               "commas are not allowed)"));
                return expected("a member name in double quotes");
            }
            const qsizetype keyPos = m_pos;
            QString key;
            if (!parseString(&key))
                return false;
            if (object.contains(key)) {
                m_pos = keyPos;
                return fail(QStringLiteral("duplicate member name \"%1\"").arg(key));
            }
            skipWhitespace();
            if (atEnd() || peek() != ':')
                return expected("':' after a member name");
            ++m_pos;
            QJsonValue value;
            if (!parseValue(&value, depth))
                return false;
            object.insert(key, value);
            skipWhitespace();
            if (atEnd())
                return expected("',' or '}'");
            if (peek() == ',') {
                ++m_pos;
                continue;
            }
            if (peek() == '}') {
                ++m_pos;
                *out = object;
                return true;
            }
            return expected("',' or '}' after a member");
        }
    }

    bool parseArray(QJsonValue *out, int depth)
    {
        if (depth > kMaxDepth)
            return fail(QStringLiteral("nesting deeper than %1 levels").arg(kMaxDepth));
        ++m_pos; // '['
        QJsonArray array;
        skipWhitespace();
        if (!atEnd() && peek() == ']') {
            ++m_pos;
            *out = array;
            return true;
        }
        for (;;) {
            skipWhitespace();
            if (!atEnd() && peek() == ']')
                return fail(
                    QStringLiteral("expected a value after ',' but found ']' (trailing commas are not "
                                   "allowed)"));
            QJsonValue value;
            if (!parseValue(&value, depth))
                return false;
            array.append(value);
            skipWhitespace();
            if (atEnd())
                return expected("',' or ']'");
            if (peek() == ',') {
                ++m_pos;
                continue;
            }
            if (peek() == ']') {
                ++m_pos;
                *out = array;
                return true;
            }
            return expected("',' or ']' after an array element");
        }
    }

    bool parseHex4(char32_t *out)
    {
        if (m_text.size() - m_pos < 4)
            return fail(QStringLiteral("expected four hex digits after \\u"));
        char32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = m_text[m_pos + i];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= char32_t(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= char32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= char32_t(c - 'A' + 10);
            else
                return fail(QStringLiteral("expected four hex digits after \\u"));
        }
        m_pos += 4;
        *out = v;
        return true;
    }

    // One UTF-8 sequence at m_pos; refuses overlong forms, surrogates and
    // code points above U+10FFFF.
    bool decodeUtf8(char32_t *out)
    {
        const auto b0 = static_cast<unsigned char>(m_text[m_pos]);
        int length = 0;
        char32_t cp = 0;
        char32_t min = 0;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            length = 2;
            cp = b0 & 0x1F;
            min = 0x80;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            length = 3;
            cp = b0 & 0x0F;
            min = 0x800;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            length = 4;
            cp = b0 & 0x07;
            min = 0x10000;
        } else {
            return fail(QStringLiteral("invalid UTF-8 byte 0x%1").arg(b0, 2, 16, QLatin1Char('0')));
        }
        if (m_text.size() - m_pos < length)
            return fail(QStringLiteral("invalid UTF-8: the text ends inside a character"));
        for (int i = 1; i < length; ++i) {
            const auto b = static_cast<unsigned char>(m_text[m_pos + i]);
            if ((b & 0xC0) != 0x80)
                return fail(QStringLiteral("invalid UTF-8 sequence"));
            cp = (cp << 6) | (b & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail(QStringLiteral("invalid UTF-8 sequence"));
        m_pos += length;
        *out = cp;
        return true;
    }

    static void append(QString *s, char32_t cp)
    {
        if (cp < 0x10000) {
            s->append(QChar(static_cast<char16_t>(cp)));
        } else {
            s->append(QChar::highSurrogate(cp));
            s->append(QChar::lowSurrogate(cp));
        }
    }

    bool parseString(QString *out)
    {
        ++m_pos; // '"'
        QString s;
        for (;;) {
            if (atEnd())
                return fail(QStringLiteral("expected '\"' to close the string but the text ended"));
            const auto c = static_cast<unsigned char>(peek());
            if (c == '"') {
                ++m_pos;
                *out = s;
                return true;
            }
            if (c < 0x20)
                return fail(QStringLiteral("control character U+%1 inside a string (escape it)")
                                .arg(c, 4, 16, QLatin1Char('0')));
            if (c == '\\') {
                ++m_pos;
                if (atEnd())
                    return fail(QStringLiteral("expected an escape after '\\' but the text ended"));
                const char e = peek();
                ++m_pos;
                switch (e) {
                case '"':
                    s.append(QLatin1Char('"'));
                    break;
                case '\\':
                    s.append(QLatin1Char('\\'));
                    break;
                case '/':
                    s.append(QLatin1Char('/'));
                    break;
                case 'b':
                    s.append(QLatin1Char('\b'));
                    break;
                case 'f':
                    s.append(QLatin1Char('\f'));
                    break;
                case 'n':
                    s.append(QLatin1Char('\n'));
                    break;
                case 'r':
                    s.append(QLatin1Char('\r'));
                    break;
                case 't':
                    s.append(QLatin1Char('\t'));
                    break;
                case 'u': {
                    char32_t cp = 0;
                    if (!parseHex4(&cp))
                        return false;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        char32_t low = 0;
                        if (!m_text.sliced(m_pos).startsWith("\\u"))
                            return fail(
                                QStringLiteral("a high surrogate \\u escape must be followed by a low "
                                               "one"));
                        m_pos += 2;
                        if (!parseHex4(&low))
                            return false;
                        if (low < 0xDC00 || low > 0xDFFF)
                            return fail(
                                QStringLiteral("a high surrogate \\u escape must be followed by a low "
                                               "one"));
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        return fail(QStringLiteral("a low surrogate \\u escape without a high one"));
                    }
                    append(&s, cp);
                    break;
                }
                default:
                    m_pos -= 2; // point at the backslash
                    return fail(QStringLiteral("invalid escape '\\%1' in a string").arg(QLatin1Char(e)));
                }
                continue;
            }
            if (c < 0x80) {
                // A run of plain ASCII (most of every CCS message) goes in at once.
                qsizetype end = m_pos + 1;
                while (end < m_text.size()) {
                    const auto d = static_cast<unsigned char>(m_text[end]);
                    if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\')
                        break;
                    ++end;
                }
                s.append(QLatin1String(m_text.data() + m_pos, end - m_pos));
                m_pos = end;
                continue;
            }
            char32_t cp = 0;
            if (!decodeUtf8(&cp))
                return false;
            append(&s, cp);
        }
    }

    bool parseNumber(QJsonValue *out)
    {
        const qsizetype start = m_pos;
        auto digit = [this] { return !atEnd() && peek() >= '0' && peek() <= '9'; };
        if (peek() == '-')
            ++m_pos;
        if (!digit())
            return expected("a digit");
        if (peek() == '0') {
            ++m_pos;
            if (digit())
                return fail(QStringLiteral("numbers must not have leading zeros"));
        } else {
            while (digit())
                ++m_pos;
        }
        bool integral = true;
        if (!atEnd() && peek() == '.') {
            integral = false;
            ++m_pos;
            if (!digit())
                return expected("a digit after '.'");
            while (digit())
                ++m_pos;
        }
        if (!atEnd() && (peek() == 'e' || peek() == 'E')) {
            integral = false;
            ++m_pos;
            if (!atEnd() && (peek() == '+' || peek() == '-'))
                ++m_pos;
            if (!digit())
                return expected("a digit in the exponent");
            while (digit())
                ++m_pos;
        }
        const QByteArray literal = m_text.sliced(start, m_pos - start).toByteArray();
        bool ok = false;
        if (integral) {
            const qint64 v = literal.toLongLong(&ok);
            if (ok) {
                *out = QJsonValue(v);
                return true;
            }
        }
        const double d = literal.toDouble(&ok);
        if (!ok || !std::isfinite(d)) {
            m_pos = start;
            return fail(QStringLiteral("number out of range"));
        }
        *out = QJsonValue(d);
        return true;
    }

    QByteArrayView m_text;
    qsizetype m_pos = 0;
    QString m_error;
    qsizetype m_errorPos = 0;
};

ParseError fieldTypeError(const QString &field, const char *type)
{
    return ParseError {QStringLiteral("Field \"%1\" must be a JSON %2").arg(field, QLatin1String(type)), -1};
}

// Reads optional string fields into the members; a field of the wrong type is
// an error naming it.
struct FieldReader {
    QJsonObject object;
    std::optional<ParseError> error;

    // Absent and null read as empty; null stays in `object` so that nothing is lost.
    QString string(const QString &key)
    {
        const QJsonValue v = object.value(key);
        if (v.isUndefined() || v.isNull())
            return {};
        if (!v.isString()) {
            typeError(key, "string");
            return QString();
        }
        object.remove(key);
        return v.toString();
    }

    QJsonObject objectField(const QString &key)
    {
        const QJsonValue v = object.value(key);
        if (v.isUndefined() || v.isNull())
            return {};
        if (!v.isObject()) {
            typeError(key, "object");
            return QJsonObject();
        }
        object.remove(key);
        return v.toObject();
    }

    std::optional<qint64> integer(const QString &key)
    {
        const QJsonValue v = object.value(key);
        if (v.isUndefined() || v.isNull())
            return std::nullopt;
        const qint64 missing = std::numeric_limits<qint64>::min();
        const qint64 i = v.toInteger(missing);
        if (!v.isDouble() || i == missing) {
            typeError(key, "integer");
            return std::nullopt;
        }
        object.remove(key);
        return i;
    }

    void typeError(const QString &key, const char *type)
    {
        if (!error)
            error = fieldTypeError(key, type);
    }
};

template<typename T> ServerMessage finish(FieldReader &reader, T &&message)
{
    if (reader.error)
        return *reader.error;
    message.extra = reader.object;
    return std::forward<T>(message);
}

ServerMessage parseUpstream(FieldReader &reader)
{
    UpstreamMessage m;
    m.from = reader.string(QStringLiteral("from"));
    m.messageId = reader.string(QStringLiteral("message_id"));
    m.category = reader.string(QStringLiteral("category"));
    m.data = reader.objectField(QStringLiteral("data"));
    m.timeToLive = reader.integer(QStringLiteral("time_to_live"));
    if (!reader.error && m.messageId.isEmpty())
        reader.error
            = ParseError {QStringLiteral("Upstream message without \"message_id\": it cannot be ACKed"), -1};
    else if (!reader.error && m.from.isEmpty())
        reader.error
            = ParseError {QStringLiteral("Upstream message without \"from\": it cannot be ACKed"), -1};
    return finish(reader, std::move(m));
}

ServerMessage parseAck(FieldReader &reader)
{
    Ack a;
    a.messageId = reader.string(QStringLiteral("message_id"));
    a.from = reader.string(QStringLiteral("from"));
    a.to = reader.string(QStringLiteral("to"));
    return finish(reader, std::move(a));
}

ServerMessage parseNack(FieldReader &reader)
{
    Nack n;
    n.messageId = reader.string(QStringLiteral("message_id"));
    n.from = reader.string(QStringLiteral("from"));
    n.errorText = reader.string(QStringLiteral("error"));
    n.errorDescription = reader.string(QStringLiteral("error_description"));
    // Unknown or missing codes behave as INTERNAL_SERVER_ERROR; the text stays as received.
    n.code = NackCatalogue::fromName(n.errorText);
    return finish(reader, std::move(n));
}

ServerMessage parseReceipt(FieldReader &reader)
{
    Receipt r;
    r.messageId = reader.string(QStringLiteral("message_id"));
    r.from = reader.string(QStringLiteral("from"));
    r.category = reader.string(QStringLiteral("category"));
    FieldReader data {reader.objectField(QStringLiteral("data")), std::nullopt};
    r.messageStatus = data.string(QStringLiteral("message_status"));
    r.originalMessageId = data.string(QStringLiteral("original_message_id"));
    r.deviceRegistrationId = data.string(QStringLiteral("device_registration_id"));
    if (data.error && !reader.error)
        reader.error = ParseError {QStringLiteral("In \"data\": %1").arg(data.error->message), -1};
    if (reader.error)
        return *reader.error;
    r.extra = reader.object;
    // Unknown receipt data keys stay under extra.data so that toJson() puts them back.
    if (!data.object.isEmpty())
        r.extra.insert(QStringLiteral("data"), data.object);
    return r;
}

ServerMessage parseControl(FieldReader &reader)
{
    Control c;
    c.controlType = reader.string(QStringLiteral("control_type"));
    return finish(reader, std::move(c));
}

// The message_type of an object: empty when absent, an error when not a string.
bool messageType(const QJsonObject &object, QString *type, ParseError *error)
{
    const QJsonValue v = object.value(QLatin1String("message_type"));
    if (v.isUndefined() || v.isNull()) {
        type->clear();
        return true;
    }
    if (!v.isString()) {
        *error = fieldTypeError(QStringLiteral("message_type"), "string");
        return false;
    }
    *type = v.toString();
    return true;
}

} // namespace

bool parseObject(QByteArrayView text, QJsonObject *out, ParseError *error)
{
    StrictParser parser(text);
    return parser.parseTopObject(out, error);
}

namespace {

// The compact writer: byte for byte what QJsonDocument::toJson(Compact) writes
// (members in QJsonObject's order, the same escapes, the same numbers), in a
// third of the time, because every downstream message and every ACK passes here.

void writeString(QByteArray &out, QStringView s)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    const char16_t *p = s.utf16();
    const char16_t *const end = p + s.size();
    while (p != end) {
        const char16_t *run = p;
        while (p != end && *p >= 0x20 && *p < 0x80 && *p != u'"' && *p != u'\\')
            ++p;
        if (p != run) {
            const qsizetype at = out.size();
            out.resize(at + (p - run));
            char *dst = out.data() + at;
            while (run != p)
                *dst++ = char(*run++);
        }
        if (p == end)
            break;
        const char16_t u = *p++;
        if (u < 0x80) {
            out += '\\';
            switch (u) {
            case u'"':
                out += '"';
                break;
            case u'\\':
                out += '\\';
                break;
            case 0x8:
                out += 'b';
                break;
            case 0xc:
                out += 'f';
                break;
            case 0xa:
                out += 'n';
                break;
            case 0xd:
                out += 'r';
                break;
            case 0x9:
                out += 't';
                break;
            default:
                out += "u00";
                out += hex[u >> 4];
                out += hex[u & 0xf];
            }
        } else if (u < 0x800) {
            out += char(0xC0 | (u >> 6));
            out += char(0x80 | (u & 0x3F));
        } else if (QChar::isHighSurrogate(u) && p != end && QChar::isLowSurrogate(*p)) {
            const char32_t cp = QChar::surrogateToUcs4(u, *p++);
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else if (QChar::isSurrogate(u)) {
            // A lone surrogate has no UTF-8 form; Qt writes it as an escape.
            out += "\\u";
            out += hex[u >> 12];
            out += hex[(u >> 8) & 0xf];
            out += hex[(u >> 4) & 0xf];
            out += hex[u & 0xf];
        } else {
            out += char(0xE0 | (u >> 12));
            out += char(0x80 | ((u >> 6) & 0x3F));
            out += char(0x80 | (u & 0x3F));
        }
    }
    out += '"';
}

void writeValue(QByteArray &out, const QJsonValue &value);

void writeObject(QByteArray &out, const QJsonObject &object)
{
    out += '{';
    bool first = true;
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (!first)
            out += ',';
        first = false;
        writeString(out, it.key());
        out += ':';
        writeValue(out, it.value());
    }
    out += '}';
}

void writeValue(QByteArray &out, const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        out += "null";
        break;
    case QJsonValue::Bool:
        out += value.toBool() ? "true" : "false";
        break;
    case QJsonValue::String:
        writeString(out, value.toString());
        break;
    case QJsonValue::Object:
        writeObject(out, value.toObject());
        break;
    case QJsonValue::Array: {
        out += '[';
        const QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i) {
            if (i)
                out += ',';
            writeValue(out, array.at(i));
        }
        out += ']';
        break;
    }
    case QJsonValue::Double: {
        // Whole numbers up to 2^53 are written as integers, as Qt does; anything
        // else (fractions, huge values, -0) is Qt's own formatting, to stay identical.
        // (An integer past 2^53 has no exact double: toInteger() tells it apart.)
        const double d = value.toDouble();
        if (d == std::trunc(d) && std::fabs(d) <= 9007199254740992.0 && !(d == 0 && std::signbit(d))
            && value.toInteger() == qint64(d)) {
            out += QByteArray::number(qint64(d));
        } else {
            const QByteArray one = QJsonDocument(QJsonArray {value}).toJson(QJsonDocument::Compact);
            out += QByteArrayView(one).sliced(1, one.size() - 2); // without [ ]
        }
        break;
    }
    case QJsonValue::Undefined:
        break;
    }
}

} // namespace

QByteArray serializeAck(const Ack &ack)
{
    if (!ack.extra.isEmpty())
        return serialize(ack.toJson());
    // What serialize(ack.toJson()) writes, members in QJsonObject's (sorted) order.
    QByteArray out;
    out.reserve(64 + ack.from.size() + ack.messageId.size() + ack.to.size());
    out += '{';
    if (!ack.from.isEmpty()) {
        out += "\"from\":";
        writeString(out, ack.from);
        out += ',';
    }
    out += "\"message_id\":";
    writeString(out, ack.messageId);
    out += ",\"message_type\":\"ack\"";
    if (!ack.to.isEmpty()) {
        out += ",\"to\":";
        writeString(out, ack.to);
    }
    out += '}';
    return out;
}

QByteArray serialize(const QJsonObject &object)
{
    QByteArray out;
    out.reserve(256);
    writeObject(out, object);
    return out;
}

QByteArray serializePretty(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Indented);
}

std::optional<Ack> parsePlainAck(QByteArrayView json)
{
    const char *p = json.data();
    const char *const end = p + json.size();
    auto skipSpace = [&] {
        while (p != end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            ++p;
    };
    // A string of printable ASCII without escapes; false for anything else.
    auto plainString = [&](QByteArrayView *out) {
        if (p == end || *p != '"')
            return false;
        const char *start = ++p;
        while (p != end && *p != '"') {
            const auto c = static_cast<unsigned char>(*p);
            if (c < 0x20 || c >= 0x80 || c == '\\')
                return false;
            ++p;
        }
        if (p == end)
            return false;
        *out = QByteArrayView(start, p - start);
        ++p;
        return true;
    };
    enum Field { Type, Id, From, To };
    std::array<std::optional<QByteArrayView>, 4> fields;
    skipSpace();
    if (p == end || *p++ != '{')
        return std::nullopt;
    for (;;) {
        QByteArrayView key, value;
        skipSpace();
        if (!plainString(&key))
            return std::nullopt;
        skipSpace();
        if (p == end || *p++ != ':')
            return std::nullopt;
        skipSpace();
        if (!plainString(&value))
            return std::nullopt;
        Field field;
        if (key == "message_type")
            field = Type;
        else if (key == "message_id")
            field = Id;
        else if (key == "from")
            field = From;
        else if (key == "to")
            field = To;
        else
            return std::nullopt; // another member: the strict path keeps it in extra
        if (fields[field])
            return std::nullopt; // a duplicate: the strict path names the error
        fields[field] = value;
        skipSpace();
        if (p == end)
            return std::nullopt;
        if (*p == ',') {
            ++p;
            continue;
        }
        if (*p++ != '}')
            return std::nullopt;
        break;
    }
    skipSpace();
    if (p != end || fields[Type] != QByteArrayView("ack"))
        return std::nullopt;
    auto text
        = [](const std::optional<QByteArrayView> &v) { return v ? QString::fromLatin1(*v) : QString(); };
    Ack ack;
    ack.messageId = text(fields[Id]);
    ack.from = text(fields[From]);
    ack.to = text(fields[To]);
    return ack;
}

ServerMessage parseServerMessage(QByteArrayView json)
{
    if (auto ack = parsePlainAck(json))
        return std::move(*ack);
    QJsonObject object;
    ParseError error;
    if (!parseObject(json, &object, &error))
        return error;
    QString type;
    if (!messageType(object, &type, &error))
        return error;
    FieldReader reader {object, std::nullopt};
    reader.object.remove(QLatin1String("message_type"));
    if (type.isEmpty())
        return parseUpstream(reader);
    if (type == QLatin1String("ack"))
        return parseAck(reader);
    if (type == QLatin1String("nack"))
        return parseNack(reader);
    if (type == QLatin1String("receipt"))
        return parseReceipt(reader);
    if (type == QLatin1String("control"))
        return parseControl(reader);
    return UnknownMessage {type, object};
}

ClientMessage parseClientMessage(QByteArrayView json, QJsonObject *parsed)
{
    if (auto ack = parsePlainAck(json))
        return std::move(*ack);
    QJsonObject object;
    ParseError error;
    if (!parseObject(json, &object, &error))
        return error;
    if (parsed)
        *parsed = object;
    QString type;
    if (!messageType(object, &type, &error))
        return error;
    if (type.isEmpty())
        return DownstreamMessage::fromJson(object);
    if (type == QLatin1String("ack")) {
        FieldReader reader {object, std::nullopt};
        reader.object.remove(QLatin1String("message_type"));
        Ack a;
        a.messageId = reader.string(QStringLiteral("message_id"));
        a.to = reader.string(QStringLiteral("to"));
        a.from = reader.string(QStringLiteral("from"));
        if (reader.error)
            return *reader.error;
        a.extra = reader.object;
        return a;
    }
    return UnknownMessage {type, object};
}

} // namespace ccs::json
