#pragma once

#include "protocol/Messages.h"

#include <QList>
#include <QMetaType>
#include <QSslCertificate>
#include <QString>

namespace ccs {

inline constexpr auto kGcmDomain = "gcm.googleapis.com";

// Where and how to connect. The API key is held only in memory.
struct ConnectionSettings {
    QString host = QStringLiteral("gcm.googleapis.com");
    quint16 port = 5235;
    QString domain = QStringLiteral("gcm.googleapis.com"); // XMPP domain; the certificate must name it
    QString senderId;
    QString apiKey;
    // Empty: verify against the system CAs. Otherwise only these are trusted (pinning).
    QList<QSslCertificate> pinnedCertificates;
    int windowSize = kMaxPendingPerConnection; // clamped to 1..100
    int connectionCount = 1; // parallel connections, each with its own window
    // Retryable NACKs are retried at most this often; then the message ends Nacked.
    int maxRetries = 10;
    // TCP + TLS + SASL + bind must finish within this, or the attempt fails with Timeout.
    int connectTimeoutMs = 15000;
    // Upstream de-duplication: the last N message ids, none older than the age bound.
    int deduplicationCapacity = 100000;
    qint64 deduplicationMaxAgeMs = 24 * 3600 * 1000; // upstream time_to_live is at most 24 h
    // CCS answers every downstream message (ACK, NACK or stanza error). A connection on which
    // a message has waited this long for its answer is treated as lost: it is closed and its
    // pending messages are sent again on a new one, at once. 0: wait for ever.
    int answerTimeoutMs = 30000;
};

enum class SessionState {
    Disconnected,
    Connecting, // TCP + TLS
    Authenticating, // SASL PLAIN, bind
    Connected,
    Draining, // the active connection got CONNECTION_DRAINING; a new one is opening
    Reconnecting, // lost after auth (at once) or waiting out a back-off
    Error, // stopped: wrong credentials, or the user must act
};

enum class SessionError {
    None,
    HostNotFound,
    ConnectionRefused,
    TlsError, // certificate not trusted, wrong host name, expired, handshake failed
    AuthenticationFailed, // SASL not-authorized: wrong sender ID or API key
    StreamError, // the server closed the stream with an error
    ProtocolError, // the server sent something that is not XMPP/CCS
    ConnectionLost,
    Timeout,
};

enum class MessageState {
    Queued,
    InFlight,
    Acked,
    Delivered,
    RetryWaiting,
    Nacked,
    Expired,
    Failed,
    Cancelled,
};

// Terminal states: every accepted message ends in exactly one of them
// (Delivered refines Acked: a message that is Acked and later Delivered ends in Delivered).
bool isTerminal(MessageState state);
QString stateName(MessageState state);
QString sessionStateName(SessionState state);
QString sessionErrorName(SessionError error);
// The window actually used: settings.windowSize clamped to 1..100.
int effectiveWindow(const ConnectionSettings &settings);

enum class TrafficDirection { In, Out };

struct ConnectionStatus {
    int id = 0;
    bool authenticated = false;
    bool draining = false;
    int pending = 0; // un-answered downstream messages on this connection
    int window = kMaxPendingPerConnection;
};

} // namespace ccs

Q_DECLARE_METATYPE(ccs::SessionState)
Q_DECLARE_METATYPE(ccs::SessionError)
Q_DECLARE_METATYPE(ccs::MessageState)
