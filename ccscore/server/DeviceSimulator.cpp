#include "DeviceSimulator_p.h"

#include <QRegularExpression>
#include <QSet>

namespace ccs::emulator {

DeviceSimulator::DeviceSimulator(EmulatorContext &context)
    : m_context(context)
{
    QObject::connect(&m_heldExpiryTimer, &QTimer::timeout, &m_heldExpiryTimer, [this] { expireHeld(); });
}

void DeviceSimulator::notifyChanged()
{
    if (changed)
        changed();
}

DeviceState *DeviceSimulator::find(const QString &token)
{
    const auto it = m_index.constFind(token);
    return it == m_index.constEnd() ? nullptr : &m_devices[*it];
}

QString DeviceSimulator::senderOf(const DeviceState &dev) const
{
    const EmulatorConfig &config = m_context.config;
    return dev.status.spec.senderId.isEmpty() && !config.senders.isEmpty() ? config.senders.first().senderId
                                                                           : dev.status.spec.senderId;
}

QList<DeviceStatus> DeviceSimulator::statuses() const
{
    QList<DeviceStatus> out;
    out.reserve(static_cast<qsizetype>(m_devices.size()));
    for (const DeviceState &dev : m_devices)
        out.append(dev.status);
    return out;
}

bool DeviceSimulator::add(const DeviceSpec &spec)
{
    if (spec.token.isEmpty() || m_index.contains(spec.token))
        return false;
    DeviceState state;
    state.status.spec = spec;
    if (state.status.spec.senderId.isEmpty() && !m_context.config.senders.isEmpty())
        state.status.spec.senderId = m_context.config.senders.first().senderId;
    state.status.online = spec.kind != DeviceKind::Idle; // idle devices start asleep
    m_index.insert(spec.token, m_devices.size());
    m_devices.push_back(std::move(state));
    notifyChanged();
    return true;
}

bool DeviceSimulator::remove(const QString &token)
{
    const auto it = m_index.constFind(token);
    if (it == m_index.constEnd())
        return false;
    m_devices.erase(m_devices.begin() + static_cast<std::ptrdiff_t>(*it));
    m_index.clear();
    for (size_t i = 0; i < m_devices.size(); ++i)
        m_index.insert(m_devices[i].status.spec.token, i);
    notifyChanged();
    return true;
}

void DeviceSimulator::clear()
{
    m_devices.clear();
    m_index.clear();
}

void DeviceSimulator::setOnline(const QString &token, bool online)
{
    DeviceState *dev = find(token);
    if (!dev)
        return;
    dev->status.online = online;
    if (online) {
        // Back: what was held arrives in the order it was sent (receipts follow).
        std::vector<Delivery> held;
        held.swap(dev->held);
        dev->status.held = 0;
        const qint64 t = m_context.now();
        for (const Delivery &m : held) {
            if (t >= m.expiresAtMs) {
                ++m_context.counters().messagesExpired; // its time_to_live ran out while the device was away
                m_context.record.setDelivery(m.messageId, QStringLiteral("expired"));
                continue;
            }
            deliver(*dev, m);
        }
    }
    notifyChanged();
}

bool DeviceSimulator::setSubscribed(const QString &token, const QString &topic, bool subscribed)
{
    DeviceState *dev = find(token);
    static const QRegularExpression valid(QStringLiteral("^[a-zA-Z0-9_.~%-]{1,900}$"));
    if (!dev || !valid.match(topic).hasMatch())
        return false;
    QStringList &topics = dev->status.topics;
    if (subscribed && !topics.contains(topic))
        topics.append(topic);
    else if (!subscribed)
        topics.removeAll(topic);
    notifyChanged();
    return true;
}

void DeviceSimulator::markUnregistered(const QString &token)
{
    if (DeviceState *dev = find(token)) {
        dev->status.spec.kind = DeviceKind::Unregistered;
        notifyChanged();
    }
}

QString DeviceSimulator::createGroup(
    const QString &name, const QStringList &tokens, const QString &senderId, QString *error)
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return QString();
    };
    const EmulatorConfig &config = m_context.config;
    if (config.senders.isEmpty())
        return fail(tr("The emulator has no sender ID."));
    const QString sender = senderId.isEmpty() ? config.senders.first().senderId : senderId;
    if (name.trimmed().isEmpty())
        return fail(tr("A group needs a notification_key_name."));
    for (const auto &[key, group] : m_groups) {
        if (group.senderId == sender && group.name == name)
            return fail(tr("A group named %1 exists.").arg(name));
    }
    if (tokens.isEmpty())
        return fail(tr("A group needs at least one registration token."));
    for (const QString &token : tokens) {
        const DeviceState *dev = find(token);
        if (!dev || senderOf(*dev) != sender)
            return fail(tr("%1 is not a device of sender %2.").arg(token, sender));
    }
    DeviceGroup group;
    group.name = name;
    group.senderId = sender;
    group.tokens = tokens;
    group.tokens.removeDuplicates();
    // Notification keys look like registration tokens; drawn from the run's seed.
    QByteArray raw(24, Qt::Uninitialized);
    for (char &ch : raw)
        ch = char(m_context.rng.bounded(256));
    group.notificationKey = QStringLiteral("APA91b")
        + QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    m_groups.emplace(group.notificationKey, group);
    return group.notificationKey;
}

