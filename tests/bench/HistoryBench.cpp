// ccs-history-bench: the SQLite history under load.
//  1. fills a history with N downstream messages (default 1,000,000; a tenth as
//     many upstream) through HistoryWriter, then times each kind of search
//     (median of --runs runs, first page of 100, newest first);
//  2. feeds a MessageLedger at --rate messages/s for --seconds through the
//     HistoryRecorder while a 1 ms timer measures the event loop's gaps.
// Prints Markdown. --short: a small variant for ctest (asserts nothing about speed).
#include "client/MessageLedger.h"
#include "history/HistoryRecorder.h"
#include "history/HistoryStore.h"
#include "history/HistoryWriter.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <functional>

#include <unistd.h>

using namespace ccs;
using namespace ccs::history;

namespace {

constexpr int kDevices = 1000;
const char *const kNacks[] = {"DEVICE_UNREGISTERED", "BAD_REGISTRATION", "DEVICE_MESSAGE_RATE_EXCEEDED"};

// CPU seconds (user + system) the threads named `name` have used, from /proc (Linux): what
// the writer costs, whatever else the machine is doing. -1 where /proc is not there.
double threadCpuSeconds(const QString &name)
{
    const QDir tasks(QStringLiteral("/proc/self/task"));
    if (!tasks.exists())
        return -1;
    double seconds = 0;
    const double tick = double(::sysconf(_SC_CLK_TCK));
    for (const QString &tid : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks.filePath(tid + QStringLiteral("/comm")));
        if (!comm.open(QIODevice::ReadOnly) || !name.startsWith(QString::fromUtf8(comm.readAll().trimmed())))
            continue;
        QFile stat(tasks.filePath(tid + QStringLiteral("/stat")));
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray text = stat.readAll();
        // Fields after the ")" that closes the name: state is field 3, utime 14, stime 15.
        const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
        if (fields.size() > 12)
            seconds += (fields.at(11).toDouble() + fields.at(12).toDouble()) / tick;
    }
    return seconds;
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, size_t(p * double(values.size())))];
}

