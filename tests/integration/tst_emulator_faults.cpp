// Faults on the emulator, on demand and on a schedule: CONNECTION_DRAINING
// with a close once nothing is pending, abrupt drops, retryable NACKs at a
// chosen share, delayed ACKs, upstream redelivered twice; and the record that
// shows what happened.
#include "RawCcsClient.h"
#include "TestEmulator.h"

#include <QElapsedTimer>
#include <QTest>

using namespace ccs;
using namespace ccs::test;

namespace {
bool isControl(const QJsonObject &o)
{
    return o.value("message_type") == QLatin1String("control");
}
} // namespace

class TestEmulatorFaults : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void drainClosesAfterPendingAnswered();
    void drainWaitsForUpstreamAcks();
    void drainGraceCloses();
    void dropLosesUnansweredMessages();
    void nackShareAll_data();
    void nackShareAll();
    void nackShareHalf();
    void ackDelay();
    void redeliverNextUpstream();
    void duplicateUpstreamShare();
    void dropEveryStanzas();
    void drainEveryStanzas();
    void timedDrainAndDrop();
};

void TestEmulatorFaults::drainClosesAfterPendingAnswered()
{
    auto config = TestEmulator::defaultConfig();
    config.faults.ackDelayMs = 300;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    for (int i = 0; i < 5; ++i)
        c.sendJson({{"to", "dev-1"}, {"message_id", QStringLiteral("dr-%1").arg(i)}});
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->connections().value(0).pendingDownstream, 5, 5000);
    emu.server()->drainConnections();
    QJsonObject control;
    QVERIFY(c.waitForGcm(isControl, &control));
    QCOMPARE(control.value("control_type").toString(), QStringLiteral("CONNECTION_DRAINING"));
    QVERIFY(!control.contains("message_id"));
    QVERIFY(c.isConnected()); // still open while 5 are pending
    c.sendJson({{"to", "dev-1"}, {"message_id", "late"}});
    QVERIFY(c.waitForDisconnected(15000)); // after the grace period
    QVERIFY(c.streamClosedByServer());
    QVERIFY(c.streamError().isEmpty());
    // Every message got its answer before the close.
    QStringList acked;
    QJsonObject lateAnswer;
    for (const auto &o : c.gcmMessages()) {
        if (o.value("message_type") == QLatin1String("ack"))
            acked << o.value("message_id").toString();
        if (o.value("message_id") == QLatin1String("late"))
            lateAnswer = o;
    }
    acked.sort(); // in any order: CCS promised none
    QCOMPARE(acked, (QStringList {"dr-0", "dr-1", "dr-2", "dr-3", "dr-4"}));
    QCOMPARE(lateAnswer.value("message_type").toString(), QStringLiteral("nack"));
    QCOMPARE(lateAnswer.value("error").toString(), QStringLiteral("CONNECTION_DRAINING"));
    QCOMPARE(emu.server()->counters().drainsSent, 1);
}

void TestEmulatorFaults::drainWaitsForUpstreamAcks()
{
    // --drain-grace-ms 0 (the easy path): the draining connection closes as
    // soon as nothing is pending either way, not before.
    auto config = TestEmulator::defaultConfig();
    config.drainGraceMs = 0;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    const QString id = emu.server()->sendUpstream("dev-1", {});
    QVERIFY(c.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == id; }));
    emu.server()->drainConnections();
    QVERIFY(c.waitForGcm(isControl));
    QTest::qWait(200);
    QVERIFY(c.isConnected()); // an un-ACKed upstream message keeps it open
    c.ack("dev-1", id);
    QVERIFY(c.waitForDisconnected());
    QVERIFY(emu.server()->upstreamRecord().first().acked);
    QCOMPARE(emu.server()->counters().badAcks, 0);
}

void TestEmulatorFaults::drainGraceCloses()
{
    auto config = TestEmulator::defaultConfig();
    config.drainGraceMs = 300;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    const QString id = emu.server()->sendUpstream("dev-1", {});
    QVERIFY(c.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == id; }));
    emu.server()->drainConnections();
    QVERIFY(c.waitForDisconnected(3000)); // never ACKed: closed after the grace period
    RawCcsClient next;
    QVERIFY(next.loginTo(emu));
    QVERIFY(next.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == id; }));
}

