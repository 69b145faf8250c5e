#pragma once

#include "NackCatalogue.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>
#include <variant>

// Value types for every CCS message. No sockets, no timers, no QObject.
// Every type keeps the JSON fields it does not know in `extra`, so that a
// round trip loses nothing (the reference says unknown fields are ignored,
// and ignoring is not deleting).
namespace ccs {

inline constexpr auto kGcmNamespace = "google:mobile:data";
inline constexpr int kMaxPendingPerConnection = 100;
inline constexpr int kMaxDataBytes = 4096;
inline constexpr qint64 kMaxTimeToLive = 2419200; // 4 weeks, also the default

// App server -> CCS.
struct DownstreamMessage {
    QString to;
    QString messageId;
    std::optional<QJsonObject> data;
    std::optional<QJsonObject> notification;
    QString collapseKey; // empty: absent
    std::optional<qint64> timeToLive; // seconds; absent: 4 weeks
    std::optional<bool> delayWhileIdle;
    std::optional<bool> deliveryReceiptRequested;
    QString priority; // "", "normal" or "high"
    std::optional<bool> contentAvailable;
    std::optional<bool> mutableContent;
    std::optional<bool> dryRun;
    QJsonObject extra;

    QJsonObject toJson() const;
    QByteArray toJsonBytes() const; // compact
    // Lenient mapping of an already-valid object (see validateDownstream).
    static DownstreamMessage fromJson(const QJsonObject &object);
    qint64 effectiveTimeToLive() const { return timeToLive.value_or(kMaxTimeToLive); }
    friend bool operator==(const DownstreamMessage &, const DownstreamMessage &) = default;
};

// Device -> app server, through CCS.
struct UpstreamMessage {
    QString from; // the device's registration token
    QString messageId;
    QString category; // the app's package name
    QJsonObject data;
    std::optional<qint64> timeToLive;
    QJsonObject extra;

    QJsonObject toJson() const;
    friend bool operator==(const UpstreamMessage &, const UpstreamMessage &) = default;
};

// An ACK in either direction: CCS -> app server carries `from` (the token);
// app server -> CCS carries `to` (the device, for upstream ACKs).
struct Ack {
    QString messageId;
    QString from;
    QString to;
    QJsonObject extra;

    QJsonObject toJson() const; // with "message_type":"ack"
    // The ACK the app server sends for an upstream message or a receipt.
    static Ack forUpstream(const QString &to, const QString &messageId);
    friend bool operator==(const Ack &, const Ack &) = default;
};

struct Nack {
    QString messageId; // may be empty in a hostile or broken NACK
    QString from;
    NackCode code = NackCode::InternalServerError;
    QString errorText; // the code as received, e.g. an unknown "FOO_BAR"
    QString errorDescription;
    QJsonObject extra;

    QJsonObject toJson() const; // with "message_type":"nack"
    static Nack make(
        const QString &messageId, const QString &from, NackCode code, const QString &description);
    friend bool operator==(const Nack &, const Nack &) = default;
};

// A delivery receipt: message_id is "dr2:" + the original id.
struct Receipt {
    QString messageId; // "dr2:ORIGINAL"
    QString from; // "gcm.googleapis.com"
    QString category;
    QString messageStatus; // "MESSAGE_SENT_TO_DEVICE"
    QString originalMessageId;
    QString deviceRegistrationId;
    QJsonObject extra;

    QJsonObject toJson() const; // with "message_type":"receipt"
    static Receipt make(const QString &originalMessageId, const QString &token, const QString &category);
    friend bool operator==(const Receipt &, const Receipt &) = default;
};

struct Control {
    QString controlType; // "CONNECTION_DRAINING" is the only one CCS defines
    QJsonObject extra;
    bool isConnectionDraining() const { return controlType == QLatin1String("CONNECTION_DRAINING"); }
    QJsonObject toJson() const; // with "message_type":"control"
    static Control connectionDraining();
    friend bool operator==(const Control &, const Control &) = default;
};

// A message whose message_type this version does not know: ignored, kept for the log.
struct UnknownMessage {
    QString messageType;
    QJsonObject object;
    friend bool operator==(const UnknownMessage &, const UnknownMessage &) = default;
};

// <message type="error"> with <error code="400" type="modify"><bad-request/><text>..</text></error>.
struct StanzaError {
    QString stanzaId;
    int code = 400;
    QString type = QStringLiteral("modify");
    QString condition = QStringLiteral("bad-request");
    QString text; // e.g. "InvalidJson: JSON_PARSING_ERROR : Missing Required Field: message_id"
    QString gcmPayload; // the original JSON as the server echoed it
    friend bool operator==(const StanzaError &, const StanzaError &) = default;
};

// A JSON text that could not be parsed, or parsed to something that is not a
// CCS message. Never thrown: returned.
struct ParseError {
    QString message; // human readable, names line:column for syntax errors
    int offset = -1; // byte offset of a syntax error, -1 otherwise
    friend bool operator==(const ParseError &, const ParseError &) = default;
};

// What CCS sends to an app server.
using ServerMessage = std::variant<ParseError, UpstreamMessage, Ack, Nack, Receipt, Control, UnknownMessage>;
// What an app server sends to CCS: a downstream request or an ACK of upstream.
using ClientMessage = std::variant<ParseError, DownstreamMessage, Ack, UnknownMessage>;

} // namespace ccs
