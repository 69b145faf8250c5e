#pragma once

#include "server/EmulatorObserver.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QStringList>
#include <QTimer>

#include <array>
#include <map>
#include <vector>

namespace ccs::emulator {

class EmulatorServer;

// The scenario the emulator plays against the app server, placed by the
// server's own traffic: positions count the downstream messages with a new
// message_id, across the run (resends and retries do not count). 0: never.
struct ConformanceScenario {
    int drainAt = 250; // CONNECTION_DRAINING after this message (on its connection)
    int dropAt = 550; // cut the connection at this message (it stays unanswered)
    int retryableEvery
        = 200; // every this many, at the middle: SERVICE_UNAVAILABLE / INTERNAL_SERVER_ERROR alternately
    int retryableRepeats = 2; // such a message is NACKed this many times before it is ACKed
    int badRegistrationAt = 420; // BAD_REGISTRATION (the next message to a registration token from here)
    // DEVICE_UNREGISTERED on the first message from here to a registered device
    // other than the first token the server used; the token stays unregistered.
    int unregisterAt = 800;
    int upstreamEvery = 100; // every this many, two devices send an upstream message (three at the first)
    // Timing of the rules
    int ackTimeoutMs = 1000; // upstream messages and receipts ACKed within this
    int inFlightGraceMs = 1000; // what the server had sent before it could read a control or NACK
    int drainReconnectMs = 5000; // a new connection after CONNECTION_DRAINING within this
    int reconnectMs = 2000; // a new connection after one ended within this
    int resendTimeoutMs = 10000; // a pending message of a closed connection sent again within this
    int retryDeadlineMs = 10000; // a retryable NACK not retried within this: the message is lost
    int minRetryDelayMs = 1000; // the first retry no sooner (5% tolerance for coarse timers)
};

// Grades the app server connected to an emulator, rule by rule, while the
// emulator plays ConformanceScenario. Attach with EmulatorServer::setObserver;
// lives on the emulator's thread. Each rule settles once (ruleSettled), and
// each piece of evidence is announced (evidence), so a console can follow it.
class ConformanceGrader : public QObject, public EmulatorObserver
{
    Q_OBJECT
public:
    enum class Status { NotExercised, Pass, Fail };
    enum Rule {
        TlsPlain,
        Window,
        AckUpstream,
        AckReceipt,
        Drain,
        Resend,
        Retry,
        FinalNack,
        Reconnect,
        ValidJson,
        UniqueIds,
        RuleCount
    };
    struct RuleResult {
        QString id;
        Status status = Status::NotExercised;
        bool settled = false;
        int failures = 0;
        QStringList evidence; // at most kMaxEvidence lines; failures first
        QString explanation; // what the rule asks; for a FAIL, what CCS would have done
    };
    static constexpr int kMaxEvidence = 20;

    explicit ConformanceGrader(
        EmulatorServer *server, ConformanceScenario scenario = {}, QObject *parent = nullptr);
    ~ConformanceGrader() override;

    static QString ruleId(Rule rule);
    static QString statusName(Status status); // "pass", "fail", "not_exercised"

    // Ends the run: deadlines are judged, unsettled rules take their final status.
    void finish();
    bool finished() const { return m_finished; }
    bool allSettled() const;
    bool passed() const; // no rule failed
    QList<RuleResult> results() const;
    QJsonObject traffic() const;

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
    ScenarioAction scenarioAction(int connection, const QString &messageId, const QString &to) override;

Q_SIGNALS:
    void ruleSettled(const QString &ruleId, const QString &status, const QString &summary);
    void evidenceAdded(const QString &ruleId, const QString &evidence);
    void allRulesSettled();

private:
    enum class MsgState : quint8 { Pending, Acked, FinalNack, Retryable, Draining, Invalid };
    struct Message {
        int connection = 0; // where it was last received
        qint64 firstMs = 0;
        qint64 lastMs = 0;
        qint64 answeredMs = -1; // when the answer to its last reception was written
        qint64 ttlMs = -1; // its time_to_live (ms); -1: four weeks
        MsgState state = MsgState::Pending;
        bool answered = false;
        int nacks = 0; // retryable NACKs given
        qint64 lastNackMs = -1;
        qint64 lastRetryGapMs = 0;
        bool retryPending = false;
        bool resendPending = false;
        qint64 resendSinceMs = 0;
        int resendFrom = 0;
        int sequence = 0; // its position among new message ids
        int receptions = 0;
        bool mayRepeat = false; // answered just before an abrupt close: the answer may be lost
        bool retryTarget = false; // the scenario NACKs it retryableRepeats times
        NackCode retryCode = NackCode::ServiceUnavailable;
        QString to;
    };
    struct Conn {
        qint64 openedMs = 0;
        qint64 boundMs = -1;
        qint64 closedMs = -1;
        QString senderId;
        bool authenticated = false;
        bool isBound = false;
        bool open = true;
        bool draining = false;
        qint64 drainMs = -1;
        int pending = 0; // un-answered downstream messages
        int maxPending = 0;
        int downstream = 0;
        bool windowFailed = false;
        bool drainSendFailed = false;
    };
    struct Outstanding { // an upstream message or receipt waiting for its ACK
        int connection = 0;
        qint64 deliveredMs = 0;
        bool isReceipt = false;
        bool duringDrain = false;
        int copies = 1;
    };

