#pragma once

#include "Messages.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

// CCS messages to and from parsed JSON, with the ACK fast path
// (JsonCcsMapping.cpp). JsonCodec.h includes it.
namespace ccs::json {

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
