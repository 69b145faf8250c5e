#pragma once

// Internal to ccscore/server: what every part of the emulator shares. Owned
// by EmulatorServer and used only on the server's own thread (see
// EmulatorServer.cpp for the threading rules).

#include "EmulatorObserver.h"
#include "EmulatorRecord_p.h"
#include "EmulatorTypes.h"

#include <QElapsedTimer>
#include <QRandomGenerator>

namespace ccs::emulator {

struct EmulatorContext {
    EmulatorConfig config;
    QElapsedTimer clock; // the emulator's monotonic clock, as observers get it
    quint64 seed = 0;
    QRandomGenerator rng; // every random choice of the emulator, from the seed
    EmulatorRecord record;
    EmulatorObserver *observer = nullptr; // the conformance grader, when attached

    qint64 now() const { return clock.elapsed(); }
    EmulatorCounters &counters() { return record.counters; }
};

} // namespace ccs::emulator
