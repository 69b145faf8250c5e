#pragma once

#include <QHash>
#include <QString>

#include <deque>

namespace ccs {

// The identities of upstream messages and receipts already delivered to the
// inbox, so that a redelivery (same identity, any connection) is ACKed again
// but reported once. An upstream message is identified by the pair (`from`,
// `message_id`): a device's app chooses its own ids, so two devices can both
// send id "1" (see key()). A receipt's identity is its `dr2:` id. Memory is bounded twice: at most `capacity`
// ids, none older than `maxAgeMs`; the oldest are forgotten first. O(1) per id.
class DeduplicationSet
{
public:
    explicit DeduplicationSet(int capacity = 100000, qint64 maxAgeMs = 24 * 3600 * 1000);

    // Records one sighting of `id` at `nowMs` and returns how often it has been
    // seen, this one included: 1 means new.
    int see(const QString &id, qint64 nowMs);
    // The identity of an upstream message: its sender and its id together.
    static QString key(const QString &from, const QString &messageId);
    bool contains(const QString &id) const { return m_seen.contains(id); }
    int size() const { return int(m_seen.size()); }
    int capacity() const { return m_capacity; }
    void setLimits(int capacity, qint64 maxAgeMs);
    void clear();

private:
    void evict(qint64 nowMs);

    struct Seen {
        qint64 firstSeenMs = 0;
        int times = 0;
    };
    QHash<QString, Seen> m_seen;
    std::deque<QString> m_order; // first sighting order, oldest in front
    int m_capacity;
    qint64 m_maxAgeMs;
};

} // namespace ccs
