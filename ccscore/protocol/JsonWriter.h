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

} // namespace ccs::json
