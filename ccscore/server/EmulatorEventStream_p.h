#pragma once

#include "EmulatorObserver.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QSet>

#include <memory>
#include <vector>

class QWebSocket;

namespace ccs::emulator {

// The admin API's live event stream (GET /api/v1/events as a WebSocket, see
// README "Admin API: the event stream"). Records what the emulator sees as
// numbered events (an event per stanza and per state change; `seq` counts up
// from 1 without holes) in a bounded ring, and writes them to each attached
// client as WebSocket text messages of one or more JSON lines. A client may
// start from a sequence number still in the ring (older: a "gap" notice
// first) and may follow chosen app-server connections only. A client that
// does not read is sent nothing more once clientBufferBytes wait for its
// socket, and is cut off with a "cut_off" notice (naming where to resume)
// once it is clientLagEvents behind. Memory: the ring plus at most
// clientBufferBytes (+ one message) per client, maxClients clients.
// Lives on the emulator's thread; attach with EmulatorServer::setObserver,
// and pass the calls on to another observer (the grader) with setNext.
class EmulatorEventStream : public QObject, public EmulatorObserver
{
    Q_OBJECT
public:
    struct Limits {
        int ringEvents = 100000;
        qint64 clientBufferBytes = 4 << 20;
        int clientLagEvents = 50000;
        int maxMessageBytes = 256 << 10; // a message holds events up to this size
        int maxClients = 16;
    };

    explicit EmulatorEventStream(QObject *parent = nullptr);
    ~EmulatorEventStream() override;

    void setLimits(const Limits &limits); // clears the ring
    Limits limits() const { return m_limits; }
    // Every observer call is passed on to `next` (scenarioAction comes from
    // it); `lifetime`, when given, ends the forwarding when it is destroyed.
    void setNext(EmulatorObserver *next, QObject *lifetime = nullptr);

    // A client whose handshake was authorized. from: the first sequence
    // number wanted (0: only new events); connections: empty for all.
    void addClient(std::unique_ptr<QWebSocket> socket, quint64 from, const QSet<int> &connections);
    // A conformance rule settled (ConformanceGrader::ruleSettled).
    void ruleSettled(qint64 tMs, const QString &rule, const QString &status, const QString &summary);

    quint64 lastSeq() const { return m_lastSeq; }
    quint64 firstSeq() const; // the oldest event still in the ring
    int clientCount() const { return int(m_clients.size()); }
    qint64 peakClientBuffer() const { return m_peakBuffer; } // the most bytes a client ever had waiting
    int cutOffs() const { return m_cutOffs; }
    // The event with this sequence number as a JSON line, empty when not in the ring.
    QByteArray eventJson(quint64 seq) const;

    // EmulatorObserver
    void tlsHandshakeFailed(qint64 tMs) override;
    void connectionOpened(int connection, qint64 tMs) override;
    void authenticationFailed(int connection, qint64 tMs) override;
    void authenticated(int connection, qint64 tMs, const QString &senderId) override;
    void bound(int connection, qint64 tMs) override;
    void connectionClosed(int connection, qint64 tMs, ConnectionEnd how) override;
    void unparsableReceived(int connection, qint64 tMs, const QString &error) override;
    void downstreamReceived(int connection, qint64 tMs, const QString &messageId, const QString &to,
        const QJsonObject &message) override;
    void downstreamJudged(int connection, qint64 tMs, const QString &messageId, const QString &to, bool nack,
        NackCode code, bool stanzaError, const QString &description) override;
    void answerWritten(int connection, qint64 tMs, const QString &messageId, bool countsPending, bool nack,
        NackCode code) override;
    void upstreamDelivered(int connection, qint64 tMs, const QString &from, const QString &messageId,
        bool isReceipt, int copies) override;
    void ackReceived(
        int connection, qint64 tMs, const QString &to, const QString &messageId, bool matched) override;
    void drainSent(int connection, qint64 tMs) override;
    void deviceChanged(qint64 tMs, const QString &token, const QString &change) override;
    void faultsChanged(qint64 tMs, const FaultSchedule &faults) override;
    ScenarioAction scenarioAction(int connection, const QString &messageId, const QString &to) override;

private:
    enum class Kind : quint8 {
        Connection,
        Downstream,
        Answer,
        Upstream,
        Ack,
        Unparsable,
        Device,
        Faults,
        Rule
    };
    struct Event {
        quint64 seq = 0;
        qint64 tMs = 0;
        qint64 latencyMs = -1;
        int connection = 0;
        Kind kind = Kind::Connection;
        bool flag = false; // receipt, matched, error answer
        QString a, b, c, d; // per kind (see toJson)
    };
    struct Client;

    EmulatorObserver *next() const;
    Event &append(Kind kind, int connection, qint64 tMs);
    QByteArray toJson(const Event &event) const;
    void scheduleFlush();
    void flush();
    void flushClient(Client &client);
    void cutOff(Client &client, const QString &reason);
    void removeClient(Client *client);

    Limits m_limits;
    std::vector<Event> m_ring;
    quint64 m_lastSeq = 0;
    std::vector<std::unique_ptr<Client>> m_clients;
    bool m_flushScheduled = false;
    qint64 m_peakBuffer = 0;
    int m_cutOffs = 0;
    EmulatorObserver *m_next = nullptr;
    QPointer<QObject> m_nextLifetime;
    bool m_nextGuarded = false;
    // When a stanza arrived, for the latency of its answer or ACK; bounded.
    QHash<QString, qint64> m_downSince;
    QHash<QString, QString> m_judged; // a stanza error's description until its answer is written
    QHash<QString, qint64> m_upSince;
};

} // namespace ccs::emulator