void TestEmulatorFaults::dropLosesUnansweredMessages()
{
    auto config = TestEmulator::defaultConfig();
    config.faults.ackDelayMs = 2000;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendJson({{"to", "dev-1"}, {"message_id", "lost-1"}});
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->counters().downstreamReceived, 1, 5000);
    emu.server()->dropConnections();
    QVERIFY(c.waitForDisconnected());
    QVERIFY(!c.streamClosedByServer()); // abrupt: no </stream:stream>
    QCOMPARE(c.gcmCount(), 0);
    QCOMPARE(emu.server()->counters().connectionsDropped, 1);
    QCOMPARE(emu.server()->openConnections(), 0);
    // Resent on a new connection: the record shows both receptions.
    auto setFaults = emu.server()->faults();
    setFaults.ackDelayMs = 0;
    emu.server()->setFaults(setFaults);
    RawCcsClient again;
    QVERIFY(again.loginTo(emu));
    again.sendJson({{"to", "dev-1"}, {"message_id", "lost-1"}});
    QVERIFY(again.waitForGcmCount(1));
    const auto rec = emu.server()->downstreamRecord().first();
    QCOMPARE(rec.timesReceived, 2);
    QVERIFY(rec.connectionIds.at(0) != rec.connectionIds.at(1));
    QCOMPARE(emu.server()->counters().duplicateDownstream, 0); // different connections
}

void TestEmulatorFaults::nackShareAll_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("name");
    QTest::newRow("service unavailable") << int(NackCode::ServiceUnavailable) << "SERVICE_UNAVAILABLE";
    QTest::newRow("internal server error") << int(NackCode::InternalServerError) << "INTERNAL_SERVER_ERROR";
}

void TestEmulatorFaults::nackShareAll()
{
    QFETCH(int, code);
    QFETCH(QString, name);
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    emulator::FaultSchedule f;
    f.nackShare = 1.0;
    f.nackCode = NackCode(code);
    emu.server()->setFaults(f);
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    for (int i = 0; i < 10; ++i)
        c.sendJson({{"to", "dev-1"}, {"message_id", QStringLiteral("f-%1").arg(i)}});
    QVERIFY(c.waitForGcmCount(10));
    for (const auto &o : c.gcmMessages()) {
        QCOMPARE(o.value("message_type").toString(), QStringLiteral("nack"));
        QCOMPARE(o.value("error").toString(), name);
        QCOMPARE(o.value("from").toString(), QStringLiteral("dev-1"));
    }
    QCOMPARE(emu.server()->devices().first().received, 0);
    // Validation still wins over the fault: an invalid message is INVALID_JSON.
    c.sendGcmText(QStringLiteral(R"({"to":"dev-1","message_id":"bad","time_to_live":"x"})"));
    QVERIFY(c.waitForGcmCount(11));
    QCOMPARE(c.gcmMessages().last().value("error").toString(), QStringLiteral("INVALID_JSON"));
}

void TestEmulatorFaults::nackShareHalf()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    emulator::FaultSchedule f;
    f.nackShare = 0.5;
    emu.server()->setFaults(f);
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    for (int i = 0; i < 400; ++i)
        c.sendJson(
            {{"to", QStringLiteral("dev-%1").arg(1 + i % 3)}, {"message_id", QStringLiteral("h-%1").arg(i)}});
    QVERIFY(c.waitForGcmCount(400, 10000));
    int nacks = 0;
    for (const auto &o : c.gcmMessages())
        nacks += o.value("message_type") == QLatin1String("nack") ? 1 : 0;
    // 400 draws at p = 0.5: outside 130..270 is more than 7 standard deviations away.
    QVERIFY2(nacks > 130 && nacks < 270, qPrintable(QString::number(nacks)));
    QCOMPARE(emu.server()->counters().nacksSent, nacks);
    QCOMPARE(emu.server()->counters().acksSent, 400 - nacks);
}

void TestEmulatorFaults::ackDelay()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    emulator::FaultSchedule f;
    f.ackDelayMs = 400;
    emu.server()->setFaults(f);
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    QElapsedTimer timer;
    timer.start();
    c.sendJson({{"to", "dev-1"}, {"message_id", "slow"}});
    c.sendJson({{"to", "nobody"}, {"message_id", "slow-nack"}});
    QVERIFY(c.waitForGcmCount(2));
    QVERIFY2(timer.elapsed() >= 380, qPrintable(QString::number(timer.elapsed())));
    // Both delayed; with the default jitter in either order.
    QStringList answered {c.gcmMessages().at(0).value("message_id").toString(),
        c.gcmMessages().at(1).value("message_id").toString()};
    answered.sort();
    QCOMPARE(answered, (QStringList {"slow", "slow-nack"}));
}

