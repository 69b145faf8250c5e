#include "Redaction.h"

#include <QRegularExpression>
#include <QStringMatcher>

#include <algorithm>
#include <array>

namespace ccs {

namespace {
const QString &redacted()
{
    static const QString text = QString::fromLatin1(kRedacted);
    return text;
}

bool isBase64Char(QChar qc)
{
    const char16_t c = qc.unicode();
    return (c >= u'A' && c <= u'Z') || (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'+'
        || c == u'/';
}

// What base64 makes of the key's bytes whatever surrounds them: for each of
// the three alignments the key can start at, the 4-character groups that hold
// key bytes only. Any base64 text that encodes the key contains one of them.
QStringList encodedKeyCores(const QByteArray &key)
{
    QStringList cores;
    for (int offset = 0; offset < 3; ++offset) {
        const QByteArray encoded = (QByteArray(offset, '\0') + key).toBase64();
        const qsizetype first = (offset + 2) / 3; // the first group of key bytes only
        const qsizetype last = (offset + key.size()) / 3 - 1; // the last one
        if (last - first + 1 >= 2) // at least 8 characters, or it would match by chance
            cores.append(QString::fromLatin1(encoded.mid(4 * first, 4 * (last - first + 1))));
    }
    return cores;
}

// The whole base64 run around text[at, at + length): the key among other bytes.
// Returns where to look next.
qsizetype redactBase64Run(QString *text, qsizetype at, qsizetype length)
{
    qsizetype start = at, end = at + length;
    while (start > 0 && isBase64Char(text->at(start - 1)))
        --start;
    while (end < text->size() && isBase64Char(text->at(end)))
        ++end;
    for (int pad = 0; pad < 2 && end < text->size() && text->at(end) == u'='; ++pad)
        ++end;
    text->replace(start, end - start, redacted());
    return start + redacted().size();
}
} // namespace

Redactor::Redactor(const RedactionSecrets &secrets)
{
    const QString &key = secrets.apiKey;
    if (key.isEmpty())
        return;
    const QByteArray keyBytes = key.toUtf8();
    // The exact forms, longest first: the PLAIN payloads hold the key's own bytes.
    QStringList exact;
    if (!secrets.senderId.isEmpty()) {
        const QString user = secrets.domain.isEmpty() ? secrets.senderId
                                                      : secrets.senderId + QLatin1Char('@') + secrets.domain;
        for (const QString &authcid : {user, secrets.senderId}) {
            const QByteArray plain = QByteArray(1, '\0') + authcid.toUtf8() + QByteArray(1, '\0') + keyBytes;
            exact.append(QString::fromLatin1(plain.toBase64()));
        }
    }
    exact.append(key);
    const QString escaped = key.toHtmlEscaped();
    if (escaped != key)
        exact.append(escaped);
    // (The key's own base64 is one case of encodedKeyCores(): the whole run goes.)
    for (const QString &form : exact)
        m_exact.emplace_back(form);
    for (const QString &core : encodedKeyCores(keyBytes))
        m_encodedCores.emplace_back(core);
}

QString Redactor::operator()(QString text) const
{
    // Every SASL exchange element, whatever its prefix or attributes, payload or not.
    static const QRegularExpression saslPayload(
        QStringLiteral("(<(?:[A-Za-z0-9_.-]+:)?(auth|response|challenge|success)\\b[^>]*(?<!/)>)[^<]+(</)"));
    // The expression only where one of the names appears: most stanzas have none.
    static const std::array<QStringMatcher, 4> names {QStringMatcher(QStringLiteral("auth")),
        QStringMatcher(QStringLiteral("response")), QStringMatcher(QStringLiteral("challenge")),
        QStringMatcher(QStringLiteral("success"))};
    if (std::any_of(
            names.begin(), names.end(), [&](const QStringMatcher &m) { return m.indexIn(text) >= 0; }))
        text.replace(saslPayload, QStringLiteral("\\1[redacted]\\3"));
    for (const QStringMatcher &form : m_exact) {
        for (qsizetype at = form.indexIn(text); at >= 0; at = form.indexIn(text, at + redacted().size()))
            text.replace(at, form.pattern().size(), redacted());
    }
    for (const QStringMatcher &core : m_encodedCores) {
        for (qsizetype at = core.indexIn(text); at >= 0;)
            at = core.indexIn(text, redactBase64Run(&text, at, core.pattern().size()));
    }
    return text;
}

QString redactSecrets(QString text, const RedactionSecrets &secrets)
{
    return Redactor(secrets)(std::move(text));
}

} // namespace ccs
