#include "MessageIdGenerator.h"

#include <QDateTime>
#include <QList>
#include <QRandomGenerator>

#include <algorithm>
#include <atomic>

namespace ccs {

namespace {
// Drawn once per process: two processes started in the same second differ here.
quint32 processTag()
{
    static const quint32 tag = QRandomGenerator::system()->generate();
    return tag;
}
std::atomic<quint64> s_counter {0};
} // namespace

QString MessageIdGenerator::next()
{
    const quint64 n = ++s_counter;
    // "m-YYYYMMDD-HHMMSS-tag-" changes once a second: formatted then, not per id
    // (a date format costs more than the rest of sending a message).
    thread_local qint64 prefixSecond = -1;
    thread_local QString prefix;
    const qint64 second = QDateTime::currentMSecsSinceEpoch() / 1000;
    if (second != prefixSecond) {
        prefixSecond = second;
        prefix = QStringLiteral("m-%1-%2-")
                     .arg(QDateTime::fromSecsSinceEpoch(second, Qt::UTC)
                              .toString(QStringLiteral("yyyyMMdd-HHmmss")))
                     .arg(processTag(), 8, 16, QLatin1Char('0'));
    }
    // The counter, at least six digits.
    char digits[24];
    int length = 0;
    for (quint64 rest = n; rest > 0 || length < 6; rest /= 10)
        digits[length++] = char('0' + rest % 10);
    QString id(prefix.size() + length, Qt::Uninitialized);
    QChar *out = std::copy(prefix.cbegin(), prefix.cend(), id.data());
    while (length > 0)
        *out++ = QLatin1Char(digits[--length]);
    return id;
}

bool MessageIdGenerator::looksGenerated(QStringView id)
{
    // m-YYYYMMDD-HHMMSS-xxxxxxxx-NNNNNN (the counter may grow past six digits)
    auto all = [](QStringView part, qsizetype length, bool hex) {
        if (part.size() != length && !(length < 0 && part.size() >= -length))
            return false;
        for (const QChar c : part) {
            const bool ok = c.isDigit() || (hex && c >= QLatin1Char('a') && c <= QLatin1Char('f'));
            if (!ok || c.unicode() > 0x7f)
                return false;
        }
        return true;
    };
    if (!id.startsWith(QLatin1String("m-")))
        return false;
    const QList<QStringView> parts = id.sliced(2).split(QLatin1Char('-'));
    return parts.size() == 4 && all(parts[0], 8, false) && all(parts[1], 6, false) && all(parts[2], 8, true)
        && all(parts[3], -6, false);
}

} // namespace ccs
