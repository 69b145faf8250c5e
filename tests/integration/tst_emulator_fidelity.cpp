// The emulator behaves like CCS where the guide speaks (issue "emulator
// fidelity"): device-chosen upstream ids, the guide's CONNECTION_DRAINING
// stanza, draining with a grace period, answers out of order, offline
// devices with time_to_live and collapse_key, topics and device groups,
// tokens that belong to a sender, and runs replayable from a seed. Every
// test talks real TLS on loopback through an outsider's client.
#include "RawCcsClient.h"
#include "SessionTestSupport.h"
#include "TestEmulator.h"

#include <QTest>

using namespace ccs;
using namespace ccs::test;

namespace {
bool isAck(const QJsonObject &o)
{
    return o.value("message_type") == QLatin1String("ack");
}
bool isNack(const QJsonObject &o)
{
    return o.value("message_type") == QLatin1String("nack");
}
bool isReceipt(const QJsonObject &o)
{
    return o.value("message_type") == QLatin1String("receipt");
}
bool isUpstream(const QJsonObject &o)
{
    return !o.contains("message_type") && o.contains("category");
}
bool isDrain(const QJsonObject &o)
{
    return o.value("control_type") == QLatin1String("CONNECTION_DRAINING");
}
QList<QJsonObject> matching(const RawCcsClient &c, bool (*pred)(const QJsonObject &))
{
    QList<QJsonObject> out;
    for (const QJsonObject &o : c.gcmMessages()) {
        if (pred(o))
            out.append(o);
    }
    return out;
}
QStringList ids(const QList<QJsonObject> &messages)
{
    QStringList out;
    for (const QJsonObject &o : messages)
        out.append(o.value("message_id").toString());
    return out;
}
emulator::DeviceStatus device(const emulator::EmulatorServer *server, const QString &token)
{
    for (const auto &d : server->devices()) {
        if (d.spec.token == token)
            return d;
    }
    return {};
}
emulator::DownstreamRecord downstream(const emulator::EmulatorServer *server, const QString &id)
{
    for (const auto &r : server->downstreamRecord()) {
        if (r.messageId == id)
            return r;
    }
    return {};
}
emulator::UpstreamRecord upstream(
    const emulator::EmulatorServer *server, const QString &from, const QString &id)
{
    for (const auto &r : server->upstreamRecord()) {
        if (r.from == from && r.messageId == id)
            return r;
    }
    return {};
}
} // namespace

// An emulator with this configuration, and an outsider's client logged in to it.
#define CCS_LOGGED_IN(config)                                                                                \
    TestEmulator emu(config);                                                                                \
    QVERIFY2(emu.isRunning(), qPrintable(emu.error()));                                                      \
    [[maybe_unused]] emulator::EmulatorServer *server = emu.server();                                        \
    RawCcsClient c;                                                                                          \
    QVERIFY(c.loginTo(emu))

class TestEmulatorFidelity : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void devicesNumberTheirOwnUpstreamIds();
    void explicitUpstreamFields();
    void ackMustNameTheDevice();
    void drainingInTheGuidesForm();
    void drainingInThePlainFormOnRequest();
    void drainCarriesThePipelineThenCloses();
    void drainWithoutGraceClosesWhenIdle();
    void answersComeBackOutOfOrder();
    void answersInOrderWithoutJitter();
    void sessionMatchesAnswersOutOfOrder();
    void offlineDeviceHoldsAndDeliversInOrder();
    void timeToLiveZeroIsNowOrNever();
    void heldMessageExpiresWithoutReceipt();
    void collapseKeyReplacesHeldMessage();
    void atMostFourCollapseKeysHeld();
    void topicsReachSubscribers();
    void topicRateExceeded();
    void deviceGroups();
    void tokensBelongToASender();
    void upstreamTimeToLiveZero();
    void sameSeedSameRun();
};