LedgerEntry makeEntry(qint64 i, qint64 atMs)
{
    LedgerEntry e;
    e.message.to = QStringLiteral("device-%1").arg(i % kDevices);
    e.message.messageId = QStringLiteral("m-%1").arg(i);
    QString text = QStringLiteral("w%1 w%2").arg(i % 5000).arg((i * 7) % 3001);
    if (i % 100000 == 7)
        text += QStringLiteral(" needle");
    e.message.data = QJsonObject {{QStringLiteral("seq"), i}, {QStringLiteral("text"), text}};
    e.queuedAtMs = atMs;
    e.sentAtMs = atMs + 1;
    e.connectionId = int(i % 8) + 1;
    e.attempts = 1;
    if (i % 50 == 3) {
        e.state = MessageState::Nacked;
        e.nackText = QString::fromLatin1(kNacks[(i / 50) % 3]);
        e.history
            = {{MessageState::Queued, atMs, 0, {}}, {MessageState::InFlight, atMs + 1, e.connectionId, {}},
                {MessageState::Nacked, atMs + 3, e.connectionId, e.nackText}};
    } else {
        e.state = i % 3 ? MessageState::Delivered : MessageState::Acked;
        e.ackedAtMs = atMs + 3;
        if (e.state == MessageState::Delivered)
            e.deliveredAtMs = atMs + 200;
        e.history
            = {{MessageState::Queued, atMs, 0, {}}, {MessageState::InFlight, atMs + 1, e.connectionId, {}},
                {MessageState::Acked, atMs + 3, e.connectionId, {}}};
    }
    return e;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Benchmarks of the SQLite history."));
    parser.addHelpOption();
    const QCommandLineOption messages(QStringLiteral("messages"),
        QStringLiteral("Downstream messages to store (1000000)."), QStringLiteral("N"));
    const QCommandLineOption runs(
        QStringLiteral("runs"), QStringLiteral("Runs of each search (7)."), QStringLiteral("N"));
    const QCommandLineOption rate(QStringLiteral("rate"),
        QStringLiteral("Messages per second through the recorder (50000)."), QStringLiteral("N"));
    const QCommandLineOption seconds(
        QStringLiteral("seconds"), QStringLiteral("Length of the recorder run (10)."), QStringLiteral("S"));
    const QCommandLineOption shortRun(QStringLiteral("short"), QStringLiteral("A small, quick variant."));
    const QCommandLineOption dirOption(QStringLiteral("dir"),
        QStringLiteral("Where the databases go (a temporary folder)."), QStringLiteral("DIR"));
    const QCommandLineOption liveOnly(
        QStringLiteral("live-only"), QStringLiteral("Only the recording run (no fill, no searches)."));
    parser.addOptions({messages, runs, rate, seconds, shortRun, dirOption, liveOnly});
    parser.process(app);
    const bool isShort = parser.isSet(shortRun);
    const qint64 n = parser.value(messages).isEmpty() ? (isShort ? 20000 : 1000000)
                                                      : parser.value(messages).toLongLong();
    const int runCount = parser.value(runs).isEmpty() ? (isShort ? 1 : 7) : parser.value(runs).toInt();
    const int feedRate = parser.value(rate).isEmpty() ? 50000 : parser.value(rate).toInt();
    const double feedSeconds
        = parser.value(seconds).isEmpty() ? (isShort ? 1 : 10) : parser.value(seconds).toDouble();

    QTemporaryDir temp;
    const QString dir = parser.isSet(dirOption) ? parser.value(dirOption) : temp.path();
    const QString path = dir + QStringLiteral("/bench-search.sqlite");
    QFile::remove(path);
    QFile::remove(path + QStringLiteral("-wal"));
    QFile::remove(path + QStringLiteral("-shm"));

    // 1. Fill.
    const bool searches = !parser.isSet(liveOnly);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 span = 10LL * 24 * 3600 * 1000; // ten days of traffic
    if (searches) {
        HistoryWriter writer;
        writer.setMaxBatchRows(20000);
        const OpenResult opened = writer.open(path, {QStringLiteral("bench"), {}, 0, {}});
        if (!opened.ok()) {
            std::fprintf(stderr, "%s\n", qPrintable(opened.error));
            return 1;
        }
        QElapsedTimer clock;
        clock.start();
        for (qint64 i = 0; i < n; ++i) {
            const qint64 at = now - span + span * i / n;
            writer.append(DownstreamRecord {makeEntry(i, at), true});
            if (i % 10 == 0) {
                UpstreamMessage u;
                u.from = QStringLiteral("device-%1").arg(i % kDevices);
                u.messageId = QString::number(i / kDevices);
                u.category = QStringLiteral("com.example");
                u.data = QJsonObject {{QStringLiteral("reply"), QStringLiteral("w%1").arg(i % 5000)}};
                writer.append(UpstreamRecord {u, int(i % 8) + 1, at + 5, at + 5});
            }
            // Let the writer keep up instead of holding everything in memory.
            while (writer.pendingRecords() > 200000)
                QThread::msleep(5);
        }
        writer.flush();
        const double fillCpu = threadCpuSeconds(QStringLiteral("ccs-history-writer"));
        writer.close();
        const double s = clock.elapsed() / 1000.0;
        std::printf("## History search on %lld downstream + %lld upstream messages\n\n", n, (n + 9) / 10);
        std::printf(
            "Filled in %.1f s (%.0f messages/s through HistoryWriter, batches of up to 20,000 records).\n\n",
            s, (n + n / 10) / s);
        if (fillCpu > 0)
            std::printf("Writer thread during the fill: %.1f s of CPU, %.1f us per message (%.0f messages/s on "
                        "one core).\n\n",
                fillCpu, fillCpu * 1e6 / double(n + n / 10), double(n + n / 10) / fillCpu);
    }
    if (searches) {
        HistoryStore store;
        if (!store.open(path, true).ok()) {
            std::fprintf(stderr, "%s\n", qPrintable(store.lastError()));
            return 1;
        }
        const HistoryStats stats = store.stats();
        std::printf("Database: %.1f MiB (%.0f bytes per message).\n\n", stats.fileBytes / 1048576.0,
            double(stats.fileBytes) / double(stats.downstream + stats.upstream));
        struct Case {
            const char *name;
            std::function<void(HistoryQuery &)> set;
        };
        const qint64 mid = now - span / 2;
        QVector<HistoryRow> deep;
        const std::vector<Case> cases = {
            {"newest page, no filter", [](HistoryQuery &) {}},
            {"token (a device: ~1,100 messages)",
                [](HistoryQuery &q) { q.token = QStringLiteral("device-517"); }},
            {"message id", [n](HistoryQuery &q) { q.messageId = QStringLiteral("m-%1").arg(n / 3); }},
            {"text, rare word (`needle`)", [](HistoryQuery &q) { q.text = QStringLiteral("needle"); }},
            {"text, common word (~530 messages)", [](HistoryQuery &q) { q.text = QStringLiteral("w1234"); }},
            {"text, two words", [](HistoryQuery &q) { q.text = QStringLiteral("w17 w119"); }},
            {"state Nacked", [](HistoryQuery &q) { q.state = QStringLiteral("Nacked"); }},
            {"NACK code", [](HistoryQuery &q) { q.nackCode = QStringLiteral("BAD_REGISTRATION"); }},
            {"time range (one hour, ten days back)",
                [mid](HistoryQuery &q) {
                    q.sinceMs = mid;
                    q.untilMs = mid + 3600 * 1000;
                }},
            {"connection", [](HistoryQuery &q) { q.connection = 5; }},
            {"token + text",
                [](HistoryQuery &q) {
                    q.token = QStringLiteral("device-517");
                    q.text = QStringLiteral("w517");
                }},
            {"state + time range",
                [mid](HistoryQuery &q) {
                    q.state = QStringLiteral("Nacked");
                    q.sinceMs = mid;
                    q.untilMs = mid + 24 * 3600 * 1000;
                }},
        };
        std::printf("| search (first page of 100) | rows | median ms | max ms |\n|---|---:|---:|---:|\n");
        double worst = 0;
        for (const Case &c : cases) {
            std::vector<double> times;
            int found = 0;
            for (int r = 0; r < runCount; ++r) {
                HistoryQuery q;
                q.limit = 100;
                c.set(q);
                QVector<HistoryRow> rows;
                QElapsedTimer t;
                t.start();
                if (!store.search(q, &rows)) {
                    std::fprintf(stderr, "search failed: %s\n", qPrintable(store.lastError()));
                    return 1;
                }
                times.push_back(t.nsecsElapsed() / 1e6);
                found = int(rows.size());
            }
            worst = std::max(worst, median(times));
            std::printf("| %s | %d | %.1f | %.1f |\n", c.name, found, median(times),
                *std::max_element(times.begin(), times.end()));
        }
        // Paging: the 50th page of a token's messages through the keyset cursor.
        {
            std::vector<double> times;
            for (int r = 0; r < runCount; ++r) {
                HistoryQuery q;
                q.limit = 20;
                q.token = QStringLiteral("device-517");
                QVector<HistoryRow> rows;
                QElapsedTimer t;
                for (int page = 0; page < 50; ++page) {
                    if (page == 49)
                        t.start();
                    store.search(q, &rows);
                    if (rows.isEmpty())
                        break;
                    q.after = HistoryStore::cursorAfter(rows.last());
                }
                times.push_back(t.isValid() ? t.nsecsElapsed() / 1e6 : 0);
            }
            std::printf("| 50th page of 20 for a token (keyset) | 20 | %.1f | %.1f |\n", median(times),
                *std::max_element(times.begin(), times.end()));
        }
        std::printf(
            "\nSlowest median: %.1f ms (target < 200 ms): %s\n\n", worst, worst < 200 ? "met" : "MISSED");
    }

    // 2. The recorder at a steady rate, with the event loop watched.
    {
        const QString livePath = dir + QStringLiteral("/bench-live.sqlite");
        QFile::remove(livePath);
        HistoryWriter writer;
        if (!writer.open(livePath, {QStringLiteral("bench"), {}, 0, {}}).ok())
            return 1;
        MessageLedger ledger;
        HistoryRecorder recorder(&writer);
        recorder.attachLedger(&ledger);
        std::vector<double> gaps;
        QElapsedTimer clock;
        clock.start();
        qint64 lastTick = clock.nsecsElapsed();
        QTimer probe;
        probe.setTimerType(Qt::PreciseTimer);
        QObject::connect(&probe, &QTimer::timeout, [&] {
            const qint64 t = clock.nsecsElapsed();
            gaps.push_back((t - lastTick) / 1e6);
            lastTick = t;
        });
        qint64 fed = 0;
        const qint64 total = qint64(feedRate * feedSeconds);
        QTimer feeder;
        feeder.setTimerType(Qt::PreciseTimer);
        QEventLoop loop;
        QObject::connect(&feeder, &QTimer::timeout, [&] {
            const qint64 due = std::min<qint64>(total, clock.elapsed() * feedRate / 1000);
            for (; fed < due; ++fed) {
                DownstreamMessage m;
                m.to = QStringLiteral("device-%1").arg(fed % kDevices);
                m.messageId = QStringLiteral("live-%1").arg(fed);
                m.data = QJsonObject {{QStringLiteral("seq"), fed}};
                const int index = ledger.add(m);
                ledger.transition(index, MessageState::InFlight, 1);
                ledger.transition(index, MessageState::Acked, 1);
            }
            if (fed >= total)
                loop.quit();
        });
        probe.start(1);
        feeder.start(5);
        loop.exec();
        const double feedS = clock.elapsed() / 1000.0;
        probe.stop();
        feeder.stop();
        QElapsedTimer drain;
        drain.start();
        writer.flush();
        const double drainS = drain.elapsed() / 1000.0;
        const double writerCpu = threadCpuSeconds(QStringLiteral("ccs-history-writer"));
        std::printf("## Recording live traffic (MessageLedger -> HistoryRecorder -> HistoryWriter)\n\n");
        std::printf("| target msg/s | fed msg/s | written msg/s (to the last commit) | event-loop gap p50 / "
                    "p99 / max ms | "
                    "records committed |\n|---:|---:|---:|---:|---:|\n");
        std::printf("| %d | %.0f | %.0f | %.1f / %.1f / %.1f | %lld |\n", feedRate, fed / feedS,
            fed / (feedS + drainS), percentile(gaps, 0.5), percentile(gaps, 0.99),
            gaps.empty() ? 0.0 : *std::max_element(gaps.begin(), gaps.end()), writer.committedRecords());
        std::printf("\nEvent-loop gap p99 %.1f ms (target <= 16 ms): %s\n", percentile(gaps, 0.99),
            percentile(gaps, 0.99) <= 16 ? "met" : "MISSED");
        if (writerCpu > 0)
            std::printf("\nWriter thread: %.2f s of CPU for %lld messages (%.1f us each): it can write "
                        "%.0f messages/s on one core (target 50,000: %s).\n",
                writerCpu, fed, writerCpu * 1e6 / double(fed), double(fed) / writerCpu,
                double(fed) / writerCpu >= 50000 ? "met" : "MISSED");
        QFile loadavg(QStringLiteral("/proc/loadavg"));
        const QByteArray load = loadavg.open(QIODevice::ReadOnly) ? loadavg.readAll().trimmed() : QByteArray("n/a");
        std::printf("Load average at the end (other programs on the machine): %s\n", load.constData());
    }
    return 0;
}
