// ccs-outbox-bench: "Send copies" of a million messages to ccs-emulator from
// the window's composer, with the outbox shown (offscreen) and the traffic log
// listening as in ccs-admin, while a 1 ms probe timer measures how long the
// event loop goes without turning (the gap a user feels as a stutter).
#include "BenchSupport.h"
#include "EmulatorProcess.h"
#include "client/CcsSession.h"
#include "common/FollowingTableView.h"
#include "composer/ComposerPanel.h"
#include "outbox/OutboxModel.h"
#include "outbox/OutboxPage.h"
#include "traffic/TrafficLogModel.h"
#include "traffic/TrafficPage.h"

#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QDateTime>
#include <QSplitter>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTextStream>
#include <QTimer>

#include <map>
#include <time.h>

using namespace ccs;
using namespace ccs::bench;

namespace {

// CPU time of the calling thread (the window's thread), in nanoseconds.
qint64 threadCpuNs()
{
    timespec ts {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

QString num(double v, int decimals = 0)
{
    return QLocale::c().toString(v, 'f', decimals);
}

// CCS_OUTBOX_BENCH_TRACE=MS: every event the window's thread handled for at
// least MS of its CPU time, by what received it (class, object name, the
// parent's class) and the event type, so that a stall can be traced to its
// handler. Only the outermost event is counted (a paint inside a timer's
// slot counts for the timer), except that every widget's paint inside it is
// also listed, "(paint)", whatever it took.
class TracingApplication : public QApplication
{
public:
    using QApplication::QApplication;

    double thresholdMs = -1;

    bool notify(QObject *receiver, QEvent *event) override
    {
        if (thresholdMs >= 0 && m_depth > 0 && event->type() == QEvent::Paint)
            return timedPaint(receiver, event);
        if (thresholdMs < 0 || m_depth > 0)
            return QApplication::notify(receiver, event);
        ++m_depth;
        const qint64 before = threadCpuNs();
        const QEvent::Type type = event->type(); // the event may be gone after notify()
        const QString what = describe(receiver, type);
        const bool result = QApplication::notify(receiver, event);
        const double ms = double(threadCpuNs() - before) / 1e6;
        --m_depth;
        if (ms >= thresholdMs) {
            Slow &slow = m_slow[what];
            ++slow.count;
            slow.totalMs += ms;
            slow.maxMs = std::max(slow.maxMs, ms);
        }
        return result;
    }

    void report(QTextStream &out, double tracedMs) const
    {
        if (tracedMs < 0)
            return;
        out << "\nEvents that took >= " << num(tracedMs, 1)
            << " ms of the window's thread's CPU (CCS_OUTBOX_BENCH_TRACE):\n\n";
        out << "| receiver (class \"name\" < parent) | event | count | total ms | max ms |\n";
        out << "|---|---:|---:|---:|---:|\n";
        std::vector<std::pair<QString, Slow>> sorted(m_slow.begin(), m_slow.end());
        std::sort(sorted.begin(), sorted.end(),
            [](const auto &a, const auto &b) { return a.second.totalMs > b.second.totalMs; });
        for (const auto &[what, slow] : sorted)
            out << "| " << what << " | " << slow.count << " | " << num(slow.totalMs, 1) << " | "
                << num(slow.maxMs, 1) << " |\n";
    }

private:
    // Each widget's paint inside a window's update, whatever it took: where a
    // repaint's time goes.
    bool timedPaint(QObject *receiver, QEvent *event)
    {
        const qint64 before = threadCpuNs();
        const QString what = QStringLiteral("(paint) ") + describe(receiver, QEvent::Paint);
        const bool result = QApplication::notify(receiver, event);
        Slow &paint = m_slow[what];
        const double ms = double(threadCpuNs() - before) / 1e6;
        ++paint.count;
        paint.totalMs += ms;
        paint.maxMs = std::max(paint.maxMs, ms);
        return result;
    }

    struct Slow {
        int count = 0;
        double totalMs = 0, maxMs = 0;
    };

    static QString describe(QObject *receiver, QEvent::Type type)
    {
        QString what = QString::fromLatin1(receiver->metaObject()->className());
        if (!receiver->objectName().isEmpty())
            what += QStringLiteral(" \"%1\"").arg(receiver->objectName());
        if (QObject *parent = receiver->parent())
            what += QStringLiteral(" < %1").arg(QString::fromLatin1(parent->metaObject()->className()));
        return what + QStringLiteral(" | %1").arg(int(type));
    }

    int m_depth = 0;
    std::map<QString, Slow> m_slow;
};

} // namespace

int main(int argc, char *argv[])
{
    // No settings of the user's: the composer remembers recipients in its settings file.
    QTemporaryDir home;
    qputenv("XDG_CONFIG_HOME", home.filePath(QStringLiteral("config")).toUtf8());
    if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    TracingApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Send copies of one message to ccs-emulator from the composer, with the outbox shown, "
        "and measure the event-loop gaps."));
    parser.addHelpOption();
    parser.addOptions({
        {QStringLiteral("short"), QStringLiteral("A quick variant (20,000 copies).")},
        {QStringLiteral("copies"), QStringLiteral("How many copies (default 1000000)."), QStringLiteral("n"),
            QStringLiteral("1000000")},
        {QStringLiteral("connections"), QStringLiteral("Session connections (default 1)."), QStringLiteral("n"),
            QStringLiteral("1")},
        {QStringLiteral("emulator"), QStringLiteral("ccs-emulator to run."), QStringLiteral("path"),
            QStringLiteral(CCS_BENCH_EMULATOR)},
    });
    parser.process(app);
    const bool isShort = parser.isSet(QStringLiteral("short"));
    const int copies = isShort && !parser.isSet(QStringLiteral("copies"))
        ? 20000
        : std::max(1, parser.value(QStringLiteral("copies")).toInt());
    const int connections = std::max(1, parser.value(QStringLiteral("connections")).toInt());
    QTextStream out(stdout);

