// The emulator with its connections on several event loops
// (EmulatorConfig::threads > 1): every connection served, the record and the
// counters whole, the observer called on the server's thread in each
// connection's order, the same run for a seed as with one thread, and drain,
// drop and stop reaching streams on other threads.
#include "RawCcsClient.h"
#include "TestEmulator.h"
#include "server/EmulatorObserver.h"

#include <QDir>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <map>
#include <memory>

using namespace ccs;
using namespace ccs::test;

namespace {

// Writes down what it sees, and whether it saw it on the thread it belongs to.
class RecordingObserver : public emulator::EmulatorObserver
{
public:
    QThread *home = QThread::currentThread();
    int wrongThread = 0;
    std::map<int, QStringList> events; // per connection, in order

    void note(int connection, const QString &event)
    {
        if (QThread::currentThread() != home)
            ++wrongThread;
        events[connection].append(event);
    }
    void connectionOpened(int c, qint64) override { note(c, QStringLiteral("opened")); }
    void authenticated(int c, qint64, const QString &) override { note(c, QStringLiteral("authenticated")); }
    void bound(int c, qint64) override { note(c, QStringLiteral("bound")); }
    void downstreamReceived(int c, qint64, const QString &id, const QString &, const QJsonObject &) override
    {
        note(c, QStringLiteral("received:") + id);
    }
    void answerWritten(int c, qint64, const QString &id, bool, bool, NackCode) override
    {
        note(c, QStringLiteral("answered:") + id);
    }
    void connectionClosed(int c, qint64, emulator::ConnectionEnd) override
    {
        note(c, QStringLiteral("closed"));
    }
};

int threadsOfThisProcess()
{
    return int(QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size());
}

emulator::EmulatorConfig threadedConfig(int threads)
{
    auto config = TestEmulator::defaultConfig();
    config.threads = threads;
    return config;
}

} // namespace

class TestEmulatorThreads : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void everyConnectionServed();
    void sameSeedAnyThreadCount();
    void upstreamDrainDropAndStop();
};

void TestEmulatorThreads::everyConnectionServed()
{
    const int threadsBefore = threadsOfThisProcess();
    TestEmulator emu(threadedConfig(3));
    QVERIFY2(emu.isRunning(), qPrintable(emu.error()));
#ifdef Q_OS_LINUX
    QVERIFY(threadsOfThisProcess() >= threadsBefore + 2); // two worker loops beside this thread's
#else
    Q_UNUSED(threadsBefore);
#endif
    RecordingObserver observer;
    emu.server()->setObserver(&observer);
    constexpr int kClients = 6;
    constexpr int kPerClient = 250;
    std::vector<std::unique_ptr<RawCcsClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<RawCcsClient>());
        QString error;
        QVERIFY2(clients.back()->loginTo(emu, &error), qPrintable(error));
    }
    QCOMPARE(emu.server()->openConnections(), kClients);
    // Every client keeps its window of 100 full, all at once.
    std::vector<int> sent(kClients, 0);
    auto topUp = [&] {
        for (int i = 0; i < kClients; ++i) {
            RawCcsClient &c = *clients[size_t(i)];
            while (sent[size_t(i)] < kPerClient && sent[size_t(i)] - c.gcmCount() < 100) {
                c.sendJson(
                    {{"to", "dev-1"}, {"message_id", QStringLiteral("c%1-m%2").arg(i).arg(sent[size_t(i)])}});
                ++sent[size_t(i)];
            }
        }
    };
    auto allAnswered = [&] {
        topUp();
        for (const auto &c : clients) {
            if (c->gcmCount() < kPerClient)
                return false;
        }
        return true;
    };
    QVERIFY(clients.front()->waitFor(allAnswered, 60000));
    for (int i = 0; i < kClients; ++i) {
        int acks = 0;
        for (const QJsonObject &o : clients[size_t(i)]->gcmMessages()) {
            QCOMPARE(o.value("message_type").toString(), QStringLiteral("ack"));
            QVERIFY(o.value("message_id").toString().startsWith(QStringLiteral("c%1-").arg(i)));
            ++acks;
        }
        QCOMPARE(acks, kPerClient);
    }
    const emulator::EmulatorCounters counters = emu.server()->counters();
    QCOMPARE(counters.downstreamReceived, kClients * kPerClient);
    QCOMPARE(counters.acksSent, kClients * kPerClient);
    QCOMPARE(counters.windowViolations, 0);
    QCOMPARE(emu.server()->downstreamRecord().size(), kClients * kPerClient);

    for (auto &c : clients)
        c->closeStream();
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->openConnections(), 0, 30000);
    QCOMPARE(observer.wrongThread, 0);
    QCOMPARE(int(observer.events.size()), kClients);
    for (const auto &[connection, events] : observer.events) {
        // Opened, authenticated, bound; each message received before it is
        // answered; closed last.
        QCOMPARE(events.mid(0, 3), QStringList({"opened", "authenticated", "bound"}));
        QCOMPARE(events.last(), QStringLiteral("closed"));
        QSet<QString> received;
        for (const QString &e : events) {
            if (e.startsWith(QLatin1String("received:")))
                received.insert(e.mid(9));
            else if (e.startsWith(QLatin1String("answered:")))
                QVERIFY2(received.contains(e.mid(9)), qPrintable(e));
        }
        QCOMPARE(int(received.size()), kPerClient);
    }
    emu.server()->setObserver(nullptr);
}

