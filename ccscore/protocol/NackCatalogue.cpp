#include "NackCatalogue.h"

#include <algorithm>
#include <array>

namespace ccs {

namespace {
// The order of the facts table.
constexpr std::array<NackInfo, 9> kCatalogue {{
    {NackCode::InvalidJson, "INVALID_JSON",
        "The request is malformed: missing token, message too big, bad data key, bad TTL or a wrong field "
        "type.",
        RetryClass::Never},
    {NackCode::BadRegistration, "BAD_REGISTRATION",
        "The registration token is invalid or belongs to another sender.", RetryClass::Never},
    {NackCode::DeviceUnregistered, "DEVICE_UNREGISTERED",
        "The registration token is no longer valid: drop it.", RetryClass::Never},
    {NackCode::BadAck, "BAD_ACK", "The ACK was malformed: fix the ACK.", RetryClass::Never},
    {NackCode::ServiceUnavailable, "SERVICE_UNAVAILABLE", "CCS timed out: retry with exponential back-off.",
        RetryClass::Backoff},
    {NackCode::InternalServerError, "INTERNAL_SERVER_ERROR",
        "CCS had an internal error: retry with exponential back-off.", RetryClass::Backoff},
    {NackCode::DeviceMessageRateExceeded, "DEVICE_MESSAGE_RATE_EXCEEDED",
        "Too many messages to this device: retry later, with back-off.", RetryClass::Later},
    {NackCode::TopicsMessageRateExceeded, "TOPICS_MESSAGE_RATE_EXCEEDED",
        "Too many messages to this topic: retry later, with back-off.", RetryClass::Later},
    {NackCode::ConnectionDraining, "CONNECTION_DRAINING",
        "This connection is being drained: resend at once on another connection.",
        RetryClass::OtherConnection},
}};

constexpr std::chrono::milliseconds kBackoffFirst {1000};
constexpr std::chrono::milliseconds kLaterFirst {10000};
constexpr std::chrono::milliseconds kBackoffCap {64000};
// A rate limit clears slowly: wait longer, but not so long that the message expires unnoticed.
constexpr std::chrono::milliseconds kLaterCap {300000};
} // namespace

const NackInfo *NackCatalogue::begin()
{
    return kCatalogue.data();
}

const NackInfo *NackCatalogue::end()
{
    return kCatalogue.data() + kCatalogue.size();
}

const NackInfo &NackCatalogue::info(NackCode code)
{
    const auto it = std::find_if(
        kCatalogue.begin(), kCatalogue.end(), [code](const NackInfo &i) { return i.code == code; });
    // Every enumerator is in the table; an out-of-range cast behaves as an internal error.
    if (it == kCatalogue.end())
        return info(NackCode::InternalServerError);
    return *it;
}

NackCode NackCatalogue::fromName(QStringView name, bool *known)
{
    const QStringView trimmed = name.trimmed();
    for (const NackInfo &i : kCatalogue) {
        if (trimmed == QLatin1String(i.name)) {
            if (known)
                *known = true;
            return i.code;
        }
    }
    if (known)
        *known = false;
    return NackCode::InternalServerError;
}

QString NackCatalogue::name(NackCode code)
{
    return QString::fromLatin1(info(code).name);
}

RetryClass NackCatalogue::retryClass(NackCode code)
{
    return info(code).retry;
}

std::chrono::milliseconds NackCatalogue::retryDelay(RetryClass cls, int attempt)
{
    const int exponent = std::clamp(attempt, 1, 31) - 1;
    auto grow = [exponent](std::chrono::milliseconds first, std::chrono::milliseconds cap) {
        std::chrono::milliseconds delay = first;
        for (int i = 0; i < exponent && delay < cap; ++i)
            delay *= 2;
        return std::min(delay, cap);
    };
    switch (cls) {
    case RetryClass::Never:
        return std::chrono::milliseconds {-1};
    case RetryClass::Backoff:
        return grow(kBackoffFirst, kBackoffCap);
    case RetryClass::Later:
        return grow(kLaterFirst, kLaterCap);
    case RetryClass::OtherConnection:
        return std::chrono::milliseconds {0};
    }
    return grow(kBackoffFirst, kBackoffCap);
}

} // namespace ccs
