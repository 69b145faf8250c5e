#include "MessageLedger.h"

#include <QDateTime>

namespace ccs {

std::optional<qint64> LedgerEntry::ackLatencyMs() const
{
    if (sentAtMs <= 0 || ackedAtMs <= 0)
        return std::nullopt;
    return ackedAtMs - sentAtMs;
}

std::optional<qint64> LedgerEntry::deliveryLatencyMs() const
{
    if (sentAtMs <= 0 || deliveredAtMs <= 0)
        return std::nullopt;
    return deliveredAtMs - sentAtMs;
}

MessageLedger::MessageLedger(QObject *parent)
    : QObject(parent)
{ }

int MessageLedger::indexOf(const QString &messageId) const
{
    const quint64 hash = idHash(messageId);
    const IdIndex &ids = m_index[shardOf(hash)];
    const auto it = ids.byHash.constFind(hash);
    if (it == ids.byHash.constEnd())
        return -1;
    if (m_entries[size_t(*it)].message.messageId == messageId)
        return *it;
    return ids.collisions.value(messageId, -1);
}

const LedgerEntry *MessageLedger::find(const QString &messageId) const
{
    const int index = indexOf(messageId);
    return index < 0 ? nullptr : &m_entries.at(size_t(index));
}

int MessageLedger::add(const DownstreamMessage &message)
{
    // One lookup: the hash's slot is made, and if it was there already the id is
    // taken, unless the entry there has another id with the same hash.
    const quint64 hash = idHash(message.messageId);
    IdIndex &ids = m_index[shardOf(hash)];
    const int index = int(m_entries.size());
    const qsizetype known = ids.byHash.size();
    int &slot = ids.byHash[hash];
    if (ids.byHash.size() == known) {
        if (m_entries[size_t(slot)].message.messageId == message.messageId
            || ids.collisions.contains(message.messageId))
            return -1;
        ids.collisions.insert(message.messageId, index);
    } else {
        slot = index;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    LedgerEntry &entry = m_entries.emplace_back();
    entry.message = message;
    entry.state = MessageState::Queued;
    entry.queuedAtMs = now;
    entry.history.reserve(3); // queued, in flight, answered: the life of most messages
    entry.history.append({MessageState::Queued, now, 0, {}});
    ++m_counts[std::size_t(MessageState::Queued)];
    Q_EMIT entryAdded(index);
    return index;
}

void MessageLedger::transition(int index, MessageState to, int connectionId, const QString &detail)
{
    if (index < 0 || index >= size())
        return;
    LedgerEntry &entry = m_entries[size_t(index)];
    const MessageState from = entry.state;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    entry.state = to;
    entry.history.append({to, now, connectionId, detail});
    if (connectionId != 0)
        entry.connectionId = connectionId;
    switch (to) {
    case MessageState::InFlight:
        ++entry.attempts;
        if (entry.sentAtMs == 0)
            entry.sentAtMs = now;
        break;
    case MessageState::Acked:
        entry.ackedAtMs = now;
        break;
    case MessageState::Delivered:
        entry.deliveredAtMs = now;
        break;
    default:
        break;
    }
    --m_counts[std::size_t(from)];
    ++m_counts[std::size_t(to)];
    Q_EMIT entryChanged(index, from, to);
}

int MessageLedger::count(MessageState state) const
{
    return m_counts[std::size_t(state)];
}

void MessageLedger::clear()
{
    m_entries.clear();
    for (IdIndex &ids : m_index) {
        ids.byHash.clear();
        ids.collisions.clear();
    }
    m_counts.fill(0);
    Q_EMIT cleared();
}

} // namespace ccs
