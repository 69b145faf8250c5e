#pragma once

// Internal to ccscore/server: the emulator's client connections and their answers.

#include "EmulatorContext_p.h"
#include "EmulatorStream_p.h"

#include <QMutex>
#include <QSet>
#include <QTimer>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace ccs::emulator {

// An ACK, NACK or stanza error waiting for its (jittered) time.
struct Answer {
    qint64 dueMs = 0;
    bool countsPending = true;
    bool isStanzaError = false;
    bool isNack = false;
    QString stanzaId;
    QByteArray json; // the answer, or for a stanza error the original payload
    QString errorText;
    QString messageId; // for an observer
    NackCode nackCode = NackCode::InternalServerError;
};

// The server's hold on one client's EmulatorStream. Every call comes from the
// server's thread; the stream may live on a worker thread (see
// EmulatorServer.cpp), and then calls go to it queued, in order, and what the
// server asks of its state (open or not, bytes unsent) is mirrored here.
class StreamHandle
{
public:
    StreamHandle() = default;
    // unsent: kept current by the stream's thread when it is not the server's.
    StreamHandle(EmulatorStream *stream, bool sameThread, std::shared_ptr<std::atomic<qint64>> unsent = {});

    EmulatorStream *stream() const { return m_stream; }
    bool sameThread() const { return m_sameThread; }
    bool isOpen() const;
    qint64 unsentBytes() const;
    void sendGcm(const QByteArray &json);
    void sendDrainingControl(const QByteArray &json);
    void sendStanzaError(const QString &stanzaId, const QByteArray &originalJson, const QString &text);
    void sendStreamErrorAndClose(const QString &condition, const QString &text);
    void closeStream();
    void abort(); // in the same thread, closed() (and the server's clean-up) runs before this returns
    void markClosing() { m_open = false; } // the stream ended itself (a stream error)

private:
    using Call = std::function<void(EmulatorStream *)>;
    // Calls made for a stream on another thread and not taken by it yet: the
    // first one queues a hop, which takes all that were made by the time it
    // runs (an answer each is one hop for a batch, and one write to the
    // socket rather than one a stanza).
    struct Pending {
        QMutex mutex;
        std::vector<Call> calls;
    };
    void run(Call call);

    EmulatorStream *m_stream = nullptr;
    bool m_sameThread = true;
    bool m_open = true; // mirrored for a stream on another thread
    std::shared_ptr<std::atomic<qint64>> m_unsent;
    std::shared_ptr<Pending> m_pending;
};

struct Connection {
    int id = 0;
    StreamHandle stream;
    QString senderId;
    bool bound = false;
    bool draining = false;
    int pending = 0; // downstream messages received and not answered yet: the window
    int stanzasReceived = 0;
    int unackedUpstream = 0;
    QSet<QString> seenIds;
    std::deque<Answer> answers; // by due time
    QTimer answerTimer;
    QTimer drainGraceTimer;
    ConnectionEnd end = ConnectionEnd::Client; // set when the emulator ends it
};

// The open connections: their flow-control window, the answers with their
// jitter (ACK, NACK, stanza error) and the close after CONNECTION_DRAINING.
// Lives on the server's thread.
class ConnectionSet
{
public:
    explicit ConnectionSet(EmulatorContext &context);
    ~ConnectionSet();

    Connection &add(int id, StreamHandle stream);
    std::unique_ptr<Connection> take(int id); // the connection closed
    Connection *find(int id);
    QList<int> ids() const;
    int size() const { return int(m_connections.size()); }
    const std::map<int, std::unique_ptr<Connection>> &all() const { return m_connections; }

    int unauthenticated() const; // open and not past SASL yet
    int openOfSender(const QString &senderId) const;
    // The bound, not draining connection of the sender with the fewest
    // un-ACKed upstream messages, and room for one more; nullptr: none.
    Connection *pickForUpstream(const QString &senderId);

    // One more message un-answered on c; false: past the window of 100 (counted).
    bool takeWindowSlot(Connection &c);
    void queueAnswer(Connection &c, Answer answer);
    void queueNack(Connection &c, const QString &messageId, const QString &from, NackCode code,
        const QString &description, bool countsPending = true);
    void queueStanzaError(Connection &c, const QString &stanzaId, const QByteArray &raw, const QString &text,
        const QString &messageId);
    void flushAnswers(int connectionId);
    // After CONNECTION_DRAINING without a grace period: closes c once nothing is pending either way.
    void checkDrainClose(Connection &c);

private:
    EmulatorContext &m_context;
    std::map<int, std::unique_ptr<Connection>> m_connections;
};

} // namespace ccs::emulator
