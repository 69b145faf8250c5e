#include "BenchSupport.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QDir>
#include <QFile>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <sys/resource.h>
#include <unistd.h>

namespace ccs::bench {

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0;
    const auto rank
        = size_t(std::clamp(std::ceil(p / 100.0 * double(values.size())), 1.0, double(values.size()))) - 1;
    std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(rank), values.end());
    return values[rank];
}

double median(const std::vector<double> &values)
{
    if (values.empty())
        return 0;
    std::vector<double> v = values;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double processCpuSeconds(qint64 pid)
{
    QFile file(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray text = file.readAll();
    // The command name may hold spaces; the fields after it start at state (field 3).
    const qsizetype paren = text.lastIndexOf(')');
    if (paren < 0)
        return 0;
    const QList<QByteArray> fields = text.mid(paren + 2).split(' ');
    if (fields.size() < 13)
        return 0;
    const double ticks = double(fields.at(11).toLongLong() + fields.at(12).toLongLong()); // utime + stime
    return ticks / double(::sysconf(_SC_CLK_TCK));
}

std::map<qint64, ThreadRuntime> threadRuntimes(qint64 pid)
{
    std::map<qint64, ThreadRuntime> out;
    const QString taskDir = QStringLiteral("/proc/%1/task").arg(pid);
    const QStringList tids = QDir(taskDir).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &tid : tids) {
        QFile stat(taskDir + QLatin1Char('/') + tid + QStringLiteral("/schedstat"));
        QFile comm(taskDir + QLatin1Char('/') + tid + QStringLiteral("/comm"));
        if (!stat.open(QIODevice::ReadOnly) || !comm.open(QIODevice::ReadOnly))
            continue; // the thread ended meanwhile
        ThreadRuntime t;
        t.name = QString::fromUtf8(comm.readAll().trimmed());
        t.ns = stat.readAll().split(' ').value(0).toLongLong();
        out.emplace(tid.toLongLong(), t);
    }
    return out;
}

std::map<qint64, ThreadRuntime> runtimeSince(
    const std::map<qint64, ThreadRuntime> &before, const std::map<qint64, ThreadRuntime> &after)
{
    std::map<qint64, ThreadRuntime> out;
    for (const auto &[tid, t] : after) {
        const auto it = before.find(tid);
        out.emplace(tid, ThreadRuntime {t.name, t.ns - (it != before.end() ? it->second.ns : 0)});
    }
    return out;
}

double selfCpuSeconds()
{
    rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval &t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

qint64 residentKiB()
{
    QFile file(QStringLiteral("/proc/self/status"));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> lines = file.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return 0;
}

QString loadAverage()
{
    QFile file(QStringLiteral("/proc/loadavg"));
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("?");
    const QList<QByteArray> fields = file.readAll().split(' ');
    return QString::fromLatin1(fields.mid(0, 3).join(' '));
}

QString machineDescription()
{
    QString model = QStringLiteral("unknown CPU");
    QFile cpuinfo(QStringLiteral("/proc/cpuinfo"));
    if (cpuinfo.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : cpuinfo.readAll().split('\n')) {
            if (line.startsWith("model name")) {
                model = QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
                break;
            }
        }
    }
    qint64 memKiB = 0;
    QFile meminfo(QStringLiteral("/proc/meminfo"));
    if (meminfo.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : meminfo.readAll().split('\n')) {
            if (line.startsWith("MemTotal:"))
                memKiB = line.mid(9).trimmed().split(' ').value(0).toLongLong();
        }
    }
    return QStringLiteral("%1 cores (nproc), %2, %3 GiB memory")
        .arg(QThread::idealThreadCount())
        .arg(model)
        .arg(double(memKiB) / 1024.0 / 1024.0, 0, 'f', 1);
}

bool spinUntil(const std::function<bool()> &done, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    // A heartbeat so that WaitForMoreEvents never blocks past the timeout.
    QTimer heartbeat;
    heartbeat.start(50);
    QEventLoop loop;
    while (!done()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        loop.processEvents(QEventLoop::WaitForMoreEvents);
    }
    return true;
}

void CpuWindow::start()
{
    emulatorStart = emulatorPid > 0 ? processCpuSeconds(emulatorPid) : 0;
    selfStart = selfCpuSeconds();
    wall.start();
}

double CpuWindow::emulatorShare(double seconds) const
{
    if (emulatorPid <= 0 || seconds <= 0)
        return 0;
    return (processCpuSeconds(emulatorPid) - emulatorStart) / seconds * 100.0;
}

double CpuWindow::selfShare(double seconds) const
{
    return seconds > 0 ? (selfCpuSeconds() - selfStart) / seconds * 100.0 : 0;
}

} // namespace ccs::bench
