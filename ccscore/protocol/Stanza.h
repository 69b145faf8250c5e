#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace ccs::stanza {

// XML text escaping for element content and attribute values: & < > " '
// become entities (so "]]>" never appears); characters XML 1.0 cannot carry
// (controls, U+FFFE/U+FFFF, lone surrogates) become U+FFFD. isXmlSafe() tells
// whether a text has none of those.
QString escapeXml(QStringView text);
bool isXmlSafe(QStringView text);

// <message id="ID"><gcm xmlns="google:mobile:data">JSON</gcm></message> (no id
// attribute when ID is empty), UTF-8. & < > in the JSON become entities, so no
// payload can close the gcm element; characters XML cannot carry become \uXXXX
// escapes, which mean the same inside a JSON string.
QByteArray gcmMessage(const QString &stanzaId, const QByteArray &json);

// gcmMessage(ID, BEFORE + ID as a JSON string + AFTER) for the copies of one message,
// which differ only in their message_id (the stanza's id too): what does not depend on
// the id is escaped once, here, and each copy's stanza is the same bytes gcmMessage()
// writes for it. BEFORE and AFTER are the copy's JSON cut around its message_id value.
class GcmCopies
{
public:
    GcmCopies() = default;
    GcmCopies(QByteArrayView jsonBefore, QByteArrayView jsonAfter);
    QByteArray stanza(const QString &messageId) const;

private:
    QByteArray m_head; // "><gcm xmlns=...>" and BEFORE, escaped
    QByteArray m_tail; // AFTER, escaped, and the closing tags
};

// The id and JSON of a plain stanza, as readPlainGcmMessage() reads them, in bytes
// (printable ASCII, tabs and line feeds: UTF-8 and Latin-1 alike). A text without
// entities is a view into the bytes read, not a copy; a text with entities is
// unescaped into a buffer held here. So the views are valid while both the bytes
// read and this object live, and this object is neither copied nor moved.
class PlainGcm
{
public:
    PlainGcm() = default;
    Q_DISABLE_COPY_MOVE(PlainGcm)

    QByteArrayView id; // empty when the <message> has no id attribute
    QByteArrayView json;

private:
    friend qsizetype readPlainGcmMessage(QByteArrayView, PlainGcm *, qsizetype);
    QByteArray m_id, m_json; // unescaped, when the text held entities
};

// Reads one stanza of the exact form gcmMessage() writes for printable ASCII,
// the form of nearly everything a CCS server sends, from the start of `bytes`:
//   <message>, or <message id="ID">, then <gcm xmlns="google:mobile:data">JSON</gcm></message>
// where ID and JSON are printable ASCII (JSON may also hold tabs and line feeds)
// with no entity but &amp; &lt; &gt; &quot; &apos;, and JSON is at most
// maxJsonChars long and holds no "]]>". Returns the bytes it took, with out->id
// and out->json unescaped (see PlainGcm: no copy without entities); -1 when the
// bytes end before the stanza does but could still become one; 0 when they are
// anything else (then an XML reader must read them: this is a fast path, never a
// judgement on well-formedness). *out is left as it was unless a stanza is taken.
qsizetype readPlainGcmMessage(QByteArrayView bytes, PlainGcm *out, qsizetype maxJsonChars);

// The stanza error CCS sends for a request it cannot take.
QByteArray gcmStanzaError(
    const QString &stanzaId, const QString &to, const QByteArray &originalJson, const QString &text);

} // namespace ccs::stanza
