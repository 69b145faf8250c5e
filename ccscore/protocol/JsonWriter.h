#pragma once

#include "Messages.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

// The compact JSON writer (JsonWriter.cpp). JsonCodec.h includes it.
namespace ccs::json {

// Compact, UTF-8, key order as QJsonObject keeps it.
QByteArray serialize(const QJsonObject &object);
QByteArray serializePretty(const QJsonObject &object);
// serialize(ack.toJson()), written directly: every message gets an ACK.
QByteArray serializeAck(const Ack &ack);
// serialize(object), cut around the value of its top-level string member `key`:
// before + appendString(value) + after is what serialize() writes, for any value.
// False (and nothing written) when the object has no string member `key`.
bool serializeAround(const QJsonObject &object, QLatin1StringView key, QByteArray *before, QByteArray *after);
// A JSON string (quoted and escaped as serialize() writes it), appended to out.
void appendString(QByteArray &out, QStringView s);
// serialize(message.toJson()), written directly: every downstream message is written to
// the wire and to the history. `payload`, when given, receives serialize(*data) and
// serialize(*notification), joined by a space (what the history indexes for search).
QByteArray serializeDownstream(const DownstreamMessage &message, QByteArray *payload = nullptr);

} // namespace ccs::json
