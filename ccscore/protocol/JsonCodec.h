#pragma once

#include "Messages.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace ccs::json {

// Strict parsing: one JSON object, nothing before or after it but white space,
// no comments, no trailing commas, no duplicate keys, valid UTF-8. On failure
// returns false and fills *error with line:column and what was expected.
bool parseObject(QByteArrayView text, QJsonObject *out, ParseError *error);

// Compact, UTF-8, key order as QJsonObject keeps it.
QByteArray serialize(const QJsonObject &object);
QByteArray serializePretty(const QJsonObject &object);

// Server -> client: decides the type by message_type (absent: upstream, or
// control/ack/nack/receipt). Wrong field types give ParseError naming the field.
ServerMessage parseServerMessage(QByteArrayView json);
// Client -> server: a downstream request (not validated here: see
// validateDownstream) or an ACK of an upstream message.
ClientMessage parseClientMessage(QByteArrayView json);

} // namespace ccs::json
