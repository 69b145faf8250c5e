#pragma once

#include <QElapsedTimer>
#include <QString>

#include <functional>
#include <map>
#include <vector>

namespace ccs::bench {

// Sorted-copy percentile (nearest rank); 0 for an empty list.
double percentile(std::vector<double> values, double p);
double median(const std::vector<double> &values);

// CPU time of a process in seconds (utime + stime from /proc/PID/stat).
double processCpuSeconds(qint64 pid);
// CPU time of this process in seconds (getrusage: finer than clock ticks).
double selfCpuSeconds();
// Time each thread of a process has run on a core, in nanoseconds, by thread
// id (sum_exec_runtime from /proc/PID/task/TID/schedstat: counted by the
// scheduler, so waiting for a core on a loaded machine does not enter it),
// with the thread's name (/proc/PID/task/TID/comm).
struct ThreadRuntime {
    QString name;
    qint64 ns = 0;
};
std::map<qint64, ThreadRuntime> threadRuntimes(qint64 pid);
// What each thread ran between two snapshots of threadRuntimes (threads born
// in between count from zero).
std::map<qint64, ThreadRuntime> runtimeSince(
    const std::map<qint64, ThreadRuntime> &before, const std::map<qint64, ThreadRuntime> &after);
// Resident memory of this process in KiB (VmRSS from /proc/self/status).
qint64 residentKiB();
// "1.52 1.31 0.98" from /proc/loadavg.
QString loadAverage();
QString machineDescription(); // cores, CPU model, memory

// Spins the event loop until done() is true or timeoutMs passes; true if done.
bool spinUntil(const std::function<bool()> &done, int timeoutMs);

// CPU shares over a measured interval, in percent of one core.
struct CpuWindow {
    qint64 emulatorPid = 0;
    double emulatorStart = 0;
    double selfStart = 0;
    QElapsedTimer wall;

    void start();
    double seconds() const { return double(wall.nsecsElapsed()) / 1e9; }
    double emulatorShare(double seconds) const;
    double selfShare(double seconds) const;
};

} // namespace ccs::bench
