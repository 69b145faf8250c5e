#pragma once

#include "EmulatorTypes.h"
#include "protocol/NackCatalogue.h"

#include <QJsonObject>
#include <QString>

namespace ccs::emulator {

// Why a connection ended.
enum class ConnectionEnd {
    Client, // the app server closed it or went away
    Dropped, // the emulator cut it (a fault or the conformance scenario)
    Drained, // the emulator closed it after CONNECTION_DRAINING
    StreamError, // the emulator ended it with a stream error (bad input, limits)
    Stopped, // the emulator shut down
};

// What the emulator does with one valid downstream message, decided by an
// observer that plays a scenario (the conformance grader).
struct ScenarioAction {
    bool nack = false; // answer with nackCode instead of delivering
    NackCode nackCode = NackCode::ServiceUnavailable;
    bool unregisterToken = false; // with nack: the device stays unregistered for the run
    bool drainAfter = false; // CONNECTION_DRAINING after answering this message
    bool dropNow = false; // cut the connection now: this message stays unanswered
    int upstream = 0; // this many devices of the sender send an upstream message first
};

// Sees what the emulator sees, in order, on the emulator's thread. Times are
// milliseconds of the emulator's monotonic clock. The emulator calls these
// only when an observer is attached: nothing is built for it otherwise.
class EmulatorObserver
{
public:
    virtual ~EmulatorObserver() = default;

    virtual void tlsHandshakeFailed(qint64 /*tMs*/) { }
    virtual void connectionOpened(int /*connection*/, qint64 /*tMs*/) { }
    // authcid as the client gave it; the password is never passed on.
    virtual void authenticationFailed(int /*connection*/, qint64 /*tMs*/) { }
    virtual void authenticated(int /*connection*/, qint64 /*tMs*/, const QString & /*senderId*/) { }
    virtual void bound(int /*connection*/, qint64 /*tMs*/) { }
    virtual void connectionClosed(int /*connection*/, qint64 /*tMs*/, ConnectionEnd /*how*/) { }
    // A <gcm> payload that is not a JSON object: answered with a stanza error.
    virtual void unparsableReceived(int /*connection*/, qint64 /*tMs*/, const QString & /*error*/) { }
    // A downstream message (not an ACK), before it is judged.
    virtual void downstreamReceived(int /*connection*/, qint64 /*tMs*/, const QString & /*messageId*/,
        const QString & /*to*/, const QJsonObject & /*message*/)
    { }
    // The emulator's verdict on it, when it is queued: "ack", a NACK, or a stanza
    // error (validation failures carry their description).
    virtual void downstreamJudged(int /*connection*/, qint64 /*tMs*/, const QString & /*messageId*/,
        const QString & /*to*/, bool /*nack*/, NackCode /*code*/, bool /*stanzaError*/,
        const QString & /*description*/)
    { }
    // An answer written to the client (ACK, NACK or stanza error).
    virtual void answerWritten(int /*connection*/, qint64 /*tMs*/, const QString & /*messageId*/,
        bool /*countsPending*/, bool /*nack*/, NackCode /*code*/)
    { }
    virtual void upstreamDelivered(int /*connection*/, qint64 /*tMs*/, const QString & /*from*/,
        const QString & /*messageId*/, bool /*isReceipt*/, int /*copies*/)
    { }
    // An ACK from the app server; matched: it named a message delivered on this
    // connection and not ACKed yet (otherwise it got BAD_ACK).
    virtual void ackReceived(int /*connection*/, qint64 /*tMs*/, const QString & /*to*/,
        const QString & /*messageId*/, bool /*matched*/)
    { }
    virtual void drainSent(int /*connection*/, qint64 /*tMs*/) { }
    // A simulated device changed: "added", "removed", "asleep", "awake",
    // "unregistered" (a final NACK of the scenario) or "topics".
    virtual void deviceChanged(qint64 /*tMs*/, const QString & /*token*/, const QString & /*change*/) { }
    virtual void faultsChanged(qint64 /*tMs*/, const FaultSchedule & /*faults*/) { }

    // The scenario: what to do with this valid downstream message.
    virtual ScenarioAction scenarioAction(
        int /*connection*/, const QString & /*messageId*/, const QString & /*to*/)
    {
        return {};
    }
};

} // namespace ccs::emulator