void TestEmulatorFidelity::devicesNumberTheirOwnUpstreamIds()
{
    CCS_LOGGED_IN(TestEmulator::defaultConfig());
    QCOMPARE(server->sendUpstream(QStringLiteral("dev-1"), QJsonObject {{"n", "a1"}}), QStringLiteral("1"));
    QCOMPARE(server->sendUpstream(QStringLiteral("dev-2"), QJsonObject {{"n", "b1"}}), QStringLiteral("1"));
    QCOMPARE(server->sendUpstream(QStringLiteral("dev-1"), QJsonObject {{"n", "a2"}}), QStringLiteral("2"));
    QCOMPARE(server->sendUpstream(QStringLiteral("dev-2"), QJsonObject {{"n", "b2"}}), QStringLiteral("2"));
    QVERIFY(c.waitFor([&] { return matching(c, isUpstream).size() == 4; }));
    // Four messages, two ids: each ACKed to its own device.
    for (const QJsonObject &o : matching(c, isUpstream))
        c.ack(o.value("from").toString(), o.value("message_id").toString());
    QTRY_COMPARE_WITH_TIMEOUT(server->counters().upstreamAcked, 4, 5000);
    QCOMPARE(server->counters().badAcks, 0);
    for (const QString &from : {QStringLiteral("dev-1"), QStringLiteral("dev-2")}) {
        for (const QString &id : {QStringLiteral("1"), QStringLiteral("2")}) {
            const auto r = upstream(server, from, id);
            QCOMPARE(r.timesDelivered, 1);
            QVERIFY2(r.acked, qPrintable(from + QLatin1Char('/') + id));
            QCOMPARE(r.ackCount, 1);
        }
    }
    QCOMPARE(server->upstreamRecord().size(), 4);
}

void TestEmulatorFidelity::explicitUpstreamFields()
{
    CCS_LOGGED_IN(TestEmulator::defaultConfig());
    emulator::UpstreamRequest request;
    request.messageId = QStringLiteral("7");
    request.category = QStringLiteral("org.example.other");
    request.data = {{"k", "v"}};
    request.timeToLive = 600;
    QString error;
    QCOMPARE(server->sendUpstreamMessage(QStringLiteral("dev-3"), request, &error), QStringLiteral("7"));
    QJsonObject got;
    QVERIFY(c.waitForGcm(isUpstream, &got));
    QCOMPARE(got.value("message_id").toString(), QStringLiteral("7"));
    QCOMPARE(got.value("from").toString(), QStringLiteral("dev-3"));
    QCOMPARE(got.value("category").toString(), QStringLiteral("org.example.other"));
    QCOMPARE(got.value("data").toObject().value("k").toString(), QStringLiteral("v"));
    QCOMPARE(got.value("time_to_live").toInt(), 600);
    // The device's own count moves past an explicit number.
    QCOMPARE(server->sendUpstream(QStringLiteral("dev-3"), QJsonObject {}), QStringLiteral("8"));
    // Bad requests are refused with a reason, and nothing is queued.
    request.timeToLive = 99999999;
    QVERIFY(server->sendUpstreamMessage(QStringLiteral("dev-3"), request, &error).isEmpty());
    QVERIFY(error.contains(QStringLiteral("time_to_live")));
    QVERIFY(server->sendUpstreamMessage(QStringLiteral("no-such"), request, &error).isEmpty());
    QVERIFY(c.waitFor([&] { return matching(c, isUpstream).size() == 2; }));
    QTest::qWait(100);
    QCOMPARE(matching(c, isUpstream).size(), 2);
}

void TestEmulatorFidelity::ackMustNameTheDevice()
{
    CCS_LOGGED_IN(TestEmulator::defaultConfig());
    server->sendUpstream(QStringLiteral("dev-1"), QJsonObject {});
    server->sendUpstream(QStringLiteral("dev-2"), QJsonObject {});
    QVERIFY(c.waitFor([&] { return matching(c, isUpstream).size() == 2; }));
    // Id "1" with dev-2's token acknowledges dev-2's message only.
    c.ack(QStringLiteral("dev-2"), QStringLiteral("1"));
    QTRY_VERIFY_WITH_TIMEOUT(upstream(server, "dev-2", "1").acked, 5000);
    QVERIFY(!upstream(server, "dev-1", "1").acked);
    // Again for dev-2: nothing of dev-2 awaits it any more.
    c.ack(QStringLiteral("dev-2"), QStringLiteral("1"));
    QJsonObject badAck;
    QVERIFY(c.waitForGcm([](const QJsonObject &o) { return isNack(o); }, &badAck));
    QCOMPARE(badAck.value("error").toString(), QStringLiteral("BAD_ACK"));
    QVERIFY(!upstream(server, "dev-1", "1").acked);
    c.ack(QStringLiteral("dev-1"), QStringLiteral("1"));
    QTRY_VERIFY_WITH_TIMEOUT(upstream(server, "dev-1", "1").acked, 5000);
    QCOMPARE(server->counters().badAcks, 1);
}

