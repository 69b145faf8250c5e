#pragma once

#include <QObject>

namespace ccs {

// The session's clock for deadlines and durations: retry due times, time_to_live
// deadlines, the answer timeout. Monotonic: a jump of the system time (NTP,
// a manual change, suspend and resume) does not move them. Its origin means
// nothing; only differences do. The wall clock is for display and export only
// (the ledger's timestamps).
class SessionClock : public QObject
{
    Q_OBJECT
public:
    explicit SessionClock(QObject *parent = nullptr)
        : QObject(parent)
    { }

    virtual qint64 nowMs() const = 0;

Q_SIGNALS:
    // The time moved other than by itself (a ManualClock): deadlines are checked again at once.
    void advanced();
};

// The default: the system's monotonic clock (QDeadlineTimer / CLOCK_MONOTONIC).
class SteadyClock : public SessionClock
{
    Q_OBJECT
public:
    using SessionClock::SessionClock;
    qint64 nowMs() const override;
};

// A clock that moves only when told to, for tests: retries and expiry happen
// when advance() passes their time, without waiting for real.
class ManualClock : public SessionClock
{
    Q_OBJECT
public:
    explicit ManualClock(qint64 startMs = 1'000'000, QObject *parent = nullptr)
        : SessionClock(parent)
        , m_now(startMs)
    { }

    qint64 nowMs() const override { return m_now; }
    void advance(qint64 ms)
    {
        m_now += ms;
        Q_EMIT advanced();
    }

private:
    qint64 m_now;
};

} // namespace ccs