    QTemporaryDir dataDir;
    EmulatorProcess emulator;
    QString error;
    if (!emulator.start(parser.value(QStringLiteral("emulator")), dataDir.path(), 100, &error)) {
        QTextStream(stderr) << "ccs-outbox-bench: " << error << Qt::endl;
        return 1;
    }
    const EmulatorInfo &info = emulator.info();

    CcsSession session;
    ConnectionSettings settings;
    settings.host = info.host;
    settings.port = info.port;
    settings.domain = QStringLiteral("gcm.googleapis.com");
    settings.senderId = info.senderId;
    settings.apiKey = info.apiKey;
    settings.pinnedCertificates = {info.certificate};
    settings.connectionCount = connections;
    session.setSettings(settings);

    // The window's parts that a send touches, wired as MainWindow wires them.
    QSplitter window;
    window.resize(1400, 800);
    auto composer = new ui::ComposerPanel(&window);
    composer->setSession(&session);
    auto tabs = new QTabWidget(&window);
    auto outbox = new ui::OutboxPage(tabs);
    outbox->setLedger(session.ledger());
    auto traffic = new ui::TrafficPage(tabs);
    traffic->model()->setSecret(settings.apiKey);
    tabs->addTab(outbox, QStringLiteral("Outbox"));
    tabs->addTab(traffic, QStringLiteral("Traffic"));
    // CCS_BENCH_NO_TRAFFIC: without the traffic log (experiments only).
    if (!qEnvironmentVariableIsSet("CCS_BENCH_NO_TRAFFIC"))
        QObject::connect(&session, &CcsSession::trafficLogged, traffic,
            [traffic](TrafficDirection direction, int connectionId, const QString &xml) {
                traffic->model()->append(direction, connectionId, xml);
            });
    window.show();

    session.open();
    if (!spinUntil([&] { return session.state() == SessionState::Connected; }, 20000)) {
        QTextStream(stderr) << "ccs-outbox-bench: the session did not connect: " << session.lastErrorString()
                            << Qt::endl;
        return 1;
    }
    composer->findChild<QComboBox *>(QStringLiteral("recipientEdit"))->setEditText(info.registeredTokens.first());
    spinUntil([] { return false; }, 300); // shown and painted once

