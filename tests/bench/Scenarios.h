#pragma once

#include <QString>

namespace ccs::bench {

struct BenchPrograms {
    QString emulator; // ccs-emulator
    QString admin; // ccs-admin
    QString self; // this program, for the inbox child process
    QString dataDir; // the emulator's certificate and credentials, reused by every run
    int devices = 1000; // simulated devices in each emulator
    int emulatorThreads = 0; // ccs-emulator --threads; 0: its default (one per core)
};

struct DownstreamResult {
    bool ok = false;
    QString error;
    double rate = 0; // messages per second, first send() to last ACK
    double p50Ms = 0, p99Ms = 0; // ACK latency: stanza written -> ACK read
    double emulatorCpu = 0; // percent of one core over the run
    double selfCpu = 0; // the benchmark process (the client under test)
    double selfCpuSeconds = 0; // the same in seconds (user + sys), first send to last ACK
    double selfCpuWithLoginSeconds = 0; // reference client: from before its TLS login to after its close
    // The emulator's CPU per message in microseconds, from its threads' run
    // time (schedstat): all threads, the server's (main) thread, the worker
    // loops (ccs-emulator --threads N > 1).
    double emulatorUsPerMsg = 0, serverThreadUsPerMsg = 0, loopThreadsUsPerMsg = 0;
};

// 'messages' downstream messages through CcsSession with 'connections' connections (window 100).
DownstreamResult runSessionDownstream(const BenchPrograms &programs, int connections, int messages);
// The same through the reference client (the limit).
DownstreamResult runReferenceDownstream(const BenchPrograms &programs, int connections, int messages);

struct UpstreamResult {
    bool ok = false;
    QString error;
    double rate = 0; // upstream messages received (de-duplicated) and ACKed by the session per second
    double emulatorCpu = 0;
    double selfCpu = 0;
    int httpRetries = 0; // admin API answered 429 (a device's queue was full)
};

// 'messages' upstream messages injected through the emulator's admin API and
// ingested by a CcsSession on one connection.
UpstreamResult runSessionUpstream(const BenchPrograms &programs, int messages);

struct InboxResult {
    bool ok = false;
    QString error;
    int messages = 0;
    double feedRate = 0; // messages per second offered
    double seconds = 0;
    double stallP99Ms = 0, stallMaxMs = 0; // gaps between ticks of a 1 ms timer
    qint64 rssBeforeKiB = 0, rssAfterKiB = 0;
    double bytesPerMessage = 0; // (after - before) / messages
    qint64 modelBytes = 0; // InboxModel::approximateBytes()
};

// Runs in a child process (clean resident memory); the child calls runInboxChild.
InboxResult runInboxIngest(const BenchPrograms &programs, int messages, double rate);
int runInboxChild(int messages, double rate); // prints one JSON line; needs a QApplication

struct StartupResult {
    bool ok = false;
    QString error;
    double ms = 0;
};

// Launch -> the first painted window (the first backing-store flush, from Qt's
// qt.widgets.painting log), offscreen, with a fresh home directory.
StartupResult runStartup(const BenchPrograms &programs);
// Launch -> exit of `ccs-admin --version`: process start and library loading alone.
StartupResult runVersionStartup(const BenchPrograms &programs);

} // namespace ccs::bench
