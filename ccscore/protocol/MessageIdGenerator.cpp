#include "MessageIdGenerator.h"

#include <QDateTime>
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
std::atomic<quint64> s_counter{0};
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
    return id.startsWith(QLatin1String("m-")) && id.size() >= 34;
}

} // namespace ccs
