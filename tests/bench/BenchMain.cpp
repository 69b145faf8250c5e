// ccs-bench: the session against the limit of this machine, the inbox under a
// million messages, and the start-up of ccs-admin. Prints a Markdown table of
// medians. See README "Performance" for the command and the figures.
#include "BenchSupport.h"
#include "Scenarios.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QDir>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTextStream>

#include <map>

using namespace ccs::bench;

namespace {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

QString num(double value, int decimals = 0)
{
    return QLocale(QLocale::English).toString(value, 'f', decimals);
}

QString pct(double value)
{
    return num(value, 0) + QLatin1Char('%');
}

struct Medians {
    double rate = 0, p50 = 0, p99 = 0, emulatorCpu = 0, selfCpu = 0;
    double emulatorUs = 0, serverUs = 0, loopsUs = 0; // emulator CPU per message
};

Medians mediansOf(const std::vector<DownstreamResult> &runs)
{
    std::vector<double> rate, p50, p99, emu, self, emuUs, serverUs, loopsUs;
    for (const DownstreamResult &r : runs) {
        rate.push_back(r.rate);
        p50.push_back(r.p50Ms);
        p99.push_back(r.p99Ms);
        emu.push_back(r.emulatorCpu);
        self.push_back(r.selfCpu);
        emuUs.push_back(r.emulatorUsPerMsg);
        serverUs.push_back(r.serverThreadUsPerMsg);
        loopsUs.push_back(r.loopThreadsUsPerMsg);
    }
    return {median(rate), median(p50), median(p99), median(emu), median(self), median(emuUs), median(serverUs),
        median(loopsUs)};
}

QList<int> parseList(const QString &text)
{
    QList<int> list;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
        list.append(part.trimmed().toInt());
    return list;
}

void progress(const QString &line)
{
    QTextStream(stderr) << QTime::currentTime().toString(QStringLiteral("HH:mm:ss")) << "  " << line
                        << " (load " << loadAverage() << ")" << Qt::endl;
}

} // namespace

