// Downstream handling on the emulator: the shared validation rules answered
// as CCS does (NACK with code and description, or a stanza error), device
// verdicts (BAD_REGISTRATION, DEVICE_UNREGISTERED, DEVICE_MESSAGE_RATE_EXCEEDED),
// escaping, and the record of what was received.
#include "RawCcsClient.h"
#include "TestEmulator.h"
#include "protocol/Validation.h"

#include <QJsonDocument>
#include <QTest>

#include <algorithm>

using namespace ccs;
using namespace ccs::test;

class TestEmulatorDownstream : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void invalidRequestsNacked_data();
    void invalidRequestsNacked();
    void missingMessageIdIsStanzaError();
    void unparsableJsonIsStanzaError();
    void deviceVerdicts_data();
    void deviceVerdicts();
    void rateLimitedDevice();
    void payloadThatLooksLikeXmlSurvives();
    void duplicateMessageIdRecorded();
    void upstreamAckNotCountedAsDownstream();

private:
    QJsonObject sendAndWait(const QJsonObject &request);
    std::unique_ptr<TestEmulator> m_emu;
    std::unique_ptr<RawCcsClient> m_client;
};

void TestEmulatorDownstream::init()
{
    m_emu = std::make_unique<TestEmulator>();
    QVERIFY2(m_emu->isRunning(), qPrintable(m_emu->error()));
    m_client = std::make_unique<RawCcsClient>();
    QString error;
    QVERIFY2(m_client->loginTo(*m_emu, &error), qPrintable(error));
}

void TestEmulatorDownstream::cleanup()
{
    m_client.reset();
    m_emu.reset();
}

QJsonObject TestEmulatorDownstream::sendAndWait(const QJsonObject &request)
{
    const QString id = request.value("message_id").toString();
    m_client->sendJson(request);
    QJsonObject answer;
    m_client->waitForGcm(
        [&](const QJsonObject &o) { return o.value("message_id").toString() == id; }, &answer);
    return answer;
}

void TestEmulatorDownstream::invalidRequestsNacked_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("descriptionPart");
    QTest::newRow("ttl as string") << QByteArray(R"({"to":"dev-1","message_id":"v1","time_to_live":"600"})")
                                   << "JSON_TYPE_ERROR";
    QTest::newRow("ttl too large") << QByteArray(R"({"to":"dev-1","message_id":"v1","time_to_live":2419201})")
                                   << "INVALID_TTL";
    QTest::newRow("ttl negative") << QByteArray(R"({"to":"dev-1","message_id":"v1","time_to_live":-1})")
                                  << "INVALID_TTL";
    QTest::newRow("missing to") << QByteArray(R"({"message_id":"v1","data":{"a":"b"}})") << "to";
    QTest::newRow("registration_ids")
        << QByteArray(R"({"registration_ids":["dev-1"],"message_id":"v1"})") << "registration_ids";
    QTest::newRow("reserved data key")
        << QByteArray(R"({"to":"dev-1","message_id":"v1","data":{"from":"x"}})") << "from";
    QTest::newRow("google data key") << QByteArray(
        R"({"to":"dev-1","message_id":"v1","data":{"google.x":"y"}})")
                                     << "google";
    QTest::newRow("data not object") << QByteArray(R"({"to":"dev-1","message_id":"v1","data":"text"})")
                                     << "data";
    QTest::newRow("data too big") << QByteArray(R"({"to":"dev-1","message_id":"v1","data":{"k":")")
            + QByteArray(4100, 'x')
            + QByteArray(R"("}})") << "4096";
    QTest::newRow("boolean as string")
        << QByteArray(R"({"to":"dev-1","message_id":"v1","delay_while_idle":"true"})") << "delay_while_idle";
    QTest::newRow("bad priority") << QByteArray(R"({"to":"dev-1","message_id":"v1","priority":"urgent"})")
                                  << "priority";
}

