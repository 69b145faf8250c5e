#include "UpstreamQueue_p.h"

#include "protocol/JsonCodec.h"

namespace ccs::emulator {

namespace {
constexpr auto kReceiptFrom = "gcm.googleapis.com";
}

UpstreamQueue::UpstreamQueue(EmulatorContext &context)
    : m_context(context)
{ }

QString UpstreamQueue::enqueue(
    DeviceState &dev, const QString &sender, const UpstreamRequest &request, QString *error)
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return QString();
    };
    const EmulatorConfig &config = m_context.config;
    const QString token = dev.status.spec.token;
    if (sender.isEmpty())
        return fail(tr("The device has no sender ID."));
    if (request.timeToLive > kMaxTimeToLive)
        return fail(tr("time_to_live must be from 0 to %1 seconds.").arg(kMaxTimeToLive));
    // A device queues at most this many unsent upstream messages.
    if (config.deviceUpstreamQueueLimit > 0
        && m_unsentByDevice.value(token) >= config.deviceUpstreamQueueLimit)
        return fail(
            tr("The device already holds %1 unsent upstream messages.").arg(config.deviceUpstreamQueueLimit));
    UpstreamMessage message;
    message.from = token;
    // The device's app chooses the id: by default it counts 1, 2, 3... per
    // device, so ids repeat across devices. An explicit number moves the count on.
    if (request.messageId.isEmpty()) {
        message.messageId = QString::number(dev.nextUpstreamNumber++);
    } else {
        message.messageId = request.messageId;
        bool numeric = false;
        const quint64 n = request.messageId.toULongLong(&numeric);
        if (numeric && n >= dev.nextUpstreamNumber)
            dev.nextUpstreamNumber = n + 1;
    }
    message.category = request.category.isEmpty() ? dev.status.spec.category : request.category;
    message.data = request.data;
    if (request.timeToLive >= 0)
        message.timeToLive = request.timeToLive;
    UpstreamItem item;
    item.messageId = message.messageId;
    item.from = token;
    item.senderId = sender;
    item.deviceToken = token;
    item.json = json::serialize(message.toJson());
    const qint64 ttl = request.timeToLive >= 0 ? request.timeToLive : config.upstreamTimeToLiveSeconds;
    // time_to_live 0: now or never: delivered at the next pass if a connection
    // can take it, otherwise dropped.
    item.nowOrNever = ttl <= 0;
    item.expiresAtMs = item.nowOrNever ? 0 : m_context.now() + ttl * 1000;
    m_context.record.upstream(token, item.messageId);
    m_items.push_back(std::move(item));
    ++m_unsentByDevice[token];
    ++dev.status.upstreamSent;
    return message.messageId;
}

void UpstreamQueue::enqueueReceipt(
    const QString &senderId, const QString &originalId, const QString &token, const QString &category)
{
    const Receipt receipt = Receipt::make(originalId, token, category);
    UpstreamItem item;
    item.messageId = receipt.messageId;
    item.from = QLatin1String(kReceiptFrom);
    item.senderId = senderId;
    item.isReceipt = true;
    item.json = json::serialize(receipt.toJson());
    item.expiresAtMs = m_context.now() + kMaxTimeToLive * 1000;
    m_context.record.upstream(item.from, item.messageId).isReceipt = true;
    m_items.push_back(std::move(item));
}

UpstreamItem *UpstreamQueue::awaitingAck(int connectionId, const QString &from, const QString &messageId)
{
    // ACKs are valid only on the connection the message was delivered on, and
    // name it by its identity: `to` is the device's token (gcm.googleapis.com
    // for a receipt) and `message_id` its id; devices choose their own ids, so
    // the id alone is not enough. The same identity can be queued twice (a
    // receipt for a message sent twice).
    if (messageId.isEmpty())
        return nullptr;
    for (UpstreamItem &u : m_items) {
        if (u.messageId == messageId && u.from == from && u.inflightConnection == connectionId
            && u.unackedCopies > 0)
            return &u;
    }
    return nullptr;
}

