#pragma once

#include <QString>
#include <QStringMatcher>

#include <vector>

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
// - any other base64 run that encodes the key among other bytes (a PLAIN
//   payload with another authzid or authcid), found by what base64 makes of the
//   key at each of its three alignments.
// Secrets are replaced by "[redacted]"; nothing else changes.
QString redactSecrets(QString text, const RedactionSecrets &secrets);

// redactSecrets() with the forms of the secret worked out once, for a view that
// redacts every stanza (the traffic table).
class Redactor
{
public:
    Redactor() = default;
    explicit Redactor(const RedactionSecrets &secrets);
    QString operator()(QString text) const;

private:
    std::vector<QStringMatcher> m_exact; // the exact forms of the secret, replaced first
    std::vector<QStringMatcher> m_encodedCores; // the key inside any base64 text, at each alignment
};

} // namespace ccs
