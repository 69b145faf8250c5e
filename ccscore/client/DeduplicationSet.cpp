#include "DeduplicationSet_p.h"

#include <algorithm>

namespace ccs {

DeduplicationSet::DeduplicationSet(int capacity, qint64 maxAgeMs)
    : m_capacity(std::max(1, capacity))
    , m_maxAgeMs(std::max<qint64>(1, maxAgeMs))
{ }

QString DeduplicationSet::key(const QString &from, const QString &messageId)
{
    // A token never holds a NUL, so the pair maps to one string unambiguously.
    return from + QChar(u'\0') + messageId;
}

int DeduplicationSet::see(const QString &id, qint64 nowMs)
{
    evict(nowMs);
    auto it = m_seen.find(id);
    if (it != m_seen.end())
        return ++it->times;
    if (int(m_order.size()) >= m_capacity) {
        m_seen.remove(m_order.front());
        m_order.pop_front();
    }
    m_seen.insert(id, Seen {nowMs, 1});
    m_order.push_back(id);
    return 1;
}

void DeduplicationSet::setLimits(int capacity, qint64 maxAgeMs)
{
    m_capacity = std::max(1, capacity);
    m_maxAgeMs = std::max<qint64>(1, maxAgeMs);
    while (int(m_order.size()) > m_capacity) {
        m_seen.remove(m_order.front());
        m_order.pop_front();
    }
}

void DeduplicationSet::clear()
{
    m_seen.clear();
    m_order.clear();
}

void DeduplicationSet::evict(qint64 nowMs)
{
    while (!m_order.empty()) {
        const auto it = m_seen.constFind(m_order.front());
        if (it != m_seen.constEnd() && nowMs - it->firstSeenMs < m_maxAgeMs)
            break;
        m_seen.remove(m_order.front());
        m_order.pop_front();
    }
}

} // namespace ccs
