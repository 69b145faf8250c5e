#include "ReconnectBackoff_p.h"

#include <algorithm>

namespace ccs {

ReconnectBackoff::ReconnectBackoff(
    std::chrono::milliseconds base, std::chrono::milliseconds cap, quint32 seed)
    : m_base(std::max(base, std::chrono::milliseconds(1)))
    , m_cap(std::max(cap, m_base))
    , m_random(seed != 0 ? seed : QRandomGenerator::global()->generate())
{ }

std::chrono::milliseconds ReconnectBackoff::ceiling(int failure) const
{
    qint64 delay = m_base.count();
    for (int i = 1; i < failure && delay < m_cap.count(); ++i)
        delay *= 2;
    return std::chrono::milliseconds(std::min<qint64>(delay, m_cap.count()));
}

std::chrono::milliseconds ReconnectBackoff::nextDelay()
{
    ++m_failures;
    const qint64 top = ceiling(m_failures).count();
    const qint64 low = top / 2;
    return std::chrono::milliseconds(low + qint64(m_random.bounded(quint64(top - low + 1))));
}

} // namespace ccs
