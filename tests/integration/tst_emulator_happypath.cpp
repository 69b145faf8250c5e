// The emulator's happy path over real TLS on loopback: TLS with a pinned
// certificate, SASL PLAIN, bind, ACK of a valid downstream message, upstream
// delivery and its ACK, a delivery receipt.
#include "RawCcsClient.h"
#include "TestEmulator.h"

#include <QJsonObject>
#include <QTest>

using namespace ccs;
using namespace ccs::test;

class TestEmulatorHappyPath : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void loginAckUpstreamReceipt();
    void answersInOrder();
};

void TestEmulatorHappyPath::loginAckUpstreamReceipt()
{
    TestEmulator emu;
    QVERIFY2(emu.isRunning(), qPrintable(emu.error()));
    RawCcsClient client;
    client.setPinnedCertificate(emu.certificate());
    QString error;
    QVERIFY2(
        client.login(QStringLiteral("127.0.0.1"), emu.port(), QString::fromLatin1(TestEmulator::kSenderId),
            QString::fromLatin1(TestEmulator::kApiKey), &error),
        qPrintable(error));
    QVERIFY(client.boundJid().startsWith(QStringLiteral("123456789012@gcm.googleapis.com/")));

    client.sendJson({{"to", "dev-1"}, {"message_id", "m-1"}, {"data", QJsonObject {{"hello", "world"}}},
        {"delivery_receipt_requested", true}});
    QJsonObject ack;
    QVERIFY(client.waitForGcm([](const QJsonObject &o) { return o.value("message_type") == "ack"; }, &ack));
    QCOMPARE(ack.value("message_id").toString(), QStringLiteral("m-1"));
    QCOMPARE(ack.value("from").toString(), QStringLiteral("dev-1"));

    QJsonObject receipt;
    QVERIFY(client.waitForGcm(
        [](const QJsonObject &o) { return o.value("message_type") == "receipt"; }, &receipt));
    QCOMPARE(receipt.value("message_id").toString(), QStringLiteral("dr2:m-1"));
    QCOMPARE(receipt.value("from").toString(), QStringLiteral("gcm.googleapis.com"));
    const QJsonObject receiptData = receipt.value("data").toObject();
    QCOMPARE(receiptData.value("message_status").toString(), QStringLiteral("MESSAGE_SENT_TO_DEVICE"));
    QCOMPARE(receiptData.value("original_message_id").toString(), QStringLiteral("m-1"));
    QCOMPARE(receiptData.value("device_registration_id").toString(), QStringLiteral("dev-1"));
    client.ack(QStringLiteral("gcm.googleapis.com"), QStringLiteral("dr2:m-1"));

    const QString upId = emu.server()->sendUpstream(QStringLiteral("dev-2"), QJsonObject {{"ping", "1"}});
    QVERIFY(!upId.isEmpty());
    QJsonObject up;
    QVERIFY(client.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == upId; }, &up));
    QVERIFY(!up.contains("message_type"));
    QCOMPARE(up.value("from").toString(), QStringLiteral("dev-2"));
    QCOMPARE(up.value("category").toString(), QStringLiteral("com.example.ccsadmin"));
    QCOMPARE(up.value("data").toObject().value("ping").toString(), QStringLiteral("1"));
    client.ack(QStringLiteral("dev-2"), upId);

    QTRY_VERIFY_WITH_TIMEOUT(emu.server()->counters().upstreamAcked == 2, 5000);
    const auto record = emu.server()->upstreamRecord();
    QCOMPARE(record.size(), 2);
    for (const auto &r : record) {
        QVERIFY(r.acked);
        QCOMPARE(r.ackCount, 1);
        QCOMPARE(r.timesDelivered, 1);
    }
    const auto down = emu.server()->downstreamRecord();
    QCOMPARE(down.size(), 1);
    QCOMPARE(down.first().verdict, QStringLiteral("ack"));
    QVERIFY(down.first().receiptSent);
    QVERIFY(down.first().receiptAcked);
    QCOMPARE(emu.server()->counters().badAcks, 0);
    QCOMPARE(emu.server()->devices().first().received, 1);
}

void TestEmulatorHappyPath::answersInOrder()
{
    // CCS promised no order (the emulator's default jitter shuffles answers);
    // without jitter the emulator answers in the order messages came.
    auto config = TestEmulator::defaultConfig();
    config.faults.answerJitterMs = 0;
    TestEmulator emu(config);
    QVERIFY2(emu.isRunning(), qPrintable(emu.error()));
    RawCcsClient client;
    client.setPinnedCertificate(emu.certificate());
    QVERIFY(client.login(QStringLiteral("127.0.0.1"), emu.port(),
        QString::fromLatin1(TestEmulator::kSenderId), QString::fromLatin1(TestEmulator::kApiKey)));
    // Mixed verdicts, still answered in the order sent.
    const QStringList tos = {"dev-1", "nope", "dev-2", "dev-unregistered", "dev-3"};
    for (int i = 0; i < 50; ++i)
        client.sendJson({{"to", tos.at(i % tos.size())}, {"message_id", QStringLiteral("o-%1").arg(i)}});
    QVERIFY(client.waitForGcmCount(50));
    const auto answers = client.gcmMessages();
    for (int i = 0; i < 50; ++i)
        QCOMPARE(answers.at(i).value("message_id").toString(), QStringLiteral("o-%1").arg(i));
}

QTEST_GUILESS_MAIN(TestEmulatorHappyPath)
#include "tst_emulator_happypath.moc"