void TestEmulatorDownstream::invalidRequestsNacked()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, descriptionPart);
    // The emulator answers exactly what the shared rules decide.
    QJsonObject request = QJsonDocument::fromJson(json).object();
    const auto failure = validateDownstream(request);
    QVERIFY(failure.has_value());
    QVERIFY(!failure->stanzaError);

    m_client->sendGcmText(QString::fromUtf8(json));
    QJsonObject nack;
    QVERIFY(
        m_client->waitForGcm([](const QJsonObject &o) { return o.value("message_type") == "nack"; }, &nack));
    QCOMPARE(nack.value("message_id").toString(), QStringLiteral("v1"));
    QCOMPARE(nack.value("error").toString(), NackCatalogue::name(failure->nackCode));
    QCOMPARE(nack.value("error").toString(), QStringLiteral("INVALID_JSON"));
    QCOMPARE(nack.value("error_description").toString(), failure->description);
    QVERIFY2(nack.value("error_description").toString().contains(descriptionPart),
        qPrintable(nack.value("error_description").toString()));
    const auto record = m_emu->server()->downstreamRecord();
    QCOMPARE(record.size(), 1);
    QCOMPARE(record.first().verdict, QStringLiteral("nack:INVALID_JSON"));
    QCOMPARE(m_emu->server()->devices().first().received, 0);
}

void TestEmulatorDownstream::missingMessageIdIsStanzaError()
{
    const QString stanzaId
        = m_client->sendGcmText(QStringLiteral("{\"to\":\"dev-1\",\"data\":{\"random\":\"text\"}}"));
    QVERIFY(m_client->waitFor([&] { return !m_client->stanzaErrors().isEmpty(); }));
    const auto error = m_client->stanzaErrors().first();
    QCOMPARE(error.id, stanzaId);
    QCOMPARE(error.errorCondition, QStringLiteral("bad-request"));
    QVERIFY2(error.errorText.contains("JSON_PARSING_ERROR : Missing Required Field: message_id"),
        qPrintable(error.errorText));
    // The original payload comes back in the error.
    QCOMPARE(error.json.value("data").toObject().value("random").toString(), QStringLiteral("text"));
    QCOMPARE(m_emu->server()->counters().stanzaErrorsSent, 1);
    QCOMPARE(m_client->gcmCount(), 0); // no ACK or NACK for it
    QVERIFY(m_client->isConnected());
}

void TestEmulatorDownstream::unparsableJsonIsStanzaError()
{
    const QString stanzaId
        = m_client->sendGcmText(QStringLiteral("{\"to\":\"dev-1\",\"message_id\":\"p1\","));
    m_client->sendGcmText(QStringLiteral("{\"to\":\"dev-1\",\"message_id\":\"p1\"} trailing"));
    QVERIFY(m_client->waitFor([&] { return m_client->stanzaErrors().size() == 2; }));
    // Answers come back out of order (the emulator's jitter): find it by its id.
    const auto errors = m_client->stanzaErrors();
    const auto found
        = std::find_if(errors.begin(), errors.end(), [&](const auto &e) { return e.id == stanzaId; });
    QVERIFY(found != errors.end());
    const auto error = *found;
    QVERIFY2(error.errorText.contains("JSON_PARSING_ERROR"), qPrintable(error.errorText));
    // The stream is not harmed: the next good message gets its ACK.
    QCOMPARE(sendAndWait({{"to", "dev-1"}, {"message_id", "p2"}}).value("message_type").toString(),
        QStringLiteral("ack"));
}

void TestEmulatorDownstream::deviceVerdicts_data()
{
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("error");
    QTest::newRow("registered") << "dev-2"
                                << "ack"
                                << "";
    QTest::newRow("idle") << "dev-idle"
                          << "ack"
                          << "";
    QTest::newRow("unknown token") << "SomeInvalidRegistrationId"
                                   << "nack"
                                   << "BAD_REGISTRATION";
    QTest::newRow("unregistered") << "dev-unregistered"
                                  << "nack"
                                  << "DEVICE_UNREGISTERED";
    QTest::newRow("topic") << "/topics/news"
                           << "ack"
                           << "";
}

void TestEmulatorDownstream::deviceVerdicts()
{
    QFETCH(QString, to);
    QFETCH(QString, type);
    QFETCH(QString, error);
    const QJsonObject answer
        = sendAndWait({{"to", to}, {"message_id", "d-1"}, {"data", QJsonObject {{"k", "v"}}}});
    QCOMPARE(answer.value("message_type").toString(), type);
    QCOMPARE(answer.value("from").toString(), to); // ACKs and NACKs carry the token as from
    QCOMPARE(answer.value("error").toString(), error);
    if (error == QLatin1String("BAD_REGISTRATION"))
        QCOMPARE(answer.value("error_description").toString(), "Invalid token on 'to' field: " + to);
    const auto record = m_emu->server()->downstreamRecord();
    QCOMPARE(record.size(), 1);
    QCOMPARE(record.first().to, to);
    QCOMPARE(record.first().verdict, error.isEmpty() ? QStringLiteral("ack") : "nack:" + error);
}

