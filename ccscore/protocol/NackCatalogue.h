#pragma once

#include <QString>
#include <QStringView>

#include <chrono>

namespace ccs {

// Every NACK code of ccs-protocol-facts.md. Unknown codes from a server are
// kept as text in Nack::errorText but behave as InternalServerError.
enum class NackCode {
    InvalidJson,
    BadRegistration,
    DeviceUnregistered,
    BadAck,
    ServiceUnavailable,
    InternalServerError,
    DeviceMessageRateExceeded,
    TopicsMessageRateExceeded,
    ConnectionDraining,
};

// How a client reacts to a NACK.
enum class RetryClass {
    Never, // final: fix the message or the token
    Backoff, // exponential back-off from 1 s
    Later, // rate exceeded: back off longer, never at once
    OtherConnection, // at once, on another connection
};

struct NackInfo {
    NackCode code;
    const char *name; // wire name, e.g. "BAD_REGISTRATION"
    const char *meaning; // one line a person can act on
    RetryClass retry;
};

class NackCatalogue
{
public:
    // All codes, in the order of the facts table.
    static const NackInfo *begin();
    static const NackInfo *end();
    static const NackInfo &info(NackCode code);
    // Maps a wire name to its code; unknown names map to InternalServerError
    // and *known is set to false.
    static NackCode fromName(QStringView name, bool *known = nullptr);
    static QString name(NackCode code);
    static RetryClass retryClass(NackCode code);
    // First delay before a retry of attempt `attempt` (1-based) for this class:
    // Backoff 1 s, 2 s, 4 s ... capped at 64 s; Later 10 s, 20 s ... capped at 300 s;
    // OtherConnection 0; Never -1 ms (there is no retry).
    static std::chrono::milliseconds retryDelay(RetryClass cls, int attempt);
};

} // namespace ccs
