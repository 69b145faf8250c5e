#pragma once

#include <QtGlobal>
#include <queue>

#include <optional>
#include <vector>

namespace ccs {

// Messages waiting out a back-off, ordered by due time: a min-heap, so the
// session needs a single timer for all of them however many are waiting.
// Entries are ledger indices; one whose message was cancelled meanwhile is
// still returned and the caller skips it.
class RetrySchedule
{
public:
    void schedule(qint64 dueMs, int ledgerIndex);
    std::optional<qint64> nextDueMs() const;
    // Every entry due at or before nowMs, earliest first (ties in scheduling order).
    std::vector<int> takeDue(qint64 nowMs);
    int size() const { return int(m_heap.size()); }
    bool isEmpty() const { return m_heap.empty(); }
    void clear() { m_heap = {}; }

private:
    struct Item {
        qint64 dueMs;
        quint64 sequence;
        int ledgerIndex;
        bool operator>(const Item &other) const
        {
            return dueMs != other.dueMs ? dueMs > other.dueMs : sequence > other.sequence;
        }
    };
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> m_heap;
    quint64 m_sequence = 0;
};

} // namespace ccs
