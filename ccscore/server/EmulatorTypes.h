#pragma once

#include "protocol/Messages.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QSslCertificate>
#include <QSslKey>
#include <QString>
#include <QStringList>

namespace ccs::emulator {

struct SenderCredentials {
    QString senderId;
    QString apiKey;
};

enum class DeviceKind {
    Registered, // receives at once
    Unregistered, // DEVICE_UNREGISTERED
    Idle, // holds delay_while_idle messages until woken
    RateLimited, // DEVICE_MESSAGE_RATE_EXCEEDED past its rate
};

struct DeviceSpec {
    QString token; // registration token
    QString name; // "Pixel 7"
    QString category = QStringLiteral("com.example.ccsadmin"); // its app's package
    DeviceKind kind = DeviceKind::Registered;
    int maxMessagesPerMinute = 60; // for RateLimited
    // The sender ID the token was registered for (empty: the emulator's first
    // sender). A message from another sender gets BAD_REGISTRATION.
    QString senderId;
};

struct DeviceStatus {
    DeviceSpec spec;
    // Reachable. An offline device gets nothing: messages to it are ACKed and
    // held until it comes back. An Idle device that is not online is idle,
    // not offline: it holds only delay_while_idle messages.
    bool online = true;
    int received = 0; // downstream messages delivered to it
    int upstreamSent = 0;
    int held = 0; // downstream messages waiting for it to come online
    QStringList topics; // subscribed topics, without "/topics/"
};

// An upstream message a simulated device sends (admin API, the window's panel).
struct UpstreamRequest {
    QString messageId; // empty: the device's own next number ("1", "2", ...)
    QString category; // empty: the device's app package
    QJsonObject data;
    qint64 timeToLive = -1; // seconds; -1: EmulatorConfig::upstreamTimeToLiveSeconds, not written
};

// A device group: a notification key and its member tokens.
struct DeviceGroup {
    QString notificationKey;
    QString name; // notification_key_name
    QString senderId;
    QStringList tokens;
};

// Faults, on demand (EmulatorServer methods) or on a schedule (these fields).
struct FaultSchedule {
    double nackShare = 0.0; // 0..1 of downstream messages NACKed ...
    NackCode nackCode = NackCode::ServiceUnavailable; // ... with this (or InternalServerError)
    int ackDelayMs = 0; // delay every ACK/NACK by this much ...
    int answerJitterMs = 4; // ... plus 0..this many ms drawn per message: answers overtake each other
    int dropEveryStanzas = 0; // drop the connection after every N stanzas received (0: never)
    int drainEveryStanzas = 0; // send CONNECTION_DRAINING after every N stanzas (0: never)
    double duplicateUpstreamShare = 0.0; // 0..1 of upstream messages delivered twice
    int dropEveryMs = 0; // drop every connection on this period (0: never)
    int drainEveryMs = 0; // drain every connection on this period (0: never)
};

struct EmulatorConfig {
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 0; // 0: any free port (tests); ccs-emulator defaults to 5236
    QList<SenderCredentials> senders;
    QSslCertificate certificate;
    QSslKey privateKey;
    QList<DeviceSpec> devices;
    bool strictWindow = false; // disconnect a client that exceeds 100 pending
    // Every random choice (jitter, NACK and duplicate faults, spontaneous
    // upstream) comes from this seed; 0: a random seed, see EmulatorServer::seed().
    quint64 seed = 0;
    int receiptDelayMs = 200; // device -> receipt
    double upstreamRatePerSecond = 0; // spontaneous upstream traffic, spread over devices
    qint64 maxStanzaBytes = 1 << 20; // larger: stream error policy-violation
    FaultSchedule faults;
    int maxStanzaDepth = 32; // deeper XML nesting: stream error policy-violation
    // After CONNECTION_DRAINING the connection carries what was in its pipeline
    // for this long, then the emulator closes it. 0: close as soon as nothing
    // is pending on it (an easier server than CCS).
    int drainGraceMs = 2000;
    // Queued upstream messages and receipts already routed to a connection
    // when it drains: they still arrive on it, after CONNECTION_DRAINING.
    int drainPipelineMessages = 5;
    // CONNECTION_DRAINING as the guide prints it: <message> (no id) with a
    // <data:gcm xmlns:data="google:mobile:data"> child and line breaks around
    // the JSON. false: <message id=".."><gcm xmlns=...>, like every other stanza.
    bool guideDrainStanza = true;
    int topicMessagesPerMinute = 600; // per topic; past it TOPICS_MESSAGE_RATE_EXCEEDED
    int maxCollapseKeysPerDevice = 4; // distinct collapse keys held for an offline device
    int deviceUpstreamQueueLimit = 20; // un-delivered upstream messages a device holds (0: no limit)
    qint64 upstreamTimeToLiveSeconds = 86400; // upstream messages without time_to_live
    // Authenticated connections per sender ID, as CCS allowed; one more gets
    // the stream error policy-violation when it binds.
    int maxConnectionsPerSender = 1000;
    // Connections not authenticated yet (TLS, stream set-up, SASL), all
    // senders together; one more gets the stream error policy-violation.
    int maxUnauthenticatedConnections = 100;
    int authTimeoutMs = 30000; // a connection not bound by then: stream error connection-timeout
    int maxStanzaElements = 1000; // more elements in one stanza: stream error policy-violation
    // Answers the client has not taken yet; past this the emulator stops reading from it (0: no limit).
    qint64 maxUnsentBytes = 4 << 20;
    // Event loops that serve connections (TLS, the XMPP stream): 1 serves
    // them all on the server's own thread, as the window's in-process emulator
    // and the tests do; N > 1 adds N - 1 worker threads and spreads the
    // connections over the N loops. Devices, the upstream queue, the record and
    // the observer stay on the server's thread either way. ccs-emulator: one per core.
    int threads = 1;
};

struct ConnectionInfo {
    int id = 0;
    QString senderId; // empty until SASL succeeded
    bool bound = false; // resource bound: CCS traffic flows
    bool draining = false;
    int pendingDownstream = 0; // received, not answered yet
    int unackedUpstream = 0; // upstream messages and receipts delivered, not ACKed yet
    qint64 unsentBytes = 0; // written by the emulator, not yet taken by the client
};

// What the emulator saw: the witness for tests.
struct DownstreamRecord {
    QString messageId;
    QString to;
    int timesReceived = 0;
    QList<int> connectionIds; // one per reception, in order
    QString verdict; // the latest: "ack", "nack:CODE", "stanza-error", "dropped" (connection
                     // dropped by a fault before the answer), "" (not answered yet)
    bool receiptSent = false;
    bool receiptAcked = false;
    // What became of it on the device side: "delivered", "held" (the device is
    // offline), "expired" (its time_to_live ran out while held, or 0 and the
    // device offline), "collapsed" (replaced by a newer message with its
    // collapse_key), "fanout:N" (a topic or group message reached N devices),
    // "" (not delivered: NACKed, dry_run, ...).
    QString delivery;
};

// An upstream message is identified by (from, messageId): devices choose
// their own ids, so ids repeat across devices. Receipts: from is gcm.googleapis.com.
struct UpstreamRecord {
    QString messageId; // also "dr2:..." for receipts
    QString from;
    bool isReceipt = false;
    int timesDelivered = 0;
    QList<int> deliveredOnConnections;
    bool acked = false;
    int ackedOnConnection = 0;
    int ackCount = 0;
};

struct EmulatorCounters {
    int connectionsAccepted = 0;
    int authFailures = 0;
    int downstreamReceived = 0; // downstream <message> stanzas (ACKs of upstream not counted)
    int acksSent = 0;
    int nacksSent = 0;
    int stanzaErrorsSent = 0;
    int upstreamSent = 0; // upstream stanzas written, redeliveries included (receipts not)
    int upstreamAcked = 0; // upstream messages and receipts ACKed by a client
    int receiptsSent = 0; // receipt stanzas written, redeliveries included
    int badAcks = 0;
    int windowViolations = 0; // a client went past 100 pending
    int maxPendingSeen = 0; // the largest un-answered count on any connection
    int drainsSent = 0;
    int connectionsDropped = 0;
    int duplicateDownstream = 0; // a message_id received again on the same connection
    int messagesExpired = 0; // held downstream or queued upstream messages whose time_to_live ran out
    int streamErrors = 0; // streams the emulator ended with a stream error
    int messagesHeld = 0; // downstream messages held for an offline device
    int messagesCollapsed = 0; // held messages replaced through their collapse_key
    int connectionLimitRejections = 0; // connections closed for a per-sender or unauthenticated limit
};

QString deviceKindName(DeviceKind kind); // "registered", "unregistered", "idle", "rate-limited"
bool deviceKindFromName(QStringView name, DeviceKind *kind);

} // namespace ccs::emulator