void TestEmulatorFidelity::drainingInTheGuidesForm()
{
    CCS_LOGGED_IN(TestEmulator::defaultConfig());
    emu.server()->drainConnections();
    QVERIFY(c.waitForGcm(isDrain));
    const QByteArray raw = c.rawReceived();
    const QByteArray expected = "<message>\n  <data:gcm xmlns:data=\"google:mobile:data\">\n  "
                                "{\"message_type\":\"control\",\"control_type\":\"CONNECTION_DRAINING\"}"
                                "\n  </data:gcm>\n</message>";
    QVERIFY2(raw.contains(expected), raw.right(400).constData());
    for (const auto &s : c.received()) {
        if (s.name == QLatin1String("message") && s.gcmText.contains(QLatin1String("CONNECTION_DRAINING")))
            QVERIFY(s.id.isEmpty()); // no stanza id
    }
}

void TestEmulatorFidelity::drainingInThePlainFormOnRequest()
{
    auto config = TestEmulator::defaultConfig();
    config.guideDrainStanza = false;
    CCS_LOGGED_IN(config);
    emu.server()->drainConnections();
    QVERIFY(c.waitForGcm(isDrain));
    QVERIFY(!c.rawReceived().contains("data:gcm"));
    QVERIFY(c.rawReceived().contains("<gcm xmlns=\"google:mobile:data\">"));
}

void TestEmulatorFidelity::drainCarriesThePipelineThenCloses()
{
    auto config = TestEmulator::defaultConfig();
    config.faults.ackDelayMs = 150; // answers still due when the drain comes
    config.drainGraceMs = 5000; // long enough that a loaded machine still sees it open
    CCS_LOGGED_IN(config);
    for (int i = 0; i < 5; ++i)
        c.sendJson({{"to", "dev-1"}, {"message_id", QStringLiteral("p-%1").arg(i)}});
    QTRY_COMPARE_WITH_TIMEOUT(server->connections().value(0).pendingDownstream, 5, 5000);
    // Routed to this connection in the same pass as the drain: still delivered here.
    server->sendUpstream(QStringLiteral("dev-1"), QJsonObject {{"late", "1"}});
    server->sendUpstream(QStringLiteral("dev-2"), QJsonObject {{"late", "2"}});
    server->drainConnections();
    QVERIFY(c.waitForGcm(isDrain));
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 5 && matching(c, isUpstream).size() == 2; }));
    // Every answer and both upstream messages came after CONNECTION_DRAINING.
    const QList<QJsonObject> all = c.gcmMessages();
    QVERIFY(isDrain(all.first()));
    // A new message there gets the CONNECTION_DRAINING NACK.
    c.sendJson({{"to", "dev-1"}, {"message_id", "after-drain"}});
    QJsonObject nack;
    QVERIFY(c.waitForGcm(isNack, &nack));
    QCOMPARE(nack.value("error").toString(), QStringLiteral("CONNECTION_DRAINING"));
    // Late traffic is ACKed on the draining connection, where it came.
    for (const QJsonObject &o : matching(c, isUpstream))
        c.ack(o.value("from").toString(), o.value("message_id").toString());
    QTRY_COMPARE_WITH_TIMEOUT(server->counters().upstreamAcked, 2, 5000);
    QCOMPARE(server->counters().badAcks, 0);
    // Then CCS closes it, at the end of the grace period, not before it.
    QVERIFY(c.isConnected());
    QVERIFY(c.waitForDisconnected(15000));
    QVERIFY(c.streamClosedByServer());
}

void TestEmulatorFidelity::drainWithoutGraceClosesWhenIdle()
{
    auto config = TestEmulator::defaultConfig();
    config.drainGraceMs = 0;
    CCS_LOGGED_IN(config);
    emu.server()->drainConnections();
    QVERIFY(c.waitForGcm(isDrain));
    QVERIFY(c.waitForDisconnected(5000));
}

