#include "MessageLedger.h"

#include "IdIndex_p.h"

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
    , m_ids(std::make_unique<IdIndex>())
{ }

MessageLedger::~MessageLedger() = default;

int MessageLedger::indexOf(const QString &messageId) const
{
    return m_ids->find(messageId,
        [this](int index) -> const QString & { return m_entries[size_t(index)].message.messageId; });
}

const LedgerEntry *MessageLedger::find(const QString &messageId) const
{
    const int index = indexOf(messageId);
    return index < 0 ? nullptr : &m_entries.at(size_t(index));
}

int MessageLedger::add(const DownstreamMessage &message)
{
    const int index = int(m_entries.size());
    if (!m_ids->insert(message.messageId, index,
            [this](int at) -> const QString & { return m_entries[size_t(at)].message.messageId; }))
        return -1;
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
    m_ids->clear();
    m_counts.fill(0);
    Q_EMIT cleared();
}

} // namespace ccs