void TestEmulatorDownstream::rateLimitedDevice()
{
    // dev-limited takes 5 a minute.
    for (int i = 0; i < 7; ++i)
        m_client->sendJson({{"to", "dev-limited"}, {"message_id", QStringLiteral("r-%1").arg(i)}});
    QVERIFY(m_client->waitForGcmCount(7));
    // Answers may come back in any order: match them by message_id.
    QHash<QString, QJsonObject> answers;
    for (const QJsonObject &o : m_client->gcmMessages())
        answers.insert(o.value("message_id").toString(), o);
    for (int i = 0; i < 5; ++i)
        QCOMPARE(answers.value(QStringLiteral("r-%1").arg(i)).value("message_type").toString(),
            QStringLiteral("ack"));
    for (int i = 5; i < 7; ++i) {
        const QJsonObject answer = answers.value(QStringLiteral("r-%1").arg(i));
        QCOMPARE(answer.value("message_type").toString(), QStringLiteral("nack"));
        QCOMPARE(answer.value("error").toString(), QStringLiteral("DEVICE_MESSAGE_RATE_EXCEEDED"));
        QCOMPARE(answer.value("error_description").toString(),
            QStringLiteral("Downstream message rate exceeded for this registration id"));
    }
    // Another device is not affected.
    QCOMPARE(sendAndWait({{"to", "dev-1"}, {"message_id", "r-other"}}).value("message_type").toString(),
        QStringLiteral("ack"));
}

void TestEmulatorDownstream::payloadThatLooksLikeXmlSurvives()
{
    const QString tricky
        = QStringLiteral("</gcm>&amp;<message> ]]> \"quoted\" 'single' \u00e9\u4e2d\U0001F600");
    m_emu->server()->setReceiptDelayMs(0);
    const QJsonObject answer = sendAndWait({{"to", "dev-1"}, {"message_id", "x-</gcm>&1"},
        {"data", QJsonObject {{"text", tricky}}}, {"delivery_receipt_requested", true}});
    QCOMPARE(answer.value("message_type").toString(), QStringLiteral("ack"));
    QCOMPARE(answer.value("message_id").toString(), QStringLiteral("x-</gcm>&1"));
    QJsonObject receipt;
    QVERIFY(m_client->waitForGcm(
        [](const QJsonObject &o) { return o.value("message_type") == "receipt"; }, &receipt));
    QCOMPARE(receipt.value("message_id").toString(), QStringLiteral("dr2:x-</gcm>&1"));
}

void TestEmulatorDownstream::duplicateMessageIdRecorded()
{
    for (int i = 0; i < 3; ++i)
        m_client->sendJson({{"to", "dev-1"}, {"message_id", "dup"}});
    QVERIFY(m_client->waitForGcmCount(3));
    const auto record = m_emu->server()->downstreamRecord();
    QCOMPARE(record.size(), 1);
    QCOMPARE(record.first().timesReceived, 3);
    QCOMPARE(record.first().connectionIds.size(), 3);
    QCOMPARE(record.first().connectionIds.first(), record.first().connectionIds.last());
    QCOMPARE(m_emu->server()->counters().duplicateDownstream, 2);
    QCOMPARE(m_emu->server()->counters().acksSent, 3);
}

void TestEmulatorDownstream::upstreamAckNotCountedAsDownstream()
{
    const QString id = m_emu->server()->sendUpstream("dev-1", QJsonObject {{"a", "b"}});
    QVERIFY(m_client->waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == id; }));
    m_client->ack("dev-1", id);
    QTRY_COMPARE_WITH_TIMEOUT(m_emu->server()->counters().upstreamAcked, 1, 5000);
    QCOMPARE(m_emu->server()->counters().downstreamReceived, 0);
    QCOMPARE(m_emu->server()->downstreamRecord().size(), 0);
}

QTEST_GUILESS_MAIN(TestEmulatorDownstream)
#include "tst_emulator_downstream.moc"