bool DeviceSimulator::changeGroup(
    const QString &notificationKey, const QStringList &add, const QStringList &remove, QString *error)
{
    const auto it = m_groups.find(notificationKey);
    if (it == m_groups.end()) {
        if (error)
            *error = tr("No group with this notification key.");
        return false;
    }
    DeviceGroup &group = it->second;
    for (const QString &token : add) {
        const DeviceState *dev = find(token);
        if (!dev || senderOf(*dev) != group.senderId) {
            if (error)
                *error = tr("%1 is not a device of sender %2.").arg(token, group.senderId);
            return false;
        }
    }
    for (const QString &token : add) {
        if (!group.tokens.contains(token))
            group.tokens.append(token);
    }
    for (const QString &token : remove)
        group.tokens.removeAll(token);
    if (group.tokens.isEmpty())
        m_groups.erase(it); // a group without members is gone, as in FCM
    return true;
}

bool DeviceSimulator::removeGroup(const QString &notificationKey)
{
    return m_groups.erase(notificationKey) > 0;
}

QList<DeviceGroup> DeviceSimulator::groups() const
{
    QList<DeviceGroup> out;
    for (const auto &[key, group] : m_groups)
        out.append(group);
    return out;
}

DeviceRoute DeviceSimulator::route(const QString &to, const QString &senderId)
{
    DeviceRoute r;
    using Verdict = DeviceRoute::Verdict;
    // Several devices: a topic's subscribers or a group's members.
    const auto group = m_groups.find(to);
    if (to.startsWith(QLatin1String("/topics/"))) {
        r.fanOut = true;
        r.topic = to.mid(8);
        if (!takeTopicSlot(r.topic)) {
            r.verdict = Verdict::TopicRateExceeded;
            return r;
        }
        for (DeviceState &d : m_devices) {
            if (senderOf(d) == senderId && d.status.spec.kind != DeviceKind::Unregistered
                && d.status.topics.contains(r.topic))
                r.targets.push_back(&d);
        }
    } else if (group != m_groups.end() && group->second.senderId == senderId) {
        r.fanOut = true;
        for (const QString &token : group->second.tokens) {
            DeviceState *member = find(token);
            if (member && member->status.spec.kind != DeviceKind::Unregistered)
                r.targets.push_back(member);
        }
    } else if (DeviceState *dev = find(to); !dev || senderOf(*dev) != senderId) {
        // Unknown, or registered for another sender ID (CCS answered both alike).
        r.verdict = Verdict::BadRegistration;
    } else if (dev->status.spec.kind == DeviceKind::Unregistered) {
        r.verdict = Verdict::Unregistered;
    } else if (dev->status.spec.kind == DeviceKind::RateLimited && !takeRateSlot(*dev)) {
        r.verdict = Verdict::DeviceRateExceeded;
    } else {
        r.targets.push_back(dev);
    }
    return r;
}

// A rate-limited device takes maxMessagesPerMinute in any sliding minute.
bool DeviceSimulator::takeRateSlot(DeviceState &device)
{
    const qint64 t = m_context.now();
    while (!device.recentDeliveries.empty() && t - device.recentDeliveries.front() >= 60000)
        device.recentDeliveries.pop_front();
    if (static_cast<int>(device.recentDeliveries.size())
        >= std::max(0, device.status.spec.maxMessagesPerMinute))
        return false;
    device.recentDeliveries.push_back(t);
    return true;
}

