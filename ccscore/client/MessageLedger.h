#pragma once

#include "SessionTypes.h"

#include <QHash>
#include <QObject>
#include <QVector>

#include <array>
#include <deque>
#include <memory>
#include <optional>

namespace ccs {

class IdIndex;

struct LedgerTransition {
    MessageState state;
    qint64 atMs = 0; // QDateTime::currentMSecsSinceEpoch()
    int connectionId = 0; // 0: none
    QString detail; // NACK code, error text, retry number...
};

struct LedgerEntry {
    DownstreamMessage message;
    MessageState state = MessageState::Queued;
    QVector<LedgerTransition> history;
    int attempts = 0; // how many times it was written to a connection
    int retries = 0; // retries after NACKs
    int connectionId = 0; // last connection it went out on
    std::optional<NackCode> nackCode;
    QString nackText; // the code as received
    QString errorDescription; // NACK description or stanza error text
    qint64 queuedAtMs = 0, sentAtMs = 0, ackedAtMs = 0, deliveredAtMs = 0;
    std::optional<qint64> ackLatencyMs() const; // first send -> ACK
    std::optional<qint64> deliveryLatencyMs() const; // first send -> receipt
};

// The life of every downstream message, in the order they were accepted.
// Rows never move: index i stays the same message, so views can use it as a row.
class MessageLedger : public QObject
{
    Q_OBJECT
public:
    explicit MessageLedger(QObject *parent = nullptr);
    ~MessageLedger() override;

    int size() const { return int(m_entries.size()); }
    const LedgerEntry &at(int index) const { return m_entries.at(size_t(index)); }
    int indexOf(const QString &messageId) const;
    const LedgerEntry *find(const QString &messageId) const;

    // Used by the session. add() returns the new index, or -1 if the id is taken.
    int add(const DownstreamMessage &message);
    void transition(int index, MessageState to, int connectionId = 0, const QString &detail = {});
    LedgerEntry &entryForUpdate(int index) { return m_entries[size_t(index)]; }
    // Counts by state, for summaries.
    int count(MessageState state) const;
    void clear();

Q_SIGNALS:
    void entryAdded(int index);
    void entryChanged(int index, ccs::MessageState from, ccs::MessageState to);
    void cleared();

private:
    // Storage that grows without stalls at a million entries ("Send copies"
    // accepts that many): a deque adds blocks and never moves what it holds
    // (a vector copies every entry each time it grows, for up to a second at
    // a million); the id index is sharded and hashed (IdIndex_p.h).
    std::deque<LedgerEntry> m_entries;
    std::unique_ptr<IdIndex> m_ids; // internal (IdIndex_p.h)
    std::array<int, 9> m_counts {}; // by MessageState, so count() is O(1)
};

} // namespace ccs
