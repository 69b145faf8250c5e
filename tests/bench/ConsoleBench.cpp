// ccs-console-bench: does one attached console keep up with 20,000 stanzas/s?
// An emulator's admin API runs on a thread of its own and its event stream is
// fed stanza events at the chosen rate (half downstream messages with their
// answers, half upstream messages with the app server's ACKs, over four
// connections); the console window (real widgets, offscreen) is attached over
// real loopback as to any ccs-emulator. A 1 ms timer on the window's thread
// measures the event loop's gaps. Prints the figures; see README "Performance".
#include "console/ConsoleModels.h"
#include "console/EmulatorConsole.h"
#include "server/EmulatorAdminApi.h"
#include "server/EmulatorEventStream_p.h"
#include "server/EmulatorServer.h"
#include "storage/SecretStore.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QLocale>
#include <QLoggingCategory>
#include <QTextStream>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <ctime>
#include <atomic>
#include <vector>

using namespace ccs;

namespace {

// Lives on the emulator thread: the admin API and a generator of stanza events.
class Feeder : public QObject
{
public:
    explicit Feeder(int rate)
        : m_rate(rate)
    { }
    void start()
    {
        m_server = new emulator::EmulatorServer(this);
        m_api = new emulator::EmulatorAdminApi(m_server, this);
        m_api->listen(QHostAddress::LocalHost, 0);
        url = m_api->baseUrl();
        token = m_api->token();
        m_tick = new QTimer(this);
        m_tick->setTimerType(Qt::PreciseTimer);
        m_tick->setInterval(2);
        connect(m_tick, &QTimer::timeout, this, &Feeder::tick);
        ready = true;
    }
    void run(bool on)
    {
        if (on) {
            m_clock.start();
            m_sent = 0;
            m_tick->start();
        } else {
            m_tick->stop();
        }
    }
    // On the emulator thread, before it ends.
    void finish()
    {
        delete m_tick;
        delete m_api;
        delete m_server;
        m_tick = nullptr;
        m_api = nullptr;
        m_server = nullptr;
    }
    std::atomic<bool> ready {false};
    std::atomic<qint64> generated {0};
    std::atomic<int> cutOffs {0};
    QString url, token;

private:
    void tick()
    {
        auto *events = m_api->eventStream();
        const qint64 due = m_clock.elapsed() * m_rate / 1000;
        const QString to = QStringLiteral("bench-device-token-%1");
        while (m_sent + 4 <= due) {
            const int connection = int(m_n % 4) + 1;
            const QString id = QStringLiteral("m-%1").arg(m_n);
            const qint64 t = m_clock.elapsed();
            events->downstreamReceived(connection, t, id, to.arg(m_n % 50), {});
            events->answerWritten(connection, t, id, true, false, NackCode::ServiceUnavailable);
            const QString from = to.arg(m_n % 50);
            events->upstreamDelivered(connection, t, from, id, false, 1);
            events->ackReceived(connection, t, from, id, true);
            m_sent += 4;
            ++m_n;
        }
        generated = m_sent;
        cutOffs = events->cutOffs();
    }

    int m_rate;
    qint64 m_sent = 0;
    qint64 m_n = 0;
    QElapsedTimer m_clock;
    emulator::EmulatorServer *m_server = nullptr;
    emulator::EmulatorAdminApi *m_api = nullptr;
    QTimer *m_tick = nullptr;
};

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())));
    return v[i];
}

