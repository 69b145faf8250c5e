// Every NACK code of ccs-protocol-facts.md with its retry class, and what
// happens to codes the catalogue does not know.
#include "protocol/JsonCodec.h"
#include "protocol/NackCatalogue.h"

#include <QSet>
#include <QTest>

using namespace ccs;
using namespace std::chrono_literals;

class TestNackCatalogue : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyCode_data();
    void everyCode();
    void tableIsCompleteAndInFactsOrder();
    void unknownNamesBehaveAsInternalServerError_data();
    void unknownNamesBehaveAsInternalServerError();
    void unknownCodeInANackKeepsTheRawText();
    void retryDelays_data();
    void retryDelays();
};

void TestNackCatalogue::everyCode_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<NackCode>("code");
    QTest::addColumn<RetryClass>("retry");
    QTest::newRow("INVALID_JSON") << "INVALID_JSON" << NackCode::InvalidJson << RetryClass::Never;
    QTest::newRow("BAD_REGISTRATION") << "BAD_REGISTRATION" << NackCode::BadRegistration << RetryClass::Never;
    QTest::newRow("DEVICE_UNREGISTERED")
        << "DEVICE_UNREGISTERED" << NackCode::DeviceUnregistered << RetryClass::Never;
    QTest::newRow("BAD_ACK") << "BAD_ACK" << NackCode::BadAck << RetryClass::Never;
    QTest::newRow("SERVICE_UNAVAILABLE")
        << "SERVICE_UNAVAILABLE" << NackCode::ServiceUnavailable << RetryClass::Backoff;
    QTest::newRow("INTERNAL_SERVER_ERROR")
        << "INTERNAL_SERVER_ERROR" << NackCode::InternalServerError << RetryClass::Backoff;
    QTest::newRow("DEVICE_MESSAGE_RATE_EXCEEDED")
        << "DEVICE_MESSAGE_RATE_EXCEEDED" << NackCode::DeviceMessageRateExceeded << RetryClass::Later;
    QTest::newRow("TOPICS_MESSAGE_RATE_EXCEEDED")
        << "TOPICS_MESSAGE_RATE_EXCEEDED" << NackCode::TopicsMessageRateExceeded << RetryClass::Later;
    QTest::newRow("CONNECTION_DRAINING")
        << "CONNECTION_DRAINING" << NackCode::ConnectionDraining << RetryClass::OtherConnection;
}

void TestNackCatalogue::everyCode()
{
    QFETCH(QString, name);
    QFETCH(NackCode, code);
    QFETCH(RetryClass, retry);
    bool known = false;
    QCOMPARE(NackCatalogue::fromName(name, &known), code);
    QVERIFY(known);
    QCOMPARE(NackCatalogue::name(code), name);
    QCOMPARE(NackCatalogue::retryClass(code), retry);
    const NackInfo &info = NackCatalogue::info(code);
    QCOMPARE(info.code, code);
    QCOMPARE(QLatin1String(info.name), name);
    QVERIFY(qstrlen(info.meaning) > 10);
    QCOMPARE(info.retry, retry);

    // A NACK with this code, over the wire and back.
    const Nack nack = Nack::make(QStringLiteral("m-1"), QStringLiteral("TOKEN"), code, QStringLiteral("why"));
    const QByteArray text = json::serialize(nack.toJson());
    QVERIFY(text.contains("\"error\":\"" + name.toLatin1() + "\""));
    const ServerMessage back = json::parseServerMessage(text);
    QVERIFY(std::holds_alternative<Nack>(back));
    QCOMPARE(std::get<Nack>(back), nack);
}

void TestNackCatalogue::tableIsCompleteAndInFactsOrder()
{
    const QStringList factsOrder {"INVALID_JSON", "BAD_REGISTRATION", "DEVICE_UNREGISTERED", "BAD_ACK",
        "SERVICE_UNAVAILABLE", "INTERNAL_SERVER_ERROR", "DEVICE_MESSAGE_RATE_EXCEEDED",
        "TOPICS_MESSAGE_RATE_EXCEEDED", "CONNECTION_DRAINING"};
    QStringList names;
    QSet<int> codes;
    for (const NackInfo *i = NackCatalogue::begin(); i != NackCatalogue::end(); ++i) {
        names << QLatin1String(i->name);
        codes.insert(int(i->code));
    }
    QCOMPARE(names, factsOrder);
    QCOMPARE(codes.size(), factsOrder.size());
}

