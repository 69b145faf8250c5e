#pragma once

// Internal to ccscore/server: upstream messages and receipts on their way to the app server.

#include "DeviceSimulator_p.h"
#include "EmulatorConnections_p.h"

#include <QCoreApplication>
#include <QHash>

#include <deque>

namespace ccs::emulator {

// An upstream message or receipt on its way to the app server.
struct UpstreamItem {
    QString messageId;
    // The device's token, or gcm.googleapis.com for a receipt: (from, messageId) is the identity.
    QString from;
    QString senderId;
    QString deviceToken; // empty for receipts
    bool isReceipt = false;
    QByteArray json;
    qint64 expiresAtMs = 0;
    int inflightConnection = 0; // 0: waiting for a connection
    bool everDelivered = false; // left the device's queue of unsent messages
    int unackedCopies = 0; // delivered copies on that connection not ACKed yet
    bool acked = false;
    bool expired = false;
    bool nowOrNever = false; // time_to_live 0
};

// Devices choose their own message ids; the app server names a message in
// its ACK by (from, message_id), on the connection it was delivered on. What
// a closed connection left un-ACKed goes out again on another one.
class UpstreamQueue
{
    Q_DECLARE_TR_FUNCTIONS(ccs::emulator::EmulatorServer)
public:
    explicit UpstreamQueue(EmulatorContext &context);

    // An upstream message from the device (sender: the device's); its id, or
    // an empty string with *error set.
    QString enqueue(
        DeviceState &device, const QString &senderId, const UpstreamRequest &request, QString *error);
    void enqueueReceipt(
        const QString &senderId, const QString &originalId, const QString &token, const QString &category);
    void redeliverNext() { m_redeliverNext = true; }

    // The message (from, messageId) delivered on this connection and not ACKed
    // yet; nullptr: the ACK names nothing that awaits it (BAD_ACK).
    UpstreamItem *awaitingAck(int connectionId, const QString &from, const QString &messageId);
    // Records the ACK; true for the first ACK of the message.
    bool acknowledge(UpstreamItem &item, Connection &c);

    // Delivers what waits to connections that can take it; forgets what needs nothing more.
    void pump(ConnectionSet &connections);
    // CONNECTION_DRAINING: at most `count` waiting messages of c's sender still go out on c.
    void deliverPipeline(Connection &c, int count);
    // The connection closed: what it had un-ACKed waits for another one.
    void release(int connectionId);

private:
    void deliver(UpstreamItem &item, Connection &c);
    void expire(UpstreamItem &item);

    EmulatorContext &m_context;
    std::deque<UpstreamItem> m_items;
    QHash<QString, int> m_unsentByDevice; // upstream messages a device has not handed to CCS yet
    bool m_redeliverNext = false;
};

} // namespace ccs::emulator
