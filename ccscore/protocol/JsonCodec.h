#pragma once

// The JSON codec of ccscore, in three parts with one API:
// - JsonParser.h: the strict parser (duplicate keys, depth, UTF-8, line:column errors);
// - JsonCcsMapping.h: CCS messages from parsed objects, by message_type, and the ACK fast path;
// - JsonWriter.h: the compact writer (byte for byte QJsonDocument's) and its ACK fast path.
#include "JsonCcsMapping.h"
#include "JsonParser.h"
#include "JsonWriter.h"
