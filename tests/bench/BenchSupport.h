#pragma once

#include <QElapsedTimer>
#include <QString>

#include <functional>
#include <vector>

namespace ccs::bench {

// Sorted-copy percentile (nearest rank); 0 for an empty list.
double percentile(std::vector<double> values, double p);
double median(const std::vector<double> &values);

// CPU time of a process in seconds (utime + stime from /proc/PID/stat).
double processCpuSeconds(qint64 pid);
// CPU time of this process in seconds (getrusage: finer than clock ticks).
double selfCpuSeconds();
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
