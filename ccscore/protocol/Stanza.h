#pragma once

#include <QByteArray>
#include <QString>

namespace ccs::stanza {

// XML text escaping for element content and attribute values: & < > " ' and
// characters XML 1.0 cannot carry are refused (returns false from isXmlSafe).
QString escapeXml(QStringView text);
bool isXmlSafe(QStringView text);

// <message id="ID"><gcm xmlns="google:mobile:data">JSON</gcm></message>, with
// the JSON escaped so that no payload can close the gcm element.
QByteArray gcmMessage(const QString &stanzaId, const QByteArray &json);
// The stanza error CCS sends for a request it cannot take.
QByteArray gcmStanzaError(const QString &stanzaId, const QString &to, const QByteArray &originalJson,
                          const QString &text);

} // namespace ccs::stanza