    void pass(Rule rule);
    void exercise(Rule rule);
    void fail(Rule rule, const QString &evidence, const QString &consequence);
    void note(Rule rule, const QString &evidence);
    void settle(Rule rule, Status status, const QString &summary);
    void tick(); // deadlines
    void checkScenarioDone();
    Conn *conn(int id);
    Message *findMessage(const QString &messageId); // nullptr when unknown
    bool otherBoundConnection(int except, const QString &senderId) const;
    static QString key(const QString &from, const QString &messageId);
    QString t(qint64 ms) const; // "t=12.345s"
    QString passEvidence(Rule rule) const; // what was checked, for a PASS

    EmulatorServer *m_server;
    ConformanceScenario m_scenario;
    std::array<RuleResult, RuleCount> m_rules;
    std::array<bool, RuleCount> m_exercised {};
    QHash<QString, Message> m_messages; // only ever inserted into: m_lastMessage stays valid until the next insert
    QString m_lastMessageId;
    Message *m_lastMessage = nullptr;
    std::map<int, Conn> m_conns;
    QHash<QString, Outstanding> m_outstanding; // key(from, id)
    QHash<QString, qint64> m_unregistered; // token -> when DEVICE_UNREGISTERED was written
    QHash<QString, QString> m_unregisterPending; // message id -> token, until its NACK is written
    struct Wait {
        int connection;
        qint64 sinceMs;
    };
    std::vector<Wait> m_reconnectWaits; // an authenticated connection ended; a new one is due
    std::vector<Wait> m_drainWaits; // drained; a new connection is due
    std::vector<qint64> m_authFailures;
    QStringList m_resendIds; // messages with a resend due
    QStringList m_retryIds; // messages with a retry due
    qint64 m_lastScriptedMs = 0; // when the scenario last NACKed, dropped or drained
    bool m_authLoopFailed = false;
    QString m_firstToken; // the first registration token the server sent to
    int m_sequence = 0; // new message ids so far
    int m_lastScripted = 0; // the last position the scenario uses
    bool m_badRegistrationDone = false;
    QString m_badRegistrationId; // the message the scenario NACKs BAD_REGISTRATION, at every reception
    bool m_unregisterDone = false;
    bool m_drainDone = false;
    bool m_dropDone = false;
    int m_retryableGiven = 0;
    bool m_finished = false;
    bool m_allSettledEmitted = false;
    QTimer m_tick;
    // Traffic
    int m_connections = 0, m_authenticatedConnections = 0, m_authFailureCount = 0, m_downstream = 0,
        m_resent = 0, m_acks = 0, m_nacks = 0, m_upstream = 0, m_receipts = 0, m_acksReceived = 0,
        m_badAcks = 0, m_drains = 0, m_drops = 0, m_stanzaErrors = 0, m_tlsFailures = 0;
    // What the PASS lines say
    int m_maxPending = 0, m_upstreamAcked = 0, m_receiptsAcked = 0, m_resendsSeen = 0, m_retriesSeen = 0,
        m_finalNacks = 0, m_reconnects = 0, m_judged = 0, m_drainAcked = 0;
    qint64 m_maxAckLatencyMs = 0, m_minRetryGapMs = -1, m_maxReconnectMs = 0;
};

} // namespace ccs::emulator
