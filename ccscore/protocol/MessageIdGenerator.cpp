#include "MessageIdGenerator.h"

#include <QDateTime>
#include <QList>
#include <QRandomGenerator>

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
    const QString stamp = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    return QStringLiteral("m-%1-%2-%3")
        .arg(stamp)
        .arg(processTag(), 8, 16, QLatin1Char('0'))
        .arg(n, 6, 10, QLatin1Char('0'));
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
