#pragma once

#include "MessageLedger.h"
#include "SessionTypes.h"
#include "protocol/Validation.h"

#include <QObject>

#include <memory>

namespace ccs {

class SessionClock;

// One app server's session with CCS: its connections, the send queue, the
// 100-message windows, ACKs of upstream messages and receipts, retries,
// reconnects, de-duplication and the ledger. The GUI and ccsctl are views of it.
// QXmpp stays behind this class: nothing QXmpp appears in this header.
class CcsSession : public QObject
{
    Q_OBJECT
public:
    explicit CcsSession(QObject *parent = nullptr);
    ~CcsSession() override;

    void setSettings(const ConnectionSettings &settings);
    const ConnectionSettings &settings() const;

    // The monotonic clock of retry due times, time_to_live deadlines and the answer
    // timeout (default: the system's steady clock). Tests pass a ManualClock. Not
    // owned; set it before the first send(); nullptr restores the default.
    void setClock(SessionClock *clock);
    SessionClock *clock() const;

    void open(); // connects settings().connectionCount connections
    void close(); // closes all; queued messages stay queued (in-flight ones go back to the queue)

    SessionState state() const;
    SessionError lastError() const;
    QString lastErrorString() const; // a sentence a person can act on; never holds the API key

    // Validates with the shared rules. Invalid: returns false, fills *failure, nothing is queued.
    // Valid: queued (sent when a window has room) and recorded in the ledger.
    bool send(const DownstreamMessage &message, ValidationFailure *failure = nullptr);
    bool cancel(const QString &messageId); // only while Queued or RetryWaiting

    // Read-only: the session alone adds entries and moves their states; views
    // read the ledger and follow its signals.
    const MessageLedger *ledger() const;
    QList<ConnectionStatus> connections() const;
    int queueLength() const;

Q_SIGNALS:
    void stateChanged(ccs::SessionState state);
    void errorOccurred(ccs::SessionError error, const QString &message);
    void connectionsChanged();
    // After close(): every stream has ended (what was written has been flushed).
    void closed();
    // A new upstream message (after de-duplication), already ACKed on connectionId.
    void upstreamReceived(const ccs::UpstreamMessage &message, int connectionId, qint64 ackedAtMs);
    // A redelivered upstream message or receipt: ACKed again, not delivered again.
    // `from` and `messageId` together identify it (a receipt by its dr2: id alone).
    void duplicateReceived(const QString &from, const QString &messageId, int timesSeen);
    void receiptReceived(const ccs::Receipt &receipt, int connectionId);
    // Every stanza in and out, with credentials redacted, for the traffic log.
    void trafficLogged(ccs::TrafficDirection direction, int connectionId, const QString &xml);

protected:
    // The traffic log costs a string per stanza: it is produced only while someone listens.
    void connectNotify(const QMetaMethod &signal) override;
    void disconnectNotify(const QMetaMethod &signal) override;

private:
    class Private;
    std::unique_ptr<Private> d;
};

} // namespace ccs