bool UpstreamQueue::acknowledge(UpstreamItem &item, Connection &c)
{
    --item.unackedCopies;
    UpstreamRecord &rec = m_context.record.upstream(item.from, item.messageId);
    ++rec.ackCount;
    if (item.acked)
        return false;
    item.acked = true;
    rec.acked = true;
    rec.ackedOnConnection = c.id;
    ++m_context.counters().upstreamAcked;
    --c.unackedUpstream;
    if (item.isReceipt)
        m_context.record.markReceiptAcked(item.messageId);
    return true;
}

void UpstreamQueue::deliver(UpstreamItem &item, Connection &c)
{
    EmulatorCounters &counters = m_context.counters();
    bool twice = false;
    if (!item.isReceipt) {
        if (m_redeliverNext) {
            twice = true;
            m_redeliverNext = false;
        } else if (m_context.config.faults.duplicateUpstreamShare > 0) {
            twice = m_context.rng.generateDouble() < m_context.config.faults.duplicateUpstreamShare;
        }
    }
    const int copies = twice ? 2 : 1;
    UpstreamRecord &rec = m_context.record.upstream(item.from, item.messageId);
    for (int i = 0; i < copies; ++i) {
        c.stream.sendGcm(item.json);
        ++rec.timesDelivered;
        rec.deliveredOnConnections.append(c.id);
        if (item.isReceipt)
            ++counters.receiptsSent;
        else
            ++counters.upstreamSent;
    }
    if (item.isReceipt)
        m_context.record.markReceiptSent(item.messageId);
    if (m_context.observer)
        m_context.observer->upstreamDelivered(
            c.id, m_context.now(), item.from, item.messageId, item.isReceipt, copies);
    item.inflightConnection = c.id;
    if (!item.everDelivered && !item.deviceToken.isEmpty())
        --m_unsentByDevice[item.deviceToken];
    item.everDelivered = true;
    item.unackedCopies = copies;
    ++c.unackedUpstream;
}

void UpstreamQueue::expire(UpstreamItem &item)
{
    item.expired = true;
    if (!item.everDelivered && !item.deviceToken.isEmpty())
        --m_unsentByDevice[item.deviceToken];
    ++m_context.counters().messagesExpired;
}

void UpstreamQueue::pump(ConnectionSet &connections)
{
    const qint64 t = m_context.now();
    for (UpstreamItem &item : m_items) {
        if (item.acked || item.expired || item.inflightConnection != 0)
            continue;
        if (item.expiresAtMs > 0 && t >= item.expiresAtMs) {
            expire(item);
            continue;
        }
        if (Connection *c = connections.pickForUpstream(item.senderId))
            deliver(item, *c);
        else if (item.nowOrNever && !item.everDelivered)
            expire(item);
    }
    // Forget what needs nothing more; the record keeps the history. A message
    // delivered twice stays until its second copy is ACKed too (or its
    // connection closes), however the two ACKs are spread over time.
    while (!m_items.empty()
        && (m_items.front().expired || (m_items.front().acked && m_items.front().unackedCopies <= 0)))
        m_items.pop_front();
}

void UpstreamQueue::deliverPipeline(Connection &c, int count)
{
    for (UpstreamItem &item : m_items) {
        if (count <= 0 || c.unackedUpstream >= kMaxPendingPerConnection)
            break;
        if (item.acked || item.expired || item.inflightConnection != 0 || item.senderId != c.senderId
            || (item.expiresAtMs > 0 && m_context.now() >= item.expiresAtMs))
            continue;
        deliver(item, c);
        --count;
    }
}

void UpstreamQueue::release(int connectionId)
{
    for (UpstreamItem &item : m_items) {
        if (item.inflightConnection != connectionId)
            continue;
        item.unackedCopies = 0; // no more ACKs can come for it
        if (!item.acked)
            item.inflightConnection = 0;
    }
}

} // namespace ccs::emulator
