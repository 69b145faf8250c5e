#pragma once

#include "EmulatorTypes.h"

#include <QObject>

#include <memory>

namespace ccs::emulator {

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
    // connection of the sender as soon as the flow control allows. Returns its id.
    QString sendUpstream(const QString &token, const QJsonObject &data, const QString &senderId = {});
    void setDeviceOnline(const QString &token, bool online); // an idle device waking delivers held messages

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
    void upstreamAcked(const QString &messageId);
    void devicesChanged();

private:
    class Private;
    std::unique_ptr<Private> d;
};

} // namespace ccs::emulator