void TestEmulatorFidelity::answersComeBackOutOfOrder()
{
    auto config = TestEmulator::defaultConfig();
    config.faults.answerJitterMs = 30;
    config.seed = 11;
    CCS_LOGGED_IN(config);
    QStringList sent;
    for (int i = 0; i < 100; ++i) {
        sent.append(QStringLiteral("o-%1").arg(i));
        c.sendJson({{"to", "dev-1"}, {"message_id", sent.last()}});
    }
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 100; }, 10000));
    const QStringList answered = ids(matching(c, isAck));
    QVERIFY(answered != sent);
    QStringList sorted = answered;
    sorted.sort();
    sent.sort();
    QCOMPARE(sorted, sent); // every one answered once
}

void TestEmulatorFidelity::answersInOrderWithoutJitter()
{
    auto config = TestEmulator::defaultConfig();
    config.faults.answerJitterMs = 0;
    CCS_LOGGED_IN(config);
    QStringList sent;
    for (int i = 0; i < 100; ++i) {
        sent.append(QStringLiteral("i-%1").arg(i));
        c.sendJson({{"to", "dev-1"}, {"message_id", sent.last()}});
    }
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 100; }, 10000));
    const QStringList answered = ids(matching(c, isAck));
    QCOMPARE(answered, sent);
}

void TestEmulatorFidelity::sessionMatchesAnswersOutOfOrder()
{
    // ccscore matches answers by message_id: 300 messages, answered in a
    // shuffled order, every one ACKed once and delivered, none resent.
    auto config = TestEmulator::defaultConfig();
    config.faults.answerJitterMs = 25;
    config.receiptDelayMs = 0;
    TestEmulator emu(config);
    CCS_START_EMULATOR(emu);
    CcsSession session;
    CCS_OPEN_SESSION(session, emu.clientSettings());
    for (int i = 0; i < 300; ++i) {
        DownstreamMessage m = downstream(QStringLiteral("dev-%1").arg(1 + i % 3));
        m.deliveryReceiptRequested = true;
        QVERIFY(session.send(m));
    }
    QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->count(MessageState::Delivered), 300, 30000);
    int resent = 0;
    for (const auto &r : emu.server()->downstreamRecord())
        resent += r.timesReceived - 1;
    QCOMPARE(resent, 0);
    QCOMPARE(emu.server()->counters().windowViolations, 0);
    QCOMPARE(emu.server()->counters().badAcks, 0);
}

void TestEmulatorFidelity::offlineDeviceHoldsAndDeliversInOrder()
{
    CCS_LOGGED_IN(TestEmulator::defaultConfig());
    server->setDeviceOnline(QStringLiteral("dev-1"), false);
    for (int i = 0; i < 3; ++i) {
        c.sendJson({{"to", "dev-1"}, {"message_id", QStringLiteral("off-%1").arg(i)},
            {"delivery_receipt_requested", true}});
    }
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 3; }));
    QCOMPARE(device(server, "dev-1").held, 3);
    QCOMPARE(device(server, "dev-1").received, 0);
    QCOMPARE(downstream(server, "off-0").delivery, QStringLiteral("held"));
    // Longer than the receipt delay: an offline device sends no receipt.
    QTest::qWait(300);
    QCOMPARE(matching(c, isReceipt).size(), 0);
    server->setDeviceOnline(QStringLiteral("dev-1"), true);
    QVERIFY(c.waitFor([&] { return matching(c, isReceipt).size() == 3; }));
    const QStringList receipts = ids(matching(c, isReceipt));
    QCOMPARE(receipts, (QStringList {"dr2:off-0", "dr2:off-1", "dr2:off-2"}));
    QCOMPARE(device(server, "dev-1").received, 3);
    QCOMPARE(device(server, "dev-1").held, 0);
    QCOMPARE(downstream(server, "off-2").delivery, QStringLiteral("delivered"));
}

