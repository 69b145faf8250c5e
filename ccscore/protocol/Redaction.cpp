#include "Redaction.h"

#include <QRegularExpression>

namespace ccs {

namespace {
const QString &redacted()
{
    static const QString text = QString::fromLatin1(kRedacted);
    return text;
}

// Base64 runs that could carry the key: one that encodes the key and anything
// around it is at least as long as the key's own encoding minus the padding.
void redactEncodedKey(QString *text, const QByteArray &key)
{
    const qsizetype minimum = std::max<qsizetype>(4, (key.size() * 4) / 3);
    static const QRegularExpression base64Run(QStringLiteral("[A-Za-z0-9+/]{4,}={0,2}"));
    QString out;
    qsizetype last = 0;
    for (auto it = base64Run.globalMatch(*text); it.hasNext();) {
        const QRegularExpressionMatch match = it.next();
        if (match.capturedLength() < minimum)
            continue;
        // Any of the three alignments of the key inside the encoded bytes.
        bool holdsKey = false;
        const QStringView run = match.capturedView();
        for (qsizetype skip = 0; skip < 4 && !holdsKey; ++skip) {
            const QByteArray chunk = run.mid(skip).toLatin1();
            const qsizetype usable = chunk.size() - chunk.size() % 4;
            const auto decoded = QByteArray::fromBase64Encoding(chunk.left(usable));
            holdsKey = decoded.decodingStatus == QByteArray::Base64DecodingStatus::Ok
                && decoded.decoded.contains(key);
        }
        if (!holdsKey)
            continue;
        out += QStringView(*text).mid(last, match.capturedStart() - last);
        out += redacted();
        last = match.capturedEnd();
    }
    if (last == 0)
        return;
    out += QStringView(*text).mid(last);
    *text = out;
}
} // namespace

QString redactSecrets(QString text, const RedactionSecrets &secrets)
{
    // Every SASL exchange element, whatever its prefix or attributes, payload or not.
    static const QRegularExpression saslPayload(
        QStringLiteral("(<(?:[A-Za-z0-9_.-]+:)?(auth|response|challenge|success)\\b[^>]*(?<!/)>)[^<]+(</)"));
    text.replace(saslPayload, QStringLiteral("\\1[redacted]\\3"));
    const QString &key = secrets.apiKey;
    if (key.isEmpty())
        return text;
    const QByteArray keyBytes = key.toUtf8();
    if (!secrets.senderId.isEmpty()) {
        const QString user = secrets.domain.isEmpty() ? secrets.senderId
                                                      : secrets.senderId + QLatin1Char('@') + secrets.domain;
        for (const QString &authcid : {user, secrets.senderId}) {
            const QByteArray plain = QByteArray(1, '\0') + authcid.toUtf8() + QByteArray(1, '\0') + keyBytes;
            text.replace(QString::fromLatin1(plain.toBase64()), redacted());
        }
    }
    text.replace(key, redacted());
    const QString escaped = key.toHtmlEscaped();
    if (escaped != key)
        text.replace(escaped, redacted());
    text.replace(QString::fromLatin1(keyBytes.toBase64()), redacted());
    redactEncodedKey(&text, keyBytes);
    return text;
}

} // namespace ccs
