#pragma once

#include "Messages.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace ccs::json {

// Strict parsing: one JSON object, nothing before or after it but white space,
// no comments, no trailing commas, no duplicate keys, valid UTF-8, nesting at
// most 64 deep. On failure returns false, leaves *out alone and fills *error
// with "JSON error at line L:C: expected ... but found ..." and the byte offset.
// Integers that fit in 64 bits stay exact; other numbers are doubles.
bool parseObject(QByteArrayView text, QJsonObject *out, ParseError *error);

// Compact, UTF-8, key order as QJsonObject keeps it.
QByteArray serialize(const QJsonObject &object);
QByteArray serializePretty(const QJsonObject &object);
// serialize(ack.toJson()), written directly: every message gets an ACK.
QByteArray serializeAck(const Ack &ack);

// Server -> client: decides the type by message_type ("ack", "nack",
// "receipt", "control"; absent: upstream, which needs message_id and from to
// be ACKed; anything else: UnknownMessage, to be ignored). A known field of the
// wrong type gives a ParseError naming the field; unknown fields go to `extra`.
ServerMessage parseServerMessage(QByteArrayView json);
// Client -> server: a downstream request (not validated here: see
// validateDownstream) or an ACK of an upstream message. With `object`, it
// also receives the parsed JSON object (left alone on the plain-ACK fast path
// and on a syntax error), for what validation must see as it was sent.
ClientMessage parseClientMessage(QByteArrayView json, QJsonObject *object = nullptr);

// The fast path both parsers take first for the commonest message of all, an
// ACK: a flat object of plain ASCII string members (no escapes) among
// message_type ("ack"), message_id, from and to. Anything else gives nullopt
// and goes through the strict parser, which gives the same Ack for what this
// accepts (the fuzz target checks that).
std::optional<Ack> parsePlainAck(QByteArrayView json);

} // namespace ccs::json
