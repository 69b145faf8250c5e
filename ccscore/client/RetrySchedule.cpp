#include "RetrySchedule_p.h"

namespace ccs {

void RetrySchedule::schedule(qint64 dueMs, int ledgerIndex)
{
    m_heap.push(Item {dueMs, m_sequence++, ledgerIndex});
}

std::optional<qint64> RetrySchedule::nextDueMs() const
{
    if (m_heap.empty())
        return std::nullopt;
    return m_heap.top().dueMs;
}

std::vector<int> RetrySchedule::takeDue(qint64 nowMs)
{
    std::vector<int> due;
    while (!m_heap.empty() && m_heap.top().dueMs <= nowMs) {
        due.push_back(m_heap.top().ledgerIndex);
        m_heap.pop();
    }
    return due;
}

} // namespace ccs
