#pragma once

#include <QString>

namespace ccs {

// What a log line or a view must never show. The key alone is enough; with the
// sender ID and domain too, the exact SASL PLAIN payload is also recognised.
struct RedactionSecrets {
    QString apiKey;
    QString senderId;
    QString domain;
};

inline constexpr auto kRedacted = "[redacted]";

// The one redaction of ccscore, used by every log, view and export of stanzas
// (the connection's log and traffic signal, the traffic table, its export):
// - the payload of every SASL element (<auth>, <response>, <challenge>,
//   <success>): PLAIN carries base64(authzid NUL authcid NUL key);
// - the API key as it is, XML-escaped, and base64-encoded;
// - base64(NUL sender@domain NUL key) wherever it appears outside SASL elements;
// - any other base64 run whose decoded bytes hold the key (a PLAIN payload with
//   another authzid or authcid).
// Secrets are replaced by "[redacted]"; nothing else changes.
QString redactSecrets(QString text, const RedactionSecrets &secrets);

} // namespace ccs
