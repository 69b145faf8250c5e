// Flow control on the emulator: the 100-message window of un-answered
// downstream messages (recorded, and enforced in strict mode), the upstream
// window of 100 un-ACKed messages, and BAD_ACK for ACKs the emulator cannot match.
#include "RawCcsClient.h"
#include "TestEmulator.h"

#include <QTest>

using namespace ccs;
using namespace ccs::test;

class TestEmulatorFlowControl : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void hundredPendingIsAllowed();
    void pastHundredIsRecorded();
    void strictModeDisconnects();
    void upstreamStopsAtHundredUnacked();
    void unknownAckIsBadAck();
    void ackOnOtherConnectionIsBadAck();
    void acksFlowWhileWindowFull();

private:
    void fill(RawCcsClient &client, int count, const QString &prefix = QStringLiteral("w"));
};

void TestEmulatorFlowControl::fill(RawCcsClient &client, int count, const QString &prefix)
{
    QByteArray burst;
    for (int i = 0; i < count; ++i) {
        burst += "<message id=\"s" + QByteArray::number(i)
            + "\"><gcm xmlns=\"google:mobile:data\">{\"to\":\"dev-1\","
              "\"message_id\":\""
            + prefix.toUtf8() + QByteArray::number(i) + "\"}</gcm></message>";
    }
    client.sendRaw(burst); // one write, so all of it is pending at once behind the ACK delay
}

void TestEmulatorFlowControl::hundredPendingIsAllowed()
{
    auto config = TestEmulator::defaultConfig();
    config.strictWindow = true;
    config.faults.ackDelayMs = 3000; // the whole burst is read before the first answer, loaded machine or not
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    fill(c, 100);
    QVERIFY(c.waitForGcmCount(100, 60000));
    QCOMPARE(emu.server()->counters().maxPendingSeen, 100);
    QCOMPARE(emu.server()->counters().windowViolations, 0);
    QVERIFY(c.isConnected());
}

void TestEmulatorFlowControl::pastHundredIsRecorded()
{
    auto config = TestEmulator::defaultConfig();
    config.faults.ackDelayMs = 3000; // the whole burst is read before the first answer, loaded machine or not
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    fill(c, 105);
    QVERIFY(c.waitForGcmCount(105, 60000));
    QCOMPARE(emu.server()->counters().windowViolations, 5);
    QCOMPARE(emu.server()->counters().maxPendingSeen, 105);
    QVERIFY(c.isConnected()); // lenient by default: recorded, not punished
}

void TestEmulatorFlowControl::strictModeDisconnects()
{
    auto config = TestEmulator::defaultConfig();
    config.strictWindow = true;
    config.faults.ackDelayMs = 3000; // the whole burst is read before the first answer, loaded machine or not
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    fill(c, 101);
    QVERIFY(c.waitForDisconnected(60000));
    QCOMPARE(c.streamError(), QStringLiteral("policy-violation"));
    QCOMPARE(emu.server()->counters().windowViolations, 1);
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->openConnections(), 0, 30000);
}

void TestEmulatorFlowControl::upstreamStopsAtHundredUnacked()
{
    auto config = TestEmulator::defaultConfig();
    config.deviceUpstreamQueueLimit = 0;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    QStringList ids;
    for (int i = 0; i < 130; ++i)
        ids << emu.server()->sendUpstream(QStringLiteral("dev-%1").arg(1 + i % 3), QJsonObject {{"n", i}});
    QVERIFY(c.waitForGcmCount(100));
    // Nothing more arrives while 100 are un-ACKed.
    QTest::qWait(300);
    QCOMPARE(c.gcmCount(), 100);
    QCOMPARE(emu.server()->connections().first().unackedUpstream, 100);
    // ACK ten: ten more come.
    const auto got = c.gcmMessages();
    for (int i = 0; i < 10; ++i)
        c.ack(got.at(i).value("from").toString(), got.at(i).value("message_id").toString());
    QVERIFY(c.waitForGcmCount(110));
    QTest::qWait(200);
    QCOMPARE(c.gcmCount(), 110);
    // In order, each once.
    const auto all = c.gcmMessages();
    for (int i = 0; i < 110; ++i)
        QCOMPARE(all.at(i).value("message_id").toString(), ids.at(i));
}

void TestEmulatorFlowControl::unknownAckIsBadAck()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.ack(QStringLiteral("dev-1"), QStringLiteral("never-sent"));
    QJsonObject nack;
    QVERIFY(c.waitForGcm([](const QJsonObject &o) { return o.value("message_type") == "nack"; }, &nack));
    QCOMPARE(nack.value("error").toString(), QStringLiteral("BAD_ACK"));
    QCOMPARE(nack.value("message_id").toString(), QStringLiteral("never-sent"));
    // An ACK without a message_id is just as bad.
    c.sendJson({{"to", "dev-1"}, {"message_type", "ack"}});
    QVERIFY(c.waitForGcmCount(2));
    QCOMPARE(c.gcmMessages().last().value("error").toString(), QStringLiteral("BAD_ACK"));
    QCOMPARE(emu.server()->counters().badAcks, 2);
    // ACKing the same upstream message twice: the second is unknown.
    const QString id = emu.server()->sendUpstream("dev-1", {});
    QVERIFY(c.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == id; }));
    c.ack("dev-1", id);
    c.ack("dev-1", id);
    QVERIFY(c.waitForGcmCount(4));
    QCOMPARE(c.gcmMessages().last().value("error").toString(), QStringLiteral("BAD_ACK"));
    QCOMPARE(emu.server()->counters().upstreamAcked, 1);
    QCOMPARE(emu.server()->counters().badAcks, 3);
}

void TestEmulatorFlowControl::ackOnOtherConnectionIsBadAck()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient first;
    QVERIFY(first.loginTo(emu));
    const QString id = emu.server()->sendUpstream("dev-2", {});
    QVERIFY(first.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == id; }));
    RawCcsClient second;
    QVERIFY(second.loginTo(emu));
    second.ack("dev-2", id); // ACKs are valid only on their own connection
    QJsonObject nack;
    QVERIFY(second.waitForGcm([](const QJsonObject &o) { return o.value("message_type") == "nack"; }, &nack));
    QCOMPARE(nack.value("error").toString(), QStringLiteral("BAD_ACK"));
    first.ack("dev-2", id);
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->counters().upstreamAcked, 1, 5000);
    const auto rec = emu.server()->upstreamRecord();
    QCOMPARE(rec.size(), 1);
    QCOMPARE(rec.first().ackedOnConnection, rec.first().deliveredOnConnections.first());
}

void TestEmulatorFlowControl::acksFlowWhileWindowFull()
{
    auto config = TestEmulator::defaultConfig();
    config.strictWindow = true;
    config.faults.ackDelayMs = 3000; // the window is still full when the ACK comes
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    const QString id = emu.server()->sendUpstream("dev-3", {});
    QVERIFY(c.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == id; }));
    fill(c, 100);
    c.ack("dev-3", id); // the 101st stanza, but an ACK: not counted in the window
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->counters().upstreamAcked, 1, 30000);
    QVERIFY(c.waitForGcmCount(101, 60000));
    QCOMPARE(emu.server()->counters().windowViolations, 0);
    QVERIFY(c.isConnected());
}

QTEST_GUILESS_MAIN(TestEmulatorFlowControl)
#include "tst_emulator_flowcontrol.moc"