int main(int argc, char *argv[])
{
    // The inbox child: a widget process of its own, so its resident memory is the inbox's.
    if (argc == 4 && qstrcmp(argv[1], "--inbox-child") == 0) {
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        QApplication app(argc, argv);
        QLoggingCategory::setFilterRules(QStringLiteral("ccs.*.debug=false\nccs.*.info=false"));
        return runInboxChild(QByteArray(argv[2]).toInt(), QByteArray(argv[3]).toDouble());
    }

    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ccs-bench"));
    QLoggingCategory::setFilterRules(QStringLiteral("ccs.*.debug=false\nccs.*.info=false"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("CCS Admin performance benchmark: CcsSession against a minimal reference client, "
                       "upstream ingest, the inbox with a million messages, ccs-admin start-up."));
    parser.addHelpOption();
    parser.addOptions({
        {QStringLiteral("short"), QStringLiteral("A quick variant (a few thousand messages, one run).")},
        {QStringLiteral("runs"), QStringLiteral("Runs per downstream/upstream figure (default 5)."),
            QStringLiteral("n"), QStringLiteral("5")},
        {QStringLiteral("messages"), QStringLiteral("Downstream messages per run (default 100000)."),
            QStringLiteral("n"), QStringLiteral("100000")},
        {QStringLiteral("connections"), QStringLiteral("Connection counts (default 1,2,4,8)."),
            QStringLiteral("list"), QStringLiteral("1,2,4,8")},
        {QStringLiteral("upstream-messages"), QStringLiteral("Upstream messages per run (default 100000)."),
            QStringLiteral("n"), QStringLiteral("100000")},
        {QStringLiteral("inbox-messages"), QStringLiteral("Inbox ingest size (default 1000000)."),
            QStringLiteral("n"), QStringLiteral("1000000")},
        {QStringLiteral("inbox-runs"), QStringLiteral("Inbox runs (default 2)."), QStringLiteral("n"),
            QStringLiteral("2")},
        {QStringLiteral("inbox-rate"),
            QStringLiteral("Messages per second fed to the inbox (default: the session's measured downstream "
                           "rate on one connection, its upstream ingest rate if that is higher)."),
            QStringLiteral("rate"), QStringLiteral("0")},
        {QStringLiteral("startup-runs"), QStringLiteral("ccs-admin launches (default 5)."),
            QStringLiteral("n"), QStringLiteral("5")},
        {QStringLiteral("sections"),
            QStringLiteral("Any of downstream,scaling,upstream,inbox,startup (default all), and "
                           "client-cpu (not in the default: the limit client's CPU per message alone)."),
            QStringLiteral("list"), QStringLiteral("downstream,scaling,upstream,inbox,startup")},
        {QStringLiteral("emulator-threads"),
            QStringLiteral("ccs-emulator --threads values the scaling section compares (default 1,2)."),
            QStringLiteral("list"), QStringLiteral("1,2")},
        {QStringLiteral("clients"),
            QStringLiteral(
                "Downstream clients to run: session,limit (default both; one alone is for profiling)."),
            QStringLiteral("list"), QStringLiteral("session,limit")},
        {QStringLiteral("devices"), QStringLiteral("Simulated devices in the emulator (default 1000)."),
            QStringLiteral("n"), QStringLiteral("1000")},
        {QStringLiteral("emulator"), QStringLiteral("ccs-emulator to run."), QStringLiteral("path"),
            QStringLiteral(CCS_BENCH_EMULATOR)},
        {QStringLiteral("admin"), QStringLiteral("ccs-admin to launch."), QStringLiteral("path"),
            QStringLiteral(CCS_BENCH_ADMIN)},
    });
    parser.process(app);

    const bool isShort = parser.isSet(QStringLiteral("short"));
    auto intOption = [&](const char *name, int shortValue) {
        const QString key = QString::fromLatin1(name);
        return isShort && !parser.isSet(key) ? shortValue : parser.value(key).toInt();
    };
    const int runs = std::max(1, intOption("runs", 1));
    const int messages = std::max(1, intOption("messages", 3000));
    const int upstreamMessages = std::max(1, intOption("upstream-messages", 2000));
    const int inboxMessages = std::max(1, intOption("inbox-messages", 20000));
    const int inboxRuns = std::max(1, intOption("inbox-runs", 1));
    const int startupRuns = std::max(1, intOption("startup-runs", 1));
    double inboxRate = parser.value(QStringLiteral("inbox-rate")).toDouble();
    const QList<int> connectionCounts = parseList(parser.value(QStringLiteral("connections")));
    const QList<int> emulatorThreads = parseList(parser.value(QStringLiteral("emulator-threads")));
    const QStringList sections = parser.value(QStringLiteral("sections")).split(QLatin1Char(','));
    const auto wants = [&](const char *s) { return sections.contains(QLatin1String(s)); };
    const QStringList clients = parser.value(QStringLiteral("clients")).split(QLatin1Char(','));

    QTemporaryDir dataDir; // the emulator's certificate and credentials, made by the first run
    BenchPrograms programs;
    programs.emulator = parser.value(QStringLiteral("emulator"));
    programs.admin = parser.value(QStringLiteral("admin"));
    programs.self = QCoreApplication::applicationFilePath();
    programs.dataDir = dataDir.path();
    programs.devices = std::max(10, parser.value(QStringLiteral("devices")).toInt());

    const QString loadBefore = loadAverage();
    QStringList failures;

    // Downstream: session and reference runs alternate, so that a change in the
    // machine's load touches both columns alike.
    std::map<int, Medians> session, reference;
    if (wants("downstream")) {
        for (int connections : connectionCounts) {
            std::vector<DownstreamResult> s, ref;
            for (int run = 0; run < runs; ++run) {
                progress(QStringLiteral("downstream %1 connection(s), run %2/%3")
                             .arg(connections)
                             .arg(run + 1)
                             .arg(runs));
                if (clients.contains(QLatin1String("session"))) {
                    DownstreamResult a = runSessionDownstream(programs, connections, messages);
                    if (a.ok)
                        s.push_back(a);
                    else
                        failures << a.error;
                }
                if (clients.contains(QLatin1String("limit"))) {
                    DownstreamResult b = runReferenceDownstream(programs, connections, messages);
                    if (b.ok)
                        ref.push_back(b);
                    else
                        failures << b.error;
                }
            }
            if (!s.empty())
                session[connections] = mediansOf(s);
            if (!ref.empty())
                reference[connections] = mediansOf(ref);
        }
    }

    // Scaling: the limit client against ccs-emulator --threads N, the thread
    // counts alternating within each run like the columns above.
    std::map<std::pair<int, int>, Medians> scaling; // by (threads, connections)
    if (wants("scaling")) {
        for (int connections : connectionCounts) {
            std::map<int, std::vector<DownstreamResult>> byThreads;
            for (int run = 0; run < runs; ++run) {
                for (int threads : emulatorThreads) {
                    progress(QStringLiteral("scaling: --threads %1, %2 connection(s), run %3/%4")
                                 .arg(threads)
                                 .arg(connections)
                                 .arg(run + 1)
                                 .arg(runs));
                    BenchPrograms withThreads = programs;
                    withThreads.emulatorThreads = threads;
                    DownstreamResult r = runReferenceDownstream(withThreads, connections, messages);
                    if (r.ok)
                        byThreads[threads].push_back(r);
                    else
                        failures << r.error;
                }
            }
            for (const auto &[threads, results] : byThreads)
                scaling[{threads, connections}] = mediansOf(results);
        }
    }

    std::vector<UpstreamResult> upstream;
    Medians upstreamMedians;
    if (wants("upstream")) {
        std::vector<double> rate, emu, self;
        for (int run = 0; run < runs; ++run) {
            progress(QStringLiteral("upstream, run %1/%2").arg(run + 1).arg(runs));
            UpstreamResult u = runSessionUpstream(programs, upstreamMessages);
            if (!u.ok) {
                failures << u.error;
                continue;
            }
            rate.push_back(u.rate);
            emu.push_back(u.emulatorCpu);
            self.push_back(u.selfCpu);
            upstream.push_back(u);
        }
        upstreamMedians = {median(rate), 0, 0, median(emu), median(self)};
    }

    std::vector<InboxResult> inbox;
    if (wants("inbox")) {
        if (inboxRate <= 0) {
            // The rate the session delivers: what it ingested upstream, or what one
            // connection carries downstream, whichever is higher; a floor keeps the run short.
            inboxRate = std::max({upstreamMedians.rate, session.count(1) ? session[1].rate : 0.0,
                isShort ? 20000.0 : 10000.0});
        }
        for (int run = 0; run < inboxRuns; ++run) {
            progress(QStringLiteral("inbox %1 messages at %2/s, run %3/%4")
                         .arg(inboxMessages)
                         .arg(num(inboxRate))
                         .arg(run + 1)
                         .arg(inboxRuns));
            InboxResult r = runInboxIngest(programs, inboxMessages, inboxRate);
            if (r.ok)
                inbox.push_back(r);
            else
                failures << r.error;
        }
    }

    // The limit client's own CPU per message, to set beside ccsctl's (tests/bench/client_cpu_ab.sh):
    // one connection, nothing else running in this process.
    std::vector<DownstreamResult> clientCpu;
    if (wants("client-cpu")) {
        for (int run = 0; run < runs; ++run) {
            progress(QStringLiteral("client CPU: the limit client, %1 messages, run %2/%3")
                         .arg(messages)
                         .arg(run + 1)
                         .arg(runs));
            DownstreamResult r = runReferenceDownstream(programs, 1, messages);
            if (r.ok)
                clientCpu.push_back(r);
            else
                failures << r.error;
        }
    }

    std::vector<double> startupMs, versionMs;
    if (wants("startup")) {
        for (int run = 0; run < startupRuns; ++run) {
            progress(QStringLiteral("start-up, run %1/%2").arg(run + 1).arg(startupRuns));
            const StartupResult v = runVersionStartup(programs);
            if (v.ok)
                versionMs.push_back(v.ms);
            else
                failures << v.error;
            const StartupResult s = runStartup(programs);
            if (s.ok)
                startupMs.push_back(s.ms);
            else
                failures << s.error;
        }
    }

    // The table.
    QTextStream &o = out();
    o << "## CCS Admin benchmark\n\n";
    o << "Machine: " << machineDescription() << "; load average " << loadBefore << " before, "
      << loadAverage() << " after. " << QDateTime::currentDateTimeUtc().toString(Qt::ISODate) << "\n";
    o << "Each figure: the median of " << runs << " run(s); downstream " << num(messages)
      << " messages, window 100; "
      << "emulator (ccs-emulator, a separate process) and client over TLS on loopback. "
      << "CPU columns: percent of one core over the run.\n\n";

    if (wants("downstream")) {
        o << "### Downstream: CcsSession against the limit (a bare QSslSocket client)\n\n";
        o << "| connections | session msg/s | ACK p50 / p99 ms | limit msg/s | limit ACK p50 / p99 ms | "
             "session / "
             "limit | scaling (session vs 1 conn) | emulator CPU (session run) | benchmark CPU (session run) "
             "| "
             "emulator CPU (limit run) |\n";
        o << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
        for (int c : connectionCounts) {
            const Medians s = session.count(c) ? session[c] : Medians {};
            const Medians r = reference.count(c) ? reference[c] : Medians {};
            const double base = session.count(1) ? session[1].rate : 0;
            o << "| " << c << " | " << num(s.rate) << " | " << num(s.p50, 2) << " / " << num(s.p99, 2)
              << " | " << num(r.rate) << " | " << num(r.p50, 2) << " / " << num(r.p99, 2) << " | "
              << (r.rate > 0 ? pct(s.rate / r.rate * 100) : QStringLiteral("n/a")) << " | "
              << (base > 0 ? QStringLiteral("%1x").arg(num(s.rate / base, 2)) : QStringLiteral("n/a"))
              << " | " << pct(s.emulatorCpu) << " | " << pct(s.selfCpu) << " | " << pct(r.emulatorCpu)
              << " |\n";
        }
        o << "\n";
    }
    if (wants("scaling") && !emulatorThreads.isEmpty()) {
        o << "### Emulator scaling: the limit client against ccs-emulator --threads N\n\n";
        o << "| connections |";
        for (int t : emulatorThreads)
            o << " --threads " << t << " msg/s | emulator CPU |";
        o << " --threads " << emulatorThreads.last() << " / --threads " << emulatorThreads.first() << " |\n";
        o << "|---:|";
        for (qsizetype i = 0; i < emulatorThreads.size(); ++i)
            o << "---:|---:|";
        o << "---:|\n";
        for (int c : connectionCounts) {
            o << "| " << c << " |";
            for (int t : emulatorThreads) {
                const auto it = scaling.find({t, c});
                const Medians m = it != scaling.end() ? it->second : Medians {};
                o << " " << num(m.rate) << " | " << pct(m.emulatorCpu) << " |";
            }
            const auto first = scaling.find({emulatorThreads.first(), c});
            const auto last = scaling.find({emulatorThreads.last(), c});
            o << " "
              << (first != scaling.end() && last != scaling.end() && first->second.rate > 0
                         ? QStringLiteral("%1x").arg(num(last->second.rate / first->second.rate, 2))
                         : QStringLiteral("n/a"))
              << " |\n";
        }
        o << "\n";
        o << "Emulator CPU per message (microseconds of run time on a core, from each thread's "
             "/proc/PID/task/TID/schedstat: the time waiting for a core is not in it), all threads = the "
             "server's thread + the worker loops' + Qt's own:\n\n";
        o << "| connections |";
        for (int t : emulatorThreads)
            o << " --threads " << t << " all | server thread | worker loops |";
        o << "\n|---:|";
        for (qsizetype i = 0; i < emulatorThreads.size(); ++i)
            o << "---:|---:|---:|";
        o << "\n";
        for (int c : connectionCounts) {
            o << "| " << c << " |";
            for (int t : emulatorThreads) {
                const auto it = scaling.find({t, c});
                const Medians m = it != scaling.end() ? it->second : Medians {};
                o << " " << num(m.emulatorUs, 1) << " | " << num(m.serverUs, 1) << " | " << num(m.loopsUs, 1)
                  << " |";
            }
            o << "\n";
        }
        o << "\n";
    }
    if (wants("upstream")) {
        int retries = 0;
        for (const UpstreamResult &u : upstream)
            retries += u.httpRetries;
        o << "### Upstream: " << num(upstreamMessages)
          << " messages ingested, de-duplicated and ACKed by CcsSession (one connection)\n\n";
        o << "| session msg/s | emulator CPU | benchmark CPU (session + admin API feed) | feed retries (429) "
             "|\n";
        o << "|---:|---:|---:|---:|\n";
        o << "| " << num(upstreamMedians.rate) << " | " << pct(upstreamMedians.emulatorCpu) << " | "
          << pct(upstreamMedians.selfCpu) << " | " << retries << " |\n\n";
    }
    if (wants("inbox")) {
        std::vector<double> p99, mx, rssMiB, perMsg, modelMiB, secs;
        for (const InboxResult &r : inbox) {
            p99.push_back(r.stallP99Ms);
            mx.push_back(r.stallMaxMs);
            rssMiB.push_back(double(r.rssAfterKiB) / 1024.0);
            perMsg.push_back(r.bytesPerMessage);
            modelMiB.push_back(double(r.modelBytes) / 1048576.0);
            secs.push_back(r.seconds);
        }
        o << "### The window: " << num(inboxMessages)
          << " upstream messages into the inbox (InboxPage, offscreen), "
          << "median of " << inbox.size() << " run(s)\n\n";
        o << "| fed at msg/s | event-loop gap p99 ms | max ms | VmRSS after MiB | bytes per message (VmRSS) "
             "| "
             "model estimate MiB | seconds |\n";
        o << "|---:|---:|---:|---:|---:|---:|---:|\n";
        o << "| " << num(inboxRate) << " | " << num(median(p99), 1) << " | " << num(median(mx), 1) << " | "
          << num(median(rssMiB)) << " | " << num(median(perMsg)) << " | " << num(median(modelMiB)) << " | "
          << num(median(secs), 1) << " |\n\n";
    }
    if (wants("client-cpu") && !clientCpu.empty()) {
        o << "### The limit client's CPU per downstream message (one connection, " << num(messages)
          << " messages)\n\n";
        o << "User + sys CPU of this process (getrusage), divided by the messages. \"sending\": first "
             "write to last ACK; \"with login\": from before the TLS connection to after its close.\n\n";
        o << "| run | msg/s | CPU µs per message, sending | CPU µs per message, with login |\n"
             "|---:|---:|---:|---:|\n";
        std::vector<double> sending, withLogin, rate;
        for (size_t i = 0; i < clientCpu.size(); ++i) {
            const DownstreamResult &r = clientCpu[i];
            sending.push_back(r.selfCpuSeconds / messages * 1e6);
            withLogin.push_back(r.selfCpuWithLoginSeconds / messages * 1e6);
            rate.push_back(r.rate);
            o << "| " << (i + 1) << " | " << num(r.rate) << " | " << num(sending.back(), 2) << " | "
              << num(withLogin.back(), 2) << " |\n";
        }
        o << "| median | " << num(median(rate)) << " | " << num(median(sending), 2) << " | "
          << num(median(withLogin), 2) << " |\n\n";
    }
    if (wants("startup")) {
        o << "### Start-up of ccs-admin (offscreen), median of " << startupRuns << "\n\n";
        o << "| launch to first painted window ms | launch to exit of --version ms |\n|---:|---:|\n";
        o << "| " << (startupMs.empty() ? QStringLiteral("n/a") : num(median(startupMs))) << " | "
          << (versionMs.empty() ? QStringLiteral("n/a") : num(median(versionMs))) << " |\n\n";
    }

    // Targets, as ratios of the same run.
    o << "### Targets\n\n";
    if (session.count(1) && reference.count(1)) {
        const double share = session[1].rate / reference[1].rate * 100;
        o << "- session reaches >= 70% of the limit on one connection: " << pct(share) << " — "
          << (share >= 70 ? "met" : "MISSED") << "\n";
        // Saturated looks like the limit run: the emulator busy nearly all the time.
        o << "- the emulator is not the limit of the one-connection session run: emulator CPU "
          << pct(session[1].emulatorCpu) << " of a core (" << pct(reference[1].emulatorCpu)
          << " when the limit client drives it), benchmark (session) " << pct(session[1].selfCpu) << " — "
          << (session[1].emulatorCpu < 80 && session[1].emulatorCpu < reference[1].emulatorCpu - 15
                     ? "met"
                     : "MISSED")
          << "\n";
    }
    if (!inbox.empty()) {
        std::vector<double> p99, rss;
        for (const InboxResult &r : inbox) {
            p99.push_back(r.stallP99Ms);
            rss.push_back(double(r.rssAfterKiB) * 1024.0);
        }
        o << "- inbox ingest stalls the event loop <= 16 ms at p99: " << num(median(p99), 1) << " ms — "
          << (median(p99) <= 16 ? "met" : "MISSED") << "\n";
        o << "- inbox holds " << num(inboxMessages)
          << " messages in < 1 GiB resident: " << num(median(rss) / 1048576.0) << " MiB — "
          << (median(rss) < 1024.0 * 1048576.0 ? "met" : "MISSED") << "\n";
    }
    o << "\n";
    if (!failures.isEmpty()) {
        o << "### Incomplete runs\n\n";
        for (const QString &f : failures)
            o << "- " << f << "\n";
    }
    o.flush();
    return failures.isEmpty() ? 0 : 1;
}
