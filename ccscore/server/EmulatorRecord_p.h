#pragma once

// Internal to ccscore/server: the record of what the emulator saw (what the
// admin API, the panel, the observer's tests and the conformance report read).

#include "EmulatorTypes.h"

#include <QHash>
#include <QList>

namespace ccs::emulator {

class EmulatorRecord
{
public:
    // The record of this message_id, made on first use.
    DownstreamRecord &downstream(const QString &messageId);
    bool hasDownstream(const QString &messageId) const { return m_downstreamIndex.contains(messageId); }
    // What became of it on the device side; a fan-out keeps its "fanout:N".
    void setDelivery(const QString &messageId, const QString &delivery);
    // The receipt "dr2:ORIGINAL" went out / was ACKed: marks ORIGINAL's record.
    void markReceiptSent(const QString &receiptId);
    void markReceiptAcked(const QString &receiptId);

    // Upstream messages by their identity (from, messageId), made on first use.
    UpstreamRecord &upstream(const QString &from, const QString &messageId);

    const QList<DownstreamRecord> &downstreamRecords() const { return m_downstream; }
    const QList<UpstreamRecord> &upstreamRecords() const { return m_upstream; }
    void clear(); // the record and the counters

    EmulatorCounters counters;

private:
    QList<DownstreamRecord> m_downstream;
    QHash<QString, qsizetype> m_downstreamIndex;
    QList<UpstreamRecord> m_upstream;
    QHash<QString, qsizetype> m_upstreamIndex;
};

} // namespace ccs::emulator