void TestEmulatorThreads::sameSeedAnyThreadCount()
{
    // One connection, random faults: the verdicts come in the same order
    // whether the connection is served on the server's thread or another.
    auto play = [](int threads, QStringList *answers) {
        auto config = threadedConfig(threads);
        config.seed = 42;
        config.faults.nackShare = 0.4;
        config.faults.answerJitterMs = 0; // order of arrival is the network's, not the seed's
        TestEmulator emu(config);
        return emu.isRunning() && RawCcsClient::answersOneByOne(emu, 40, answers);
    };
    QStringList one, two, four;
    QVERIFY(play(1, &one));
    QVERIFY(play(2, &two));
    QVERIFY(play(4, &four));
    QCOMPARE(one.size(), 40);
    QCOMPARE(two, one);
    QCOMPARE(four, one);
    QVERIFY(one.join(QLatin1Char(' ')).contains(QLatin1String("nackSERVICE_UNAVAILABLE")));
}

void TestEmulatorThreads::upstreamDrainDropAndStop()
{
    auto config = threadedConfig(2);
    config.drainGraceMs = 0;
    TestEmulator emu(config);
    QVERIFY2(emu.isRunning(), qPrintable(emu.error()));
    emulator::EmulatorServer *server = emu.server();
    QSignalSpy disconnected(server, &emulator::EmulatorServer::clientDisconnected);

    // Two connections: the first on a worker thread, the second on the server's.
    RawCcsClient a, b;
    QVERIFY(a.loginTo(emu));
    QVERIFY(b.loginTo(emu));
    QCOMPARE(server->openConnections(), 2);

    // A receipt and an upstream message reach a client and its ACKs are matched.
    a.sendJson({{"to", "dev-2"}, {"message_id", "with-receipt"}, {"delivery_receipt_requested", true}});
    QVERIFY(!server->sendUpstream(QStringLiteral("dev-3"), {{"k", "v"}}).isEmpty());
    auto isUpstreamOrReceipt = [](const QJsonObject &o) {
        return o.value("message_type").toString() == QLatin1String("receipt") || !o.contains("message_type");
    };
    QVERIFY(a.waitFor([&] {
        int n = 0;
        for (const QJsonObject &o : a.gcmMessages() + b.gcmMessages())
            n += isUpstreamOrReceipt(o) ? 1 : 0;
        return n == 2;
    }));
    for (RawCcsClient *c : {&a, &b}) {
        for (const QJsonObject &o : c->gcmMessages()) {
            if (isUpstreamOrReceipt(o))
                c->ack(o.value("from").toString(), o.value("message_id").toString());
        }
    }
    QTRY_COMPARE(server->counters().upstreamAcked, 2);
    QCOMPARE(server->counters().badAcks, 0);

    // Drain every connection: CONNECTION_DRAINING reaches both, and with no
    // grace both close once nothing is pending.
    server->drainConnections();
    auto isDrain = [](const QJsonObject &o) { return o.value("control_type") == "CONNECTION_DRAINING"; };
    QVERIFY(a.waitForGcm(isDrain));
    QVERIFY(b.waitForGcm(isDrain));
    QVERIFY(a.waitForDisconnected());
    QVERIFY(b.waitForDisconnected());
    QTRY_COMPARE(server->openConnections(), 0);
    QCOMPARE(server->counters().drainsSent, 2);

    // Drop: cut at once, on whichever thread the stream lives.
    RawCcsClient c, d;
    QVERIFY(c.loginTo(emu));
    QVERIFY(d.loginTo(emu));
    const int before = int(disconnected.size());
    server->dropConnections();
    QVERIFY(c.waitForDisconnected());
    QVERIFY(d.waitForDisconnected());
    QTRY_COMPARE(int(disconnected.size()), before + 2);
    QCOMPARE(server->counters().connectionsDropped, 2);

    // Stop: </stream:stream> on every connection.
    RawCcsClient e, f;
    QVERIFY(e.loginTo(emu));
    QVERIFY(f.loginTo(emu));
    server->stop();
    QVERIFY(e.waitForDisconnected());
    QVERIFY(f.waitForDisconnected());
    QVERIFY(e.streamClosedByServer());
    QVERIFY(f.streamClosedByServer());
    QTRY_COMPARE(server->openConnections(), 0);
}

QTEST_GUILESS_MAIN(TestEmulatorThreads)
#include "tst_emulator_threads.moc"