// CPU time of the calling thread, in ms.
qint64 threadCpuMs()
{
    timespec ts {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return qint64(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

QString loadAverage()
{
    QFile f(QStringLiteral("/proc/loadavg"));
    if (!f.open(QIODevice::ReadOnly))
        return QStringLiteral("n/a");
    return QString::fromLatin1(f.readAll()).section(QLatin1Char(' '), 0, 2);
}

} // namespace

int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("ccs-admin-bench"));
    QLoggingCategory::setFilterRules(QStringLiteral("ccs.*.debug=false\nccs.*.info=false"));
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOptions({{QStringLiteral("rate"), QStringLiteral("Stanzas per second (default 20000)."),
                           QStringLiteral("N"), QStringLiteral("20000")},
        {QStringLiteral("seconds"), QStringLiteral("Measured seconds (default 10)."), QStringLiteral("S"),
            QStringLiteral("10")},
        {QStringLiteral("short"), QStringLiteral("A two-second run (the test suite's).")}});
    parser.process(app);
    const int rate = parser.value(QStringLiteral("rate")).toInt();
    const int seconds = parser.isSet(QStringLiteral("short")) ? 2 : parser.value(QStringLiteral("seconds")).toInt();

    QThread emulatorThread;
    emulatorThread.start();
    Feeder feeder(rate);
    feeder.moveToThread(&emulatorThread);
    QMetaObject::invokeMethod(&feeder, [&feeder] { feeder.start(); });
    while (!feeder.ready)
        QThread::msleep(5);

    storage::MemorySecretStore secrets;
    ui::EmulatorConsole console(&secrets);
    console.show();
    console.attachRemote(QUrl(feeder.url), feeder.token, false);
    QElapsedTimer wait;
    wait.start();
    while (!console.client()->isAttached() && wait.elapsed() < 10000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    if (!console.client()->isAttached()) {
        QTextStream(stderr) << "ccs-console-bench: the console did not attach" << Qt::endl;
        return 1;
    }
    QThread::msleep(300);
    QCoreApplication::processEvents();

    // The probe: how late does a 1 ms timer on the window's thread fire?
    std::vector<double> gaps;
    gaps.reserve(size_t(seconds) * 2000);
    QElapsedTimer probeClock;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(1);
    qint64 lastNs = -1;
    bool measuring = false;
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = probeClock.nsecsElapsed();
        if (measuring && lastNs >= 0)
            gaps.push_back(double(now - lastNs) / 1e6);
        lastNs = now;
    });
    probeClock.start();
    probe.start();
    // The machine's own noise first: the same probe, attached, with no traffic.
    measuring = true;
    QTimer::singleShot(2000, &app, &QCoreApplication::quit);
    app.exec();
    measuring = false;
    std::vector<double> baseline;
    baseline.swap(gaps);
    QMetaObject::invokeMethod(&feeder, [&feeder] { feeder.run(true); });
    // One second of warm-up, then the measured seconds.
    QTimer::singleShot(1000, [&] {
        measuring = true;
        lastNs = -1;
    });
    const qint64 receivedBefore = console.client()->eventsReceived();
    QElapsedTimer run;
    run.start();
    qint64 cpuAtStart = 0;
    QTimer::singleShot(1000, [&] { cpuAtStart = threadCpuMs(); });
    QTimer::singleShot((seconds + 1) * 1000, &app, &QCoreApplication::quit);
    app.exec();
    measuring = false;
    const double consoleCpu = double(threadCpuMs() - cpuAtStart) / (10.0 * seconds);
    const double elapsedS = double(run.elapsed()) / 1000.0;
    QMetaObject::invokeMethod(&feeder, [&feeder] { feeder.run(false); }, Qt::BlockingQueuedConnection);
    const qint64 generated = feeder.generated;
    const qint64 receivedAtStop = console.client()->eventsReceived() - receivedBefore;
    // Then the stream drains: everything generated reaches the console.
    wait.restart();
    while (console.client()->eventsReceived() - receivedBefore < generated && wait.elapsed() < 20000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    QCoreApplication::processEvents();
    const qint64 received = console.client()->eventsReceived() - receivedBefore;
    const int rows = console.trafficModel()->rowCount();

    QLocale en(QLocale::English);
    QTextStream out(stdout);
    out << "# ccs-console-bench: one attached console, " << en.toString(rate) << " stanzas/s for " << seconds
        << " s (+1 s warm-up)\n\n"
        << "| figure | value |\n|---|---|\n"
        << "| stanza events generated | " << en.toString(generated) << " (" << en.toString(double(generated) / elapsedS, 'f', 0)
        << "/s) |\n"
        << "| received by the console when the feed stopped | " << en.toString(receivedAtStop) << " (lag "
        << en.toString(generated - receivedAtStop) << ") |\n"
        << "| received after draining | " << en.toString(received) << " |\n"
        << "| slow-reader cut-offs | " << feeder.cutOffs << " |\n"
        << "| the console's thread CPU | " << en.toString(consoleCpu, 'f', 0) << "% of a core |\n"
        << "| event-loop gap p50 | " << en.toString(percentile(gaps, 50), 'f', 2) << " ms |\n"
        << "| event-loop gap p99 | " << en.toString(percentile(gaps, 99), 'f', 2) << " ms |\n"
        << "| event-loop gap max | " << en.toString(percentile(gaps, 100), 'f', 2) << " ms |\n"
        << "| probe samples | " << en.toString(qint64(gaps.size())) << " |\n"
        << "| idle baseline (attached, no traffic, 2 s) gap p50 / p99 / max | "
        << en.toString(percentile(baseline, 50), 'f', 2) << " / " << en.toString(percentile(baseline, 99), 'f', 2)
        << " / " << en.toString(percentile(baseline, 100), 'f', 2) << " ms |\n"
        << "| traffic rows kept (cap " << en.toString(ui::ConsoleTrafficModel::kMaxRows) << " + 10%) | "
        << en.toString(rows) << " |\n"
        << "| load average (1/5/15 min) | " << loadAverage() << " |\n";
    out.flush();

    console.detach();
    QMetaObject::invokeMethod(&feeder, [&feeder] { feeder.finish(); }, Qt::BlockingQueuedConnection);
    emulatorThread.quit();
    emulatorThread.wait();
    const bool kept = received >= generated && feeder.cutOffs == 0;
    if (!kept)
        QTextStream(stderr) << "ccs-console-bench: the console fell behind" << Qt::endl;
    return kept ? 0 : 1;
}