void TestNackCatalogue::unknownNamesBehaveAsInternalServerError_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("new code") << "FOO_BAR";
    QTest::newRow("seen only in descriptions") << "AUTHENTICATION_FAILED";
    QTest::newRow("INVALID_TTL") << "INVALID_TTL";
    QTest::newRow("lower case") << "invalid_json";
    QTest::newRow("the typo one client makes") << "INTERNAL_SERVER_ERRROR";
    QTest::newRow("empty") << "";
}

void TestNackCatalogue::unknownNamesBehaveAsInternalServerError()
{
    QFETCH(QString, name);
    bool known = true;
    QCOMPARE(NackCatalogue::fromName(name, &known), NackCode::InternalServerError);
    QVERIFY(!known);
    QCOMPARE(NackCatalogue::retryClass(NackCatalogue::fromName(name)), RetryClass::Backoff);
}

void TestNackCatalogue::unknownCodeInANackKeepsTheRawText()
{
    const QByteArray text
        = R"({"message_type":"nack","message_id":"m-7","from":"TOKEN","error":"QUOTA_GONE","error_description":"x"})";
    const ServerMessage parsed = json::parseServerMessage(text);
    QVERIFY(std::holds_alternative<Nack>(parsed));
    const auto &nack = std::get<Nack>(parsed);
    QCOMPARE(nack.code, NackCode::InternalServerError);
    QCOMPARE(nack.errorText, QStringLiteral("QUOTA_GONE"));
    QCOMPARE(nack.errorDescription, QStringLiteral("x"));
    // Written back, the unknown code is what was received, not INTERNAL_SERVER_ERROR.
    QCOMPARE(nack.toJson().value(QLatin1String("error")).toString(), QStringLiteral("QUOTA_GONE"));

    // A NACK without any error field is still a NACK, and retryable as an internal error.
    const ServerMessage bare = json::parseServerMessage(R"({"message_type":"nack","message_id":"m-8"})");
    QVERIFY(std::holds_alternative<Nack>(bare));
    QCOMPARE(std::get<Nack>(bare).code, NackCode::InternalServerError);
    QVERIFY(std::get<Nack>(bare).errorText.isEmpty());
}

void TestNackCatalogue::retryDelays_data()
{
    QTest::addColumn<RetryClass>("retry");
    QTest::addColumn<int>("attempt");
    QTest::addColumn<qint64>("ms");
    QTest::newRow("backoff 1") << RetryClass::Backoff << 1 << qint64(1000);
    QTest::newRow("backoff 2") << RetryClass::Backoff << 2 << qint64(2000);
    QTest::newRow("backoff 3") << RetryClass::Backoff << 3 << qint64(4000);
    QTest::newRow("backoff 7") << RetryClass::Backoff << 7 << qint64(64000);
    QTest::newRow("backoff 8 capped") << RetryClass::Backoff << 8 << qint64(64000);
    QTest::newRow("backoff 1000 capped") << RetryClass::Backoff << 1000 << qint64(64000);
    QTest::newRow("backoff 0 as 1") << RetryClass::Backoff << 0 << qint64(1000);
    QTest::newRow("later 1") << RetryClass::Later << 1 << qint64(10000);
    QTest::newRow("later 2") << RetryClass::Later << 2 << qint64(20000);
    QTest::newRow("later 6") << RetryClass::Later << 6 << qint64(300000);
    QTest::newRow("later 50 capped") << RetryClass::Later << 50 << qint64(300000);
    QTest::newRow("other connection") << RetryClass::OtherConnection << 1 << qint64(0);
    QTest::newRow("other connection 5") << RetryClass::OtherConnection << 5 << qint64(0);
    QTest::newRow("never") << RetryClass::Never << 1 << qint64(-1);
}

void TestNackCatalogue::retryDelays()
{
    QFETCH(RetryClass, retry);
    QFETCH(int, attempt);
    QFETCH(qint64, ms);
    QCOMPARE(qint64(NackCatalogue::retryDelay(retry, attempt).count()), ms);
}

QTEST_GUILESS_MAIN(TestNackCatalogue)
#include "tst_nackcatalogue.moc"
