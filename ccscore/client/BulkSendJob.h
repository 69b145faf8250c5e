#pragma once

#include "SessionTypes.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>

namespace ccs {

class CcsSession;

// "Send copies": N copies of one message, each with its own message id, handed
// to a session no faster than its windows take them. The session's queue is
// kept a few windows deep (so a million copies never sit in the queue at once),
// answers are counted from the ledger, and cancel() withdraws what is still
// queued. Progress comes as signals; the job never blocks the event loop for
// longer than one chunk of send() calls.
class BulkSendJob : public QObject
{
    Q_OBJECT
public:
    explicit BulkSendJob(CcsSession *session, QObject *parent = nullptr);
    ~BulkSendJob() override;

    // Copies handed to the session per event-loop pass, at most.
    static constexpr int kChunk = 250;

    // Starts sending `copies` copies of `message` (its id is replaced in each).
    // False while a job is running or without a session.
    bool start(const DownstreamMessage &message, int copies);
    // Stops handing copies over and cancels those still queued in the session;
    // copies already on the wire are still answered and counted.
    void cancel();

    bool isRunning() const { return m_running; }
    int total() const { return m_total; }
    int submitted() const { return m_submitted; } // handed to the session
    int answered() const { return m_answered; } // ACKed, delivered, NACKed, failed or expired
    int cancelled() const { return m_cancelled; } // never handed over, refused, or withdrawn
    // How many copies may wait in the session's queue (not yet on a connection).
    int queueDepth() const;

Q_SIGNALS:
    // At the start, at most every 100 ms while running, on cancel and at the end.
    void progressChanged(int answered, int cancelled, int submitted, int total);
    void finished(int answered, int cancelled);

private:
    void topUp();
    void onEntryChanged(int index, ccs::MessageState from, ccs::MessageState to);
    void reportProgress(bool now = false);
    void finishIfDone();

    QPointer<CcsSession> m_session;
    QTimer m_topUp;
    QElapsedTimer m_sinceProgress;
    DownstreamMessage m_message;
    QSet<int> m_outstanding; // ledger indices handed over and not answered yet
    bool m_running = false;
    int m_total = 0, m_submitted = 0, m_answered = 0, m_cancelled = 0;
};

} // namespace ccs
