// Simulated devices on the emulator: delivery receipts after the configured
// delay, idle devices honouring delay_while_idle, time_to_live expiry,
// upstream messages on demand and at a rate, redelivery of un-ACKed upstream
// messages and receipts on the next connection.
#include "RawCcsClient.h"
#include "TestEmulator.h"

#include <QElapsedTimer>
#include <QTest>

using namespace ccs;
using namespace ccs::test;

namespace {
bool isReceipt(const QJsonObject &o)
{
    return o.value("message_type") == QLatin1String("receipt");
}
int receivedBy(const emulator::EmulatorServer *server, const QString &token)
{
    for (const auto &d : server->devices()) {
        if (d.spec.token == token)
            return d.received;
    }
    return -1;
}
} // namespace

class TestEmulatorDevices : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void receiptAfterConfiguredDelay();
    void noReceiptUnlessRequested();
    void dryRunIsNotDelivered();
    void idleDeviceHoldsDelayWhileIdle();
    void idleDeviceGetsOthersAtOnce();
    void heldMessageExpires();
    void unackedUpstreamRedeliveredOnNextConnection();
    void unackedReceiptRedelivered();
    void upstreamExpiresBeforeDelivery();
    void deviceQueuesAtMostTwenty();
    void upstreamAtConfiguredRate();
    void addDeviceAtRunTime();
};

void TestEmulatorDevices::receiptAfterConfiguredDelay()
{
    auto config = TestEmulator::defaultConfig();
    config.receiptDelayMs = 400;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    QElapsedTimer timer;
    timer.start();
    c.sendJson({{"to", "dev-1"}, {"message_id", "rc-1"}, {"delivery_receipt_requested", true}});
    QVERIFY(c.waitForGcm([](const QJsonObject &o) { return o.value("message_type") == "ack"; }));
    QJsonObject receipt;
    QVERIFY(c.waitForGcm(isReceipt, &receipt));
    QVERIFY2(timer.elapsed() >= 380, qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(receipt.value("message_id").toString(), QStringLiteral("dr2:rc-1"));
    QCOMPARE(receipt.value("category").toString(), QStringLiteral("com.example.ccsadmin"));
    QCOMPARE(emu.server()->counters().receiptsSent, 1);
}

void TestEmulatorDevices::noReceiptUnlessRequested()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendJson({{"to", "dev-1"}, {"message_id", "nr-1"}});
    c.sendJson({{"to", "dev-1"}, {"message_id", "nr-2"}, {"delivery_receipt_requested", false}});
    c.sendJson({{"to", "dev-1"}, {"message_id", "nr-3"}, {"delivery_receipt_requested", true}});
    QVERIFY(c.waitForGcm(isReceipt));
    QTest::qWait(200); // longer than the receipt delay: no receipt for nr-1 and nr-2
    int receipts = 0;
    for (const auto &o : c.gcmMessages())
        receipts += isReceipt(o) ? 1 : 0;
    QCOMPARE(receipts, 1);
    QCOMPARE(receivedBy(emu.server(), "dev-1"), 3);
}

void TestEmulatorDevices::dryRunIsNotDelivered()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendJson(
        {{"to", "dev-1"}, {"message_id", "dry"}, {"dry_run", true}, {"delivery_receipt_requested", true}});
    QVERIFY(c.waitForGcm([](const QJsonObject &o) { return o.value("message_type") == "ack"; }));
    QTest::qWait(200);
    QCOMPARE(receivedBy(emu.server(), "dev-1"), 0);
    QCOMPARE(emu.server()->counters().receiptsSent, 0);
}

void TestEmulatorDevices::idleDeviceHoldsDelayWhileIdle()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendJson({{"to", "dev-idle"}, {"message_id", "idle-1"}, {"delay_while_idle", true},
        {"delivery_receipt_requested", true}});
    QVERIFY(c.waitForGcm([](const QJsonObject &o) { return o.value("message_type") == "ack"; }));
    QTest::qWait(200);
    QCOMPARE(receivedBy(emu.server(), "dev-idle"), 0); // held while idle
    QVERIFY(!emu.server()->downstreamRecord().first().receiptSent);
    emu.server()->setDeviceOnline("dev-idle", true);
    QJsonObject receipt;
    QVERIFY(c.waitForGcm(isReceipt, &receipt));
    QCOMPARE(receipt.value("message_id").toString(), QStringLiteral("dr2:idle-1"));
    QCOMPARE(receivedBy(emu.server(), "dev-idle"), 1);
}

void TestEmulatorDevices::idleDeviceGetsOthersAtOnce()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendJson({{"to", "dev-idle"}, {"message_id", "wake"}, {"delivery_receipt_requested", true}});
    QVERIFY(c.waitForGcm(isReceipt));
    QCOMPARE(receivedBy(emu.server(), "dev-idle"), 1);
}

void TestEmulatorDevices::heldMessageExpires()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendJson({{"to", "dev-idle"}, {"message_id", "ttl-1"}, {"delay_while_idle", true}, {"time_to_live", 1},
        {"delivery_receipt_requested", true}});
    c.sendJson({{"to", "dev-idle"}, {"message_id", "ttl-0"}, {"delay_while_idle", true}, {"time_to_live", 0},
        {"delivery_receipt_requested", true}});
    c.sendJson({{"to", "dev-idle"}, {"message_id", "ttl-long"}, {"delay_while_idle", true},
        {"time_to_live", 600}, {"delivery_receipt_requested", true}});
    QVERIFY(c.waitForGcmCount(3));
    QCOMPARE(emu.server()->counters().messagesExpired, 1); // time_to_live 0: now or never
    QTest::qWait(1100); // let ttl-1 run out
    emu.server()->setDeviceOnline("dev-idle", true);
    QVERIFY(c.waitForGcm(isReceipt));
    QTest::qWait(200);
    QStringList receipts;
    for (const auto &o : c.gcmMessages()) {
        if (isReceipt(o))
            receipts << o.value("message_id").toString();
    }
    QCOMPARE(receipts, QStringList {"dr2:ttl-long"});
    QCOMPARE(emu.server()->counters().messagesExpired, 2);
    QCOMPARE(receivedBy(emu.server(), "dev-idle"), 1);
}

