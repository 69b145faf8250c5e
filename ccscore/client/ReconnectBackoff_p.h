#pragma once

#include <QRandomGenerator>

#include <chrono>

namespace ccs {

// Delays between connection attempts that fail before authentication:
// exponential from `base`, capped, with jitter so that many clients do not
// retry in step. The n-th delay is uniform in [d/2, d] with d = min(cap, base * 2^(n-1)).
class ReconnectBackoff
{
public:
    explicit ReconnectBackoff(std::chrono::milliseconds base = std::chrono::seconds(1),
        std::chrono::milliseconds cap = std::chrono::seconds(60), quint32 seed = 0);

    std::chrono::milliseconds nextDelay(); // counts one failure
    int failures() const { return m_failures; }
    void reset() { m_failures = 0; }
    // The upper bound of the n-th delay (1-based), without jitter.
    std::chrono::milliseconds ceiling(int failure) const;

private:
    std::chrono::milliseconds m_base;
    std::chrono::milliseconds m_cap;
    int m_failures = 0;
    QRandomGenerator m_random;
};

} // namespace ccs