void TestEmulatorFidelity::timeToLiveZeroIsNowOrNever()
{
    CCS_LOGGED_IN(TestEmulator::defaultConfig());
    server->setDeviceOnline(QStringLiteral("dev-2"), false);
    c.sendJson({{"to", "dev-2"}, {"message_id", "ttl0-offline"}, {"time_to_live", 0},
        {"delivery_receipt_requested", true}});
    c.sendJson({{"to", "dev-1"}, {"message_id", "ttl0-online"}, {"time_to_live", 0},
        {"delivery_receipt_requested", true}});
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 2; }));
    QCOMPARE(downstream(server, "ttl0-offline").delivery, QStringLiteral("expired"));
    QVERIFY(c.waitForGcm([](const QJsonObject &o) { return isReceipt(o); }));
    server->setDeviceOnline(QStringLiteral("dev-2"), true);
    QTest::qWait(300);
    QCOMPARE(matching(c, isReceipt).size(), 1);
    QCOMPARE(
        matching(c, isReceipt).first().value("message_id").toString(), QStringLiteral("dr2:ttl0-online"));
    QCOMPARE(device(server, "dev-2").received, 0);
    QCOMPARE(server->counters().messagesExpired, 1);
}

void TestEmulatorFidelity::heldMessageExpiresWithoutReceipt()
{
    CCS_LOGGED_IN(TestEmulator::defaultConfig());
    server->setDeviceOnline(QStringLiteral("dev-3"), false);
    c.sendJson({{"to", "dev-3"}, {"message_id", "short"}, {"time_to_live", 1},
        {"delivery_receipt_requested", true}});
    c.sendJson({{"to", "dev-3"}, {"message_id", "long"}, {"time_to_live", 600},
        {"delivery_receipt_requested", true}});
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 2; }));
    // The one-second time_to_live runs out while the device is away: dropped then.
    QTRY_COMPARE_WITH_TIMEOUT(downstream(server, "short").delivery, QStringLiteral("expired"), 10000);
    QCOMPARE(device(server, "dev-3").held, 1);
    server->setDeviceOnline(QStringLiteral("dev-3"), true);
    QVERIFY(c.waitForGcm(isReceipt));
    QTest::qWait(300);
    QCOMPARE(matching(c, isReceipt).size(), 1);
    QCOMPARE(matching(c, isReceipt).first().value("message_id").toString(), QStringLiteral("dr2:long"));
    QCOMPARE(downstream(server, "short").delivery, QStringLiteral("expired"));
    QCOMPARE(server->counters().messagesExpired, 1);
}

void TestEmulatorFidelity::collapseKeyReplacesHeldMessage()
{
    CCS_LOGGED_IN(TestEmulator::defaultConfig());
    server->setDeviceOnline(QStringLiteral("dev-1"), false);
    for (int i = 0; i < 3; ++i) {
        c.sendJson({{"to", "dev-1"}, {"message_id", QStringLiteral("score-%1").arg(i)},
            {"collapse_key", "score"}, {"delivery_receipt_requested", true}});
    }
    c.sendJson({{"to", "dev-1"}, {"message_id", "plain"}, {"delivery_receipt_requested", true}});
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 4; }));
    QCOMPARE(device(server, "dev-1").held, 2);
    server->setDeviceOnline(QStringLiteral("dev-1"), true);
    QVERIFY(c.waitFor([&] { return matching(c, isReceipt).size() == 2; }));
    QTest::qWait(300);
    const QStringList receipts = ids(matching(c, isReceipt));
    QCOMPARE(receipts, (QStringList {"dr2:score-2", "dr2:plain"}));
    QCOMPARE(downstream(server, "score-0").delivery, QStringLiteral("collapsed"));
    QCOMPARE(downstream(server, "score-1").delivery, QStringLiteral("collapsed"));
    QCOMPARE(server->counters().messagesCollapsed, 2);
}

void TestEmulatorFidelity::atMostFourCollapseKeysHeld()
{
    CCS_LOGGED_IN(TestEmulator::defaultConfig());
    server->setDeviceOnline(QStringLiteral("dev-2"), false);
    for (int i = 0; i < 5; ++i) {
        c.sendJson({{"to", "dev-2"}, {"message_id", QStringLiteral("k-%1").arg(i)},
            {"collapse_key", QStringLiteral("key-%1").arg(i)}});
    }
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 5; }));
    QCOMPARE(device(server, "dev-2").held, 4);
    QCOMPARE(downstream(server, "k-0").delivery, QStringLiteral("collapsed")); // the oldest key gave way
    QCOMPARE(downstream(server, "k-4").delivery, QStringLiteral("held"));
}