void TestEmulatorFaults::redeliverNextUpstream()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    emu.server()->redeliverNextUpstream();
    const QString twice = emu.server()->sendUpstream("dev-1", {});
    const QString once = emu.server()->sendUpstream("dev-2", {});
    QVERIFY(c.waitForGcmCount(3));
    QStringList ids;
    for (const auto &o : c.gcmMessages())
        ids << o.value("message_id").toString();
    QCOMPARE(ids, (QStringList {twice, twice, once}));
    // A client that ACKs both copies is not punished; one that ACKs once is fine too.
    c.ack("dev-1", twice);
    c.ack("dev-1", twice);
    c.ack("dev-2", once);
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->counters().upstreamAcked, 2, 5000);
    QTest::qWait(100);
    QCOMPARE(emu.server()->counters().badAcks, 0);
    const auto rec = emu.server()->upstreamRecord();
    QCOMPARE(rec.at(0).timesDelivered, 2);
    QCOMPARE(rec.at(0).ackCount, 2);
    QCOMPARE(rec.at(1).timesDelivered, 1);
}

void TestEmulatorFaults::duplicateUpstreamShare()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    emulator::FaultSchedule f;
    f.duplicateUpstreamShare = 1.0;
    emu.server()->setFaults(f);
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    for (int i = 0; i < 5; ++i)
        emu.server()->sendUpstream("dev-1", {});
    QVERIFY(c.waitForGcmCount(10));
    for (const auto &r : emu.server()->upstreamRecord())
        QCOMPARE(r.timesDelivered, 2);
}

void TestEmulatorFaults::dropEveryStanzas()
{
    auto config = TestEmulator::defaultConfig();
    config.faults.dropEveryStanzas = 3;
    config.faults.answerJitterMs = 0; // the first two answered at once, before the drop
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    for (int i = 0; i < 3; ++i)
        c.sendJson({{"to", "dev-1"}, {"message_id", QStringLiteral("e-%1").arg(i)}});
    QVERIFY(c.waitForDisconnected());
    QCOMPARE(c.gcmCount(), 2); // the third was received, never answered
    const auto rec = emu.server()->downstreamRecord();
    QCOMPARE(rec.size(), 3);
    QCOMPARE(rec.at(2).verdict, QStringLiteral("dropped"));
    QCOMPARE(emu.server()->counters().connectionsDropped, 1);
}

void TestEmulatorFaults::drainEveryStanzas()
{
    auto config = TestEmulator::defaultConfig();
    config.faults.drainEveryStanzas = 2;
    config.faults.answerJitterMs = 0; // both answered at once, then the drain
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendJson({{"to", "dev-1"}, {"message_id", "g-1"}});
    c.sendJson({{"to", "dev-1"}, {"message_id", "g-2"}});
    QVERIFY(c.waitForDisconnected());
    const auto got = c.gcmMessages();
    QCOMPARE(got.size(), 3);
    QCOMPARE(got.at(1).value("message_id").toString(), QStringLiteral("g-2"));
    QVERIFY(isControl(got.at(2)));
    QVERIFY(c.streamClosedByServer());
}

void TestEmulatorFaults::timedDrainAndDrop()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient a;
    QVERIFY(a.loginTo(emu));
    emulator::FaultSchedule f;
    f.drainEveryMs = 200;
    emu.server()->setFaults(f);
    QVERIFY(a.waitForGcm(isControl, nullptr, 30000));
    QVERIFY(a.waitForDisconnected());
    f.drainEveryMs = 0;
    emu.server()->setFaults(f);
    // Logged in before the drops start: a login slower than the period (a loaded
    // machine) would otherwise be cut short and fail for the wrong reason.
    RawCcsClient b;
    QVERIFY(b.loginTo(emu));
    f.dropEveryMs = 200;
    emu.server()->setFaults(f);
    QVERIFY(b.waitForDisconnected(30000));
    QVERIFY(!b.streamClosedByServer());
    QVERIFY(emu.server()->counters().connectionsDropped >= 1);
    emu.server()->setFaults({});
}

QTEST_GUILESS_MAIN(TestEmulatorFaults)
#include "tst_emulator_faults.moc"
