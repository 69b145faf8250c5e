#pragma once

#include "Messages.h"

#include <QJsonObject>
#include <QString>

#include <optional>

namespace ccs {

// The rules of ccs-protocol-facts.md for downstream requests, shared by the
// emulator (to answer as CCS would) and the composer (to refuse before sending).
enum class ValidationRule {
    MissingTo, // `to` absent or empty
    ToNotString,
    MissingMessageId, // stanza error, not a NACK
    MessageIdNotString,
    RegistrationIdsNotAllowed, // XMPP has no multicast
    DataNotObject,
    DataTooLarge, // keys and values over 4096 bytes
    DataReservedKey, // "from", or a key starting with "google" or "gcm"
    DataValueNotString, // GCM data values are strings
    NotificationNotObject,
    CollapseKeyNotString,
    TimeToLiveNotNumber, // JSON_TYPE_ERROR
    TimeToLiveOutOfRange, // INVALID_TTL: 0..2419200
    BooleanFieldNotBoolean, // delay_while_idle, delivery_receipt_requested, content_available,
                            // mutable_content, dry_run
    PriorityInvalid, // "normal" or "high"
    TopicNameInvalid, // `to` is "/topics/" + a name not of [a-zA-Z0-9-_.~%]+: BAD_REGISTRATION
};

struct ValidationFailure {
    ValidationRule rule;
    QString field; // JSON path of the failing field: "time_to_live", "data.from"
    QString description; // as CCS would word it, e.g. InvalidJson: JSON_TYPE_ERROR : Field "time_to_live"
                         // must be a JSON java.lang.Number: abc
    bool stanzaError = false; // true: answered with a stanza error, not a NACK
    NackCode nackCode = NackCode::InvalidJson; // when !stanzaError
    QString userMessage() const; // a sentence for the composer: what and where
};

// Returns the first failure, or nullopt when the request is valid. Stanza
// errors come first (without a usable message_id CCS cannot NACK), then NACK
// rules in field order: registration_ids, to, data, notification,
// collapse_key, time_to_live, the booleans, priority.
// Data values: strings, and also numbers and booleans (GCM delivered those as
// their text, and the reference's own Python sample sends {"pong": 1}); null,
// arrays and objects are DataValueNotString.
std::optional<ValidationFailure> validateDownstream(const QJsonObject &request);
// All failures, for the composer to mark every bad field at once.
QList<ValidationFailure> validateDownstreamAll(const QJsonObject &request);

// Size of `data` as CCS counts it: the UTF-8 bytes of all keys and values.
int dataPayloadBytes(const QJsonObject &data);

QString ruleName(ValidationRule rule);

} // namespace ccs