void TestEmulatorFidelity::topicsReachSubscribers()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    auto *server = emu.server();
    QVERIFY(server->setDeviceSubscribed(QStringLiteral("dev-1"), QStringLiteral("news"), true));
    QVERIFY(server->setDeviceSubscribed(QStringLiteral("dev-2"), QStringLiteral("news"), true));
    QVERIFY(server->setDeviceSubscribed(QStringLiteral("dev-3"), QStringLiteral("sport"), true));
    QVERIFY(!server->setDeviceSubscribed(QStringLiteral("dev-3"), QStringLiteral("bad topic!"), true));
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendJson({{"to", "/topics/news"}, {"message_id", "t-1"}, {"data", QJsonObject {{"h", "x"}}}});
    QJsonObject ack;
    QVERIFY(c.waitForGcm(isAck, &ack));
    QCOMPARE(ack.value("message_id").toString(), QStringLiteral("t-1"));
    QTRY_COMPARE_WITH_TIMEOUT(device(server, "dev-1").received, 1, 5000);
    QCOMPARE(device(server, "dev-2").received, 1);
    QCOMPARE(device(server, "dev-3").received, 0);
    QCOMPARE(downstream(server, "t-1").delivery, QStringLiteral("fanout:2"));
    QVERIFY(server->setDeviceSubscribed(QStringLiteral("dev-2"), QStringLiteral("news"), false));
    c.sendJson({{"to", "/topics/news"}, {"message_id", "t-2"}});
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 2; }));
    QCOMPARE(device(server, "dev-1").received, 2);
    QCOMPARE(device(server, "dev-2").received, 1);
}

void TestEmulatorFidelity::topicRateExceeded()
{
    auto config = TestEmulator::defaultConfig();
    config.topicMessagesPerMinute = 2;
    CCS_LOGGED_IN(config);
    for (int i = 0; i < 3; ++i)
        c.sendJson({{"to", "/topics/busy"}, {"message_id", QStringLiteral("tr-%1").arg(i)}});
    c.sendJson({{"to", "/topics/quiet"}, {"message_id", "tr-other"}});
    QJsonObject nack;
    QVERIFY(c.waitForGcm(isNack, &nack));
    QCOMPARE(nack.value("error").toString(), QStringLiteral("TOPICS_MESSAGE_RATE_EXCEEDED"));
    QCOMPARE(nack.value("message_id").toString(), QStringLiteral("tr-2"));
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 3; })); // another topic is not limited
}

void TestEmulatorFidelity::deviceGroups()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    auto *server = emu.server();
    QString error;
    const QString key = server->createGroup(
        QStringLiteral("family"), {QStringLiteral("dev-1"), QStringLiteral("dev-3")}, {}, &error);
    QVERIFY2(!key.isEmpty(), qPrintable(error));
    QVERIFY(server->createGroup(QStringLiteral("bad"), {QStringLiteral("nobody")}, {}, &error).isEmpty());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendJson({{"to", key}, {"message_id", "g-1"}});
    QVERIFY(c.waitForGcm(isAck));
    QTRY_COMPARE_WITH_TIMEOUT(device(server, "dev-1").received, 1, 5000);
    QCOMPARE(device(server, "dev-3").received, 1);
    QCOMPARE(device(server, "dev-2").received, 0);
    QVERIFY(server->changeGroup(key, {QStringLiteral("dev-2")}, {QStringLiteral("dev-1")}, &error));
    c.sendJson({{"to", key}, {"message_id", "g-2"}});
    c.sendJson({{"to", "APA91bUnknownNotificationKey"}, {"message_id", "g-unknown"}});
    QJsonObject nack;
    QVERIFY(c.waitForGcm(isNack, &nack));
    QCOMPARE(nack.value("message_id").toString(), QStringLiteral("g-unknown"));
    QCOMPARE(nack.value("error").toString(), QStringLiteral("BAD_REGISTRATION"));
    QVERIFY(c.waitFor([&] { return matching(c, isAck).size() == 2; }));
    QCOMPARE(device(server, "dev-1").received, 1);
    QCOMPARE(device(server, "dev-2").received, 1);
    QCOMPARE(device(server, "dev-3").received, 2);
}

