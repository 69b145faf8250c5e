#pragma once

// Internal to ccscore/server: the emulator's simulated devices.

#include "EmulatorContext_p.h"

#include <QCoreApplication>
#include <QHash>
#include <QTimer>

#include <deque>
#include <functional>
#include <map>
#include <vector>

namespace ccs::emulator {

// A downstream message on its way to one device.
struct Delivery {
    QString messageId;
    QString senderId;
    bool receiptRequested = false;
    bool delayWhileIdle = false;
    QString collapseKey;
    qint64 timeToLive = kMaxTimeToLive; // seconds
    qint64 expiresAtMs = 0; // when held
};

struct DeviceState {
    DeviceStatus status;
    std::deque<qint64> recentDeliveries; // for RateLimited: times of the last minute's messages
    std::vector<Delivery> held; // for an offline device (an idle one: delay_while_idle messages)
    quint64 nextUpstreamNumber = 1; // the device's app numbers its upstream messages 1, 2, 3...
};

// Where a valid downstream message goes, as CCS decides from `to` and the sender.
struct DeviceRoute {
    enum class Verdict {
        Deliver, // to `targets` (one device, or a topic's subscribers or a group's members)
        BadRegistration, // unknown, or registered for another sender ID
        Unregistered,
        DeviceRateExceeded,
        TopicRateExceeded,
    };
    Verdict verdict = Verdict::Deliver;
    bool fanOut = false; // a topic or a group: no delivery receipts
    QString topic;
    std::vector<DeviceState *> targets;
};

// Devices, their offline holding (time_to_live sweep, collapse keys), topics,
// groups and which sender each belongs to. Lives on the server's thread.
class DeviceSimulator
{
    Q_DECLARE_TR_FUNCTIONS(ccs::emulator::EmulatorServer)
public:
    explicit DeviceSimulator(EmulatorContext &context);

    // Something a device shows changed (the server coalesces these).
    std::function<void()> changed;
    // A delivered message asked for a delivery receipt.
    std::function<void(const DeviceState &device, const Delivery &delivery)> receiptDue;

    DeviceState *find(const QString &token);
    QString senderOf(const DeviceState &device) const;
    std::vector<DeviceState> &all() { return m_devices; }
    QList<DeviceStatus> statuses() const;
    bool add(const DeviceSpec &spec);
    bool remove(const QString &token);
    void clear();
    void setOnline(const QString &token, bool online);
    bool setSubscribed(const QString &token, const QString &topic, bool subscribed);
    void markUnregistered(const QString &token);

    QString createGroup(
        const QString &name, const QStringList &tokens, const QString &senderId, QString *error);
    bool changeGroup(
        const QString &notificationKey, const QStringList &add, const QStringList &remove, QString *error);
    bool removeGroup(const QString &notificationKey);
    QList<DeviceGroup> groups() const;

    // Takes a rate slot (topic or rate-limited device) when it delivers.
    DeviceRoute route(const QString &to, const QString &senderId);
    // The message reaches the device now, or waits for it (see the .cpp).
    void offer(DeviceState &device, const Delivery &delivery);
    void stop(); // no more time_to_live sweeps

private:
    bool takeRateSlot(DeviceState &device);
    bool takeTopicSlot(const QString &topic);
    void deliver(DeviceState &device, const Delivery &delivery);
    void expireHeld();
    void notifyChanged();

    EmulatorContext &m_context;
    std::vector<DeviceState> m_devices;
    QHash<QString, size_t> m_index;
    std::map<QString, DeviceGroup> m_groups; // by notification key
    QHash<QString, std::deque<qint64>> m_topicDeliveries; // per topic: times of the last minute's messages
    QTimer m_heldExpiryTimer; // runs while a device holds messages: drops those whose TTL ran out
};

} // namespace ccs::emulator