void TestEmulatorDevices::unackedUpstreamRedeliveredOnNextConnection()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    QString id;
    {
        RawCcsClient first;
        QVERIFY(first.loginTo(emu));
        id = emu.server()->sendUpstream("dev-1", QJsonObject {{"q", "1"}});
        QVERIFY(first.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == id; }));
        first.abort(); // not ACKed
    }
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->openConnections(), 0, 5000);
    RawCcsClient second;
    QVERIFY(second.loginTo(emu));
    QJsonObject again;
    QVERIFY(second.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == id; }, &again));
    QCOMPARE(again.value("data").toObject().value("q").toString(), QStringLiteral("1"));
    second.ack("dev-1", id);
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->counters().upstreamAcked, 1, 5000);
    const auto rec = emu.server()->upstreamRecord().first();
    QCOMPARE(rec.timesDelivered, 2);
    QCOMPARE(rec.deliveredOnConnections.size(), 2);
    QVERIFY(rec.deliveredOnConnections.at(0) != rec.deliveredOnConnections.at(1));
    QCOMPARE(rec.ackedOnConnection, rec.deliveredOnConnections.at(1));
}

void TestEmulatorDevices::unackedReceiptRedelivered()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    {
        RawCcsClient first;
        QVERIFY(first.loginTo(emu));
        first.sendJson({{"to", "dev-2"}, {"message_id", "rr-1"}, {"delivery_receipt_requested", true}});
        QVERIFY(first.waitForGcm(isReceipt));
        first.closeStream();
        QVERIFY(first.waitForDisconnected());
    }
    RawCcsClient second;
    QVERIFY(second.loginTo(emu));
    QJsonObject receipt;
    QVERIFY(second.waitForGcm(isReceipt, &receipt));
    QCOMPARE(receipt.value("message_id").toString(), QStringLiteral("dr2:rr-1"));
    second.ack(receipt.value("from").toString(), receipt.value("message_id").toString());
    QTRY_VERIFY_WITH_TIMEOUT(emu.server()->downstreamRecord().first().receiptAcked, 5000);
}

void TestEmulatorDevices::upstreamExpiresBeforeDelivery()
{
    auto config = TestEmulator::defaultConfig();
    config.upstreamTimeToLiveSeconds = 1;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    const QString id = emu.server()->sendUpstream("dev-1", {});
    QVERIFY(!id.isEmpty());
    QTest::qWait(1100); // no connection while its time_to_live runs out
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    const QString fresh = emu.server()->sendUpstream("dev-1", {});
    QVERIFY(c.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == fresh; }));
    QCOMPARE(c.gcmCount(), 1);
    QCOMPARE(emu.server()->counters().messagesExpired, 1);
}

void TestEmulatorDevices::deviceQueuesAtMostTwenty()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    for (int i = 0; i < 20; ++i)
        QVERIFY(!emu.server()->sendUpstream("dev-3", {}).isEmpty());
    QVERIFY(emu.server()->sendUpstream("dev-3", {}).isEmpty()); // the 21st unsent is refused
    QVERIFY(!emu.server()->sendUpstream("dev-2", {}).isEmpty());
    QVERIFY(emu.server()->sendUpstream("no-such-device", {}).isEmpty());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    QVERIFY(c.waitForGcmCount(21));
    QVERIFY(!emu.server()->sendUpstream("dev-3", {}).isEmpty()); // delivered ones no longer count
}

void TestEmulatorDevices::upstreamAtConfiguredRate()
{
    auto config = TestEmulator::defaultConfig();
    config.upstreamRatePerSecond = 20;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    QVERIFY(c.waitForGcmCount(5, 5000));
    for (const auto &o : c.gcmMessages()) {
        QVERIFY(!o.contains("message_type"));
        QVERIFY(o.value("from").toString() != QLatin1String("dev-unregistered"));
        c.ack(o.value("from").toString(), o.value("message_id").toString());
    }
    QTRY_VERIFY_WITH_TIMEOUT(emu.server()->counters().upstreamAcked >= 5, 5000);
    QCOMPARE(emu.server()->counters().badAcks, 0);
}

void TestEmulatorDevices::addDeviceAtRunTime()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendJson({{"to", "dev-new"}, {"message_id", "n-1"}});
    QVERIFY(c.waitForGcmCount(1));
    QCOMPARE(c.gcmMessages().last().value("error").toString(), QStringLiteral("BAD_REGISTRATION"));
    emulator::DeviceSpec spec;
    spec.token = "dev-new";
    spec.name = "New phone";
    QVERIFY(emu.server()->addDevice(spec));
    QVERIFY(!emu.server()->addDevice(spec)); // same token twice
    c.sendJson({{"to", "dev-new"}, {"message_id", "n-2"}});
    QVERIFY(c.waitForGcmCount(2));
    QCOMPARE(c.gcmMessages().last().value("message_type").toString(), QStringLiteral("ack"));
}

QTEST_GUILESS_MAIN(TestEmulatorDevices)
#include "tst_emulator_devices.moc"
