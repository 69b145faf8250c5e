#include "EmulatorRecord_p.h"

namespace ccs::emulator {

namespace {
QString upstreamKey(const QString &from, const QString &messageId)
{
    return from + QChar(u'\0') + messageId;
}

QString originalOf(const QString &receiptId)
{
    return receiptId.mid(4); // "dr2:" + the original id
}
} // namespace

DownstreamRecord &EmulatorRecord::downstream(const QString &messageId)
{
    const auto it = m_downstreamIndex.constFind(messageId);
    if (it != m_downstreamIndex.constEnd())
        return m_downstream[*it];
    m_downstreamIndex.insert(messageId, m_downstream.size());
    m_downstream.append(DownstreamRecord {});
    m_downstream.last().messageId = messageId;
    return m_downstream.last();
}

void EmulatorRecord::setDelivery(const QString &messageId, const QString &delivery)
{
    const auto it = m_downstreamIndex.constFind(messageId);
    if (it != m_downstreamIndex.constEnd() && !m_downstream[*it].delivery.startsWith(u"fanout"))
        m_downstream[*it].delivery = delivery;
}

void EmulatorRecord::markReceiptSent(const QString &receiptId)
{
    const QString original = originalOf(receiptId);
    if (hasDownstream(original))
        downstream(original).receiptSent = true;
}

void EmulatorRecord::markReceiptAcked(const QString &receiptId)
{
    const QString original = originalOf(receiptId);
    if (hasDownstream(original))
        downstream(original).receiptAcked = true;
}

UpstreamRecord &EmulatorRecord::upstream(const QString &from, const QString &messageId)
{
    const QString key = upstreamKey(from, messageId);
    const auto it = m_upstreamIndex.constFind(key);
    if (it != m_upstreamIndex.constEnd())
        return m_upstream[*it];
    m_upstreamIndex.insert(key, m_upstream.size());
    m_upstream.append(UpstreamRecord {});
    m_upstream.last().messageId = messageId;
    m_upstream.last().from = from;
    return m_upstream.last();
}

void EmulatorRecord::clear()
{
    m_downstream.clear();
    m_downstreamIndex.clear();
    m_upstream.clear();
    m_upstreamIndex.clear();
    counters = EmulatorCounters {};
}

} // namespace ccs::emulator
