#pragma once

#include <QByteArray>
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
// The stanza error CCS sends for a request it cannot take.
QByteArray gcmStanzaError(
    const QString &stanzaId, const QString &to, const QByteArray &originalJson, const QString &text);

} // namespace ccs::stanza
