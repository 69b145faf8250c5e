#pragma once

#include "Messages.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

// The strict JSON parser (JsonParser.cpp). JsonCodec.h includes it.
namespace ccs::json {

// Strict parsing: one JSON object, nothing before or after it but white space,
// no comments, no trailing commas, no duplicate keys, valid UTF-8, nesting at
// most 64 deep. On failure returns false, leaves *out alone and fills *error
// with "JSON error at line L:C: expected ... but found ..." and the byte offset.
// Integers that fit in 64 bits stay exact; other numbers are doubles.
bool parseObject(QByteArrayView text, QJsonObject *out, ParseError *error);

} // namespace ccs::json