// Each topic takes topicMessagesPerMinute in any sliding minute.
bool DeviceSimulator::takeTopicSlot(const QString &topic)
{
    std::deque<qint64> &recent = m_topicDeliveries[topic];
    const qint64 t = m_context.now();
    while (!recent.empty() && t - recent.front() >= 60000)
        recent.pop_front();
    const int perMinute = m_context.config.topicMessagesPerMinute;
    if (perMinute > 0 && int(recent.size()) >= perMinute)
        return false;
    recent.push_back(t);
    return true;
}

// A message reaches the device at once, or waits for it: an offline device
// (an idle one: delay_while_idle messages) holds it until it is back, for at
// most its time_to_live; 0 means now or never. A held message with a
// collapse_key replaces the older one with that key, and at most
// maxCollapseKeysPerDevice keys are held (the oldest key gives way).
void DeviceSimulator::offer(DeviceState &dev, const Delivery &delivery)
{
    EmulatorCounters &counters = m_context.counters();
    const bool idle = dev.status.spec.kind == DeviceKind::Idle;
    const bool reachable = dev.status.online || (idle && !delivery.delayWhileIdle);
    if (reachable) {
        deliver(dev, delivery);
        return;
    }
    if (delivery.timeToLive <= 0) {
        ++counters.messagesExpired;
        m_context.record.setDelivery(delivery.messageId, QStringLiteral("expired"));
        return;
    }
    Delivery held = delivery;
    held.expiresAtMs = m_context.now() + delivery.timeToLive * 1000;
    if (!held.collapseKey.isEmpty()) {
        auto collapse = [&](std::vector<Delivery>::iterator it) {
            ++counters.messagesCollapsed;
            m_context.record.setDelivery(it->messageId, QStringLiteral("collapsed"));
            dev.held.erase(it);
        };
        const auto same = std::find_if(dev.held.begin(), dev.held.end(),
            [&](const Delivery &d) { return d.collapseKey == held.collapseKey; });
        if (same != dev.held.end()) {
            collapse(same);
        } else {
            QSet<QString> keys;
            for (const Delivery &d : dev.held) {
                if (!d.collapseKey.isEmpty())
                    keys.insert(d.collapseKey);
            }
            if (keys.size() >= std::max(1, m_context.config.maxCollapseKeysPerDevice)) {
                collapse(std::find_if(dev.held.begin(), dev.held.end(),
                    [](const Delivery &d) { return !d.collapseKey.isEmpty(); }));
            }
        }
    }
    dev.held.push_back(held);
    dev.status.held = int(dev.held.size());
    if (!m_heldExpiryTimer.isActive())
        m_heldExpiryTimer.start(1000);
    ++counters.messagesHeld;
    m_context.record.setDelivery(held.messageId, QStringLiteral("held"));
    notifyChanged();
}

// A held message whose time_to_live runs out is dropped then, not only when
// its device comes back, so the record and the counters show it at once.
void DeviceSimulator::expireHeld()
{
    const qint64 t = m_context.now();
    bool anyHeld = false;
    for (DeviceState &dev : m_devices) {
        const auto expired = std::remove_if(dev.held.begin(), dev.held.end(), [&](const Delivery &m) {
            if (t < m.expiresAtMs)
                return false;
            ++m_context.counters().messagesExpired;
            m_context.record.setDelivery(m.messageId, QStringLiteral("expired"));
            return true;
        });
        if (expired != dev.held.end()) {
            dev.held.erase(expired, dev.held.end());
            dev.status.held = int(dev.held.size());
            notifyChanged();
        }
        anyHeld = anyHeld || !dev.held.empty();
    }
    if (!anyHeld)
        m_heldExpiryTimer.stop();
}

void DeviceSimulator::deliver(DeviceState &dev, const Delivery &delivery)
{
    ++dev.status.received;
    m_context.record.setDelivery(delivery.messageId, QStringLiteral("delivered"));
    notifyChanged();
    if (delivery.receiptRequested && !delivery.messageId.isEmpty() && receiptDue)
        receiptDue(dev, delivery);
}

void DeviceSimulator::stop()
{
    m_heldExpiryTimer.stop();
}

} // namespace ccs::emulator