void TestEmulatorFidelity::tokensBelongToASender()
{
    auto config = TestEmulator::defaultConfig();
    const QString other = QStringLiteral("555555555555");
    const QString otherKey = QStringLiteral("other-sender-api-key-0123456789");
    config.senders.append({other, otherKey});
    emulator::DeviceSpec theirs;
    theirs.token = QStringLiteral("dev-of-other-sender");
    theirs.senderId = other;
    config.devices.append(theirs);
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient mine;
    QVERIFY(mine.loginTo(emu));
    mine.sendJson({{"to", "dev-of-other-sender"}, {"message_id", "s-1"}});
    QJsonObject nack;
    QVERIFY(mine.waitForGcm(isNack, &nack));
    QCOMPARE(nack.value("error").toString(), QStringLiteral("BAD_REGISTRATION"));
    RawCcsClient theirClient;
    theirClient.setPinnedCertificate(emu.certificate());
    QString error;
    QVERIFY2(theirClient.login(QStringLiteral("127.0.0.1"), emu.port(), other, otherKey, &error),
        qPrintable(error));
    theirClient.sendJson({{"to", "dev-of-other-sender"}, {"message_id", "s-2"}});
    theirClient.sendJson({{"to", "dev-1"}, {"message_id", "s-3"}});
    QVERIFY(theirClient.waitForGcm(isAck));
    QVERIFY(theirClient.waitForGcm(isNack, &nack));
    QCOMPARE(nack.value("message_id").toString(), QStringLiteral("s-3"));
    QCOMPARE(nack.value("error").toString(), QStringLiteral("BAD_REGISTRATION"));
    // Its upstream messages go to its own sender's connections only.
    emu.server()->sendUpstream(QStringLiteral("dev-of-other-sender"), QJsonObject {{"x", "1"}});
    QVERIFY(theirClient.waitForGcm(isUpstream));
    QTest::qWait(100);
    QCOMPARE(matching(mine, isUpstream).size(), 0);
}

void TestEmulatorFidelity::upstreamTimeToLiveZero()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    auto *server = emu.server();
    emulator::UpstreamRequest now;
    now.timeToLive = 0;
    // No connection: now or never, so never.
    QCOMPARE(server->sendUpstreamMessage(QStringLiteral("dev-1"), now), QStringLiteral("1"));
    QTRY_COMPARE_WITH_TIMEOUT(server->counters().messagesExpired, 1, 5000);
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    QCOMPARE(server->sendUpstreamMessage(QStringLiteral("dev-1"), now), QStringLiteral("2"));
    QJsonObject got;
    QVERIFY(c.waitForGcm(isUpstream, &got));
    QCOMPARE(got.value("message_id").toString(), QStringLiteral("2"));
    QCOMPARE(matching(c, isUpstream).size(), 1);
}

void TestEmulatorFidelity::sameSeedSameRun()
{
    // A run with random faults and jitter, played twice with one seed: the
    // same verdicts in the same order of answers.
    auto play = [](quint64 seed, QStringList *answers) {
        auto config = TestEmulator::defaultConfig();
        config.seed = seed;
        config.faults.nackShare = 0.4;
        config.faults.answerJitterMs = 0; // order of arrival is the network's, not the seed's
        TestEmulator emu(config);
        return emu.isRunning() && RawCcsClient::answersOneByOne(emu, 40, answers)
            && emu.server()->seed() == seed;
    };
    QStringList first, second, third;
    QVERIFY(play(42, &first));
    QVERIFY(play(42, &second));
    QVERIFY(play(43, &third));
    QCOMPARE(first.size(), 40);
    QCOMPARE(first, second);
    QVERIFY(first != third);
    QVERIFY(first.join(QLatin1Char(' ')).contains(QLatin1String("nackSERVICE_UNAVAILABLE")));
}

QTEST_GUILESS_MAIN(TestEmulatorFidelity)
#include "tst_emulator_fidelity.moc"
