#pragma once

#include <QByteArray>

namespace ccs {

// Compares a secret someone presented (a password, a bearer token) with the
// expected one in time that depends on the length only, never on where the
// first differing byte is. Every credential check in ccscore goes through it.
bool constantTimeEquals(const QByteArray &a, const QByteArray &b);

} // namespace ccs
