#pragma once

#include "EmulatorTypes.h"

#include <QObject>

#include <memory>

namespace ccs::emulator {

class EmulatorObserver;

// A CCS-compatible server on QSslServer: direct TLS, SASL PLAIN, bind,
// <gcm> stanzas, the shared validation rules, flow control, simulated
// devices, receipts, upstream traffic and fault injection. Lives on the
// thread that creates it (the GUI runs it in-process; ccs-emulator alone).
class EmulatorServer : public QObject
{
    Q_OBJECT
public:
    explicit EmulatorServer(QObject *parent = nullptr);
    ~EmulatorServer() override;

    bool start(const EmulatorConfig &config, QString *error = nullptr);
    void stop(); // closes every connection with </stream:stream>
    bool isListening() const;
    quint16 port() const;
    const EmulatorConfig &config() const;

    // Devices
    QList<DeviceStatus> devices() const;
    bool addDevice(const DeviceSpec &device); // false for an empty or already known token
    bool removeDevice(const QString &token);
    // Queues an upstream message from a device; delivered to an authenticated
    // connection of the device's sender as soon as the flow control allows.
    // Returns its message_id, or an empty string with *error set (unknown
    // device, its queue of 20 unsent messages full, a bad field).
    QString sendUpstreamMessage(
        const QString &token, const UpstreamRequest &request, QString *error = nullptr);
    // The same with the device's next id and category. A senderId other than the device's fails.
    QString sendUpstream(const QString &token, const QJsonObject &data, const QString &senderId = {});
    // Offline devices hold what is sent to them; coming back online delivers it
    // in order (then the receipts). An idle device waking delivers its held messages.
    void setDeviceOnline(const QString &token, bool online);
    bool setDeviceSubscribed(const QString &token, const QString &topic, bool subscribed);

    // Device groups (notification keys). createGroup returns the new key, or
    // an empty string with *error set.
    QString createGroup(const QString &name, const QStringList &tokens, const QString &senderId = {},
        QString *error = nullptr);
    bool changeGroup(const QString &notificationKey, const QStringList &add, const QStringList &remove,
        QString *error = nullptr);
    bool removeGroup(const QString &notificationKey);
    QList<DeviceGroup> groups() const;

    // Sees every connection, stanza, answer and ACK (the conformance grader);
    // nullptr: none. Not owned; must outlive the server or be detached first.
    void setObserver(EmulatorObserver *observer);
    qint64 elapsedMs() const; // the emulator's monotonic clock, as observers get it

    quint64 seed() const; // the seed of this run's random choices (printed by ccs-emulator)

    // Faults on demand
    void drainConnections(); // CONNECTION_DRAINING on every connection, close each once it has no pending
    void dropConnections(); // abrupt close of every TCP connection
    void setFaults(const FaultSchedule &faults);
    FaultSchedule faults() const;
    void drainConnection(int connectionId);
    void dropConnection(int connectionId);
    QList<ConnectionInfo> connections() const;

    // Settings that may change while running.
    void setStrictWindow(bool strict);
    void setReceiptDelayMs(int ms);
    void setUpstreamRatePerSecond(double rate);
    void setDrainGraceMs(int ms);
    void redeliverNextUpstream(); // the next upstream message is delivered twice

    // The record
    QList<DownstreamRecord> downstreamRecord() const;
    QList<UpstreamRecord> upstreamRecord() const;
    EmulatorCounters counters() const;
    int openConnections() const;
    void clearRecord(); // the record and the counters

Q_SIGNALS:
    void clientConnected(int connectionId);
    void clientAuthenticated(int connectionId, const QString &senderId);
    void clientDisconnected(int connectionId);
    void downstreamReceived(const QString &messageId, const QString &to, const QString &verdict);
    void upstreamAcked(const QString &messageId, const QString &from); // (from, messageId): its identity
    void devicesChanged();

private:
    class Private;
    std::unique_ptr<Private> d;
};

} // namespace ccs::emulator