    QElapsedTimer clock;
    clock.start();
    std::vector<double> gaps, busy;
    gaps.reserve(1 << 20);
    busy.reserve(1 << 20);
    qint64 lastTick = clock.nsecsElapsed();
    qint64 lastCpu = threadCpuNs();
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(1);
    QObject::connect(&probe, &QTimer::timeout, &window, [&] {
        const qint64 now = clock.nsecsElapsed();
        const qint64 cpuNow = threadCpuNs();
        gaps.push_back(double(now - lastTick) / 1e6);
        // The part of the gap this thread was working (not waiting for a core).
        busy.push_back(double(cpuNow - lastCpu) / 1e6);
        lastTick = now;
        lastCpu = cpuNow;
    });
    int answered = -1, cancelled = -1;
    QObject::connect(composer, &ui::ComposerPanel::copiesFinished, &window, [&](int a, int c) {
        answered = a;
        cancelled = c;
    });
    const qint64 rssBefore = residentKiB();
    const double cpuBefore = selfCpuSeconds();
    const double emulatorCpuBefore = processCpuSeconds(emulator.pid());
    probe.start();
    if (qEnvironmentVariableIsSet("CCS_OUTBOX_BENCH_TRACE")) // from here on: the measured run
        app.thresholdMs = qEnvironmentVariable("CCS_OUTBOX_BENCH_TRACE").toDouble();
    const qint64 startNs = clock.nsecsElapsed();
    composer->sendCopies(copies);
    const bool done = spinUntil([&] { return answered >= 0; }, copies + 120000); // 1 ms a copy, and 2 minutes
    const double seconds = double(clock.nsecsElapsed() - startNs) / 1e9;
    spinUntil([] { return false; }, 300); // the last rows announced and painted
    probe.stop();
    const double traceMs = app.thresholdMs;
    app.thresholdMs = -1;
    const double cpu = selfCpuSeconds() - cpuBefore;
    const double emulatorCpu = processCpuSeconds(emulator.pid()) - emulatorCpuBefore;
    const int rows = outbox->model()->rowCount();

    out << "## ccs-outbox-bench: Send copies with the outbox shown\n\n";
    out << "- machine: " << machineDescription() << "; load average at the end: " << loadAverage() << "\n";
    out << "- command: ccs-outbox-bench" << (isShort ? " --short" : "") << " --copies " << copies
        << " --connections " << connections << " (QT_QPA_PLATFORM=offscreen)\n";
    out << "- what runs: ComposerPanel::sendCopies -> BulkSendJob -> CcsSession -> ccs-emulator (its own "
           "process, answers at once); OutboxPage (shown, 1100x800 with the composer) and TrafficPage "
           "(listening, as in ccs-admin); a 1 ms probe timer records every gap of the event loop\n\n";
    out << "| copies | answered | cancelled | seconds | copies/s | gap p50 ms | gap p99 ms | gap max ms | "
           "busy p99 ms | busy max ms | outbox rows | client CPU s | emulator CPU s | RSS growth MiB |\n";
    out << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    out << "| " << copies << " | " << answered << " | " << cancelled << " | " << num(seconds, 1) << " | "
        << num(copies / std::max(seconds, 1e-9)) << " | " << num(percentile(gaps, 50), 2) << " | "
        << num(percentile(gaps, 99), 2) << " | "
        << num(gaps.empty() ? 0.0 : *std::max_element(gaps.begin(), gaps.end()), 1) << " | "
        << num(percentile(busy, 99), 2) << " | "
        << num(busy.empty() ? 0.0 : *std::max_element(busy.begin(), busy.end()), 1) << " | " << rows << " | "
        << num(cpu, 1) << " | " << num(emulatorCpu, 1) << " | "
        << num(double(residentKiB() - rssBefore) / 1024.0, 0) << " |\n";
    if (!done)
        out << "\nINCOMPLETE: stopped after " << num(seconds, 0) << " s with "
            << (session.ledger()->count(MessageState::Acked) + session.ledger()->count(MessageState::Delivered))
            << " copies ACKed of " << session.ledger()->size() << " handed to the session\n";
    out << "\ngap: wall time between two turns of the event loop (1 ms probe); busy: the CPU time the "
           "window's thread spent inside that gap (the gap without the time spent waiting for a core)\n";
    out << "\nTarget: gap p99 <= 16 ms: " << (percentile(gaps, 99) <= 16.0 ? "met" : "NOT met") << "\n";
    app.report(out, traceMs);
    out.flush();
    session.close();
    spinUntil([&] { return session.state() == SessionState::Disconnected; }, 5000);
    emulator.stop();
    const bool ok = done && answered == copies && cancelled == 0 && rows == copies;
    if (!ok)
        QTextStream(stderr) << "ccs-outbox-bench: incomplete: " << answered << " answered, " << cancelled
                            << " cancelled, " << rows << " rows of " << copies << Qt::endl;
    return ok ? 0 : 1;
}
