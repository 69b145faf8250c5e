// The message value types: parsing by message_type, unknown fields kept in
// `extra`, unknown message types ignored, and lossless round trips.
#include "protocol/JsonCodec.h"
#include "protocol/Messages.h"

#include <QJsonArray>
#include <QTest>

using namespace ccs;

namespace {

QJsonObject parse(const QByteArray &text)
{
    QJsonObject object;
    ParseError error;
    if (!json::parseObject(text, &object, &error))
        qFatal("bad test text: %s", qPrintable(error.message));
    return object;
}

QJsonObject serverMessageJson(const ServerMessage &m)
{
    return std::visit(
        [](const auto &v) -> QJsonObject {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, ParseError>)
                return {};
            else if constexpr (std::is_same_v<T, UnknownMessage>)
                return v.object;
            else
                return v.toJson();
        },
        m);
}

} // namespace

class TestMessages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void serverMessageKinds_data();
    void serverMessageKinds();
    void serverMessageRoundTrip_data();
    void serverMessageRoundTrip();
    void unknownMessageTypeIsIgnoredButKept();
    void wrongFieldTypesNameTheField_data();
    void wrongFieldTypesNameTheField();
    void clientMessages_data();
    void clientMessages();
    void downstreamRoundTripOfEveryField();
    void downstreamKeepsWronglyTypedFields();
    void downstreamDefaults();
    void factories();
};

void TestMessages::serverMessageKinds_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("index"); // the variant alternative
    QTest::newRow("upstream") << QByteArray(
        R"({"category":"c","data":{"a":"b"},"message_id":"m","from":"T"})")
                              << 1;
    QTest::newRow("ack") << QByteArray(R"({"message_type":"ack","message_id":"m","from":"T"})") << 2;
    QTest::newRow("nack") << QByteArray(
        R"({"message_type":"nack","message_id":"m","from":"T","error":"BAD_ACK"})")
                          << 3;
    QTest::newRow("receipt") << QByteArray(
        R"({"message_type":"receipt","message_id":"dr2:m","from":"gcm.googleapis.com",
                                  "category":"c","data":{"message_status":"MESSAGE_SENT_TO_DEVICE",
                                  "original_message_id":"m","device_registration_id":"T"}})")
                             << 4;
    QTest::newRow("control") << QByteArray(
        R"({"message_type":"control","control_type":"CONNECTION_DRAINING"})")
                             << 5;
    QTest::newRow("unknown control type")
        << QByteArray(R"({"message_type":"control","control_type":"NEW"})") << 5;
    QTest::newRow("unknown type") << QByteArray(R"({"message_type":"presence_report","x":1})") << 6;
    QTest::newRow("type in other case") << QByteArray(R"({"message_type":"ACK","message_id":"m"})") << 6;
    QTest::newRow("not json") << QByteArray("nope") << 0;
    QTest::newRow("upstream without id") << QByteArray(R"({"from":"T","data":{}})") << 0;
    QTest::newRow("upstream without from") << QByteArray(R"({"message_id":"m","data":{}})") << 0;
}

void TestMessages::serverMessageKinds()
{
    QFETCH(QByteArray, text);
    QFETCH(int, index);
    const ServerMessage m = json::parseServerMessage(text);
    QCOMPARE(int(m.index()), index);
    if (index == 0)
        QVERIFY(!std::get<ParseError>(m).message.isEmpty());
}

void TestMessages::serverMessageRoundTrip_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("upstream") << QByteArray(
        R"({"category":"c","data":{"a":"b"},"message_id":"m","from":"T"})");
    QTest::newRow("upstream with ttl and extras")
        << QByteArray(R"({"category":"c","data":{"a":"b"},"message_id":"m","from":"T","time_to_live":86400,
                         "new_field":[1,{"x":null}],"priority":"high"})");
    QTest::newRow("ack with extra") << QByteArray(
        R"({"message_type":"ack","message_id":"m","from":"T","extra":true})");
    QTest::newRow("nack") << QByteArray(R"({"message_type":"nack","message_id":"m","from":"T",
                                           "error":"SERVICE_UNAVAILABLE","error_description":"later","retry_after":5})");
    QTest::newRow("nack unknown code")
        << QByteArray(R"({"message_type":"nack","message_id":"m","error":"NEW_CODE"})");
    QTest::newRow("receipt with extras") << QByteArray(
        R"({"message_type":"receipt","message_id":"dr2:m","from":"gcm.googleapis.com","category":"c",
                         "data":{"message_status":"MESSAGE_SENT_TO_DEVICE","original_message_id":"m",
                         "device_registration_id":"T","message_sent_timestamp":"1500000000000"},"z":1})");
    QTest::newRow("control with extra") << QByteArray(
        R"({"message_type":"control","control_type":"CONNECTION_DRAINING","drain_seconds":30})");
    QTest::newRow("unknown type") << QByteArray(R"({"message_type":"future","anything":{"x":[true]}})");
    QTest::newRow("null kept") << QByteArray(R"({"message_type":"ack","message_id":"m","from":null})");
}

void TestMessages::serverMessageRoundTrip()
{
    QFETCH(QByteArray, text);
    const QJsonObject object = parse(text);
    const ServerMessage m = json::parseServerMessage(text);
    QVERIFY(!std::holds_alternative<ParseError>(m));
    QCOMPARE(serverMessageJson(m), object);
    // And once more through the wire format.
    const ServerMessage again = json::parseServerMessage(json::serialize(serverMessageJson(m)));
    QCOMPARE(again, m);
}

void TestMessages::unknownMessageTypeIsIgnoredButKept()
{
    const QByteArray text = R"({"message_type":"heartbeat","message_id":"m-9","interval":30})";
    const ServerMessage m = json::parseServerMessage(text);
    QVERIFY(std::holds_alternative<UnknownMessage>(m));
    const auto &u = std::get<UnknownMessage>(m);
    QCOMPARE(u.messageType, QStringLiteral("heartbeat"));
    QCOMPARE(u.object, parse(text));

    const ClientMessage c = json::parseClientMessage(R"({"message_type":"nack","message_id":"m"})");
    QVERIFY(std::holds_alternative<UnknownMessage>(c));
    QCOMPARE(std::get<UnknownMessage>(c).messageType, QStringLiteral("nack"));
}

void TestMessages::wrongFieldTypesNameTheField_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("message");
    QTest::newRow("message_type number")
        << QByteArray(R"({"message_type":1})") << "Field \"message_type\" must be a JSON string";
    QTest::newRow("ack id number") << QByteArray(R"({"message_type":"ack","message_id":5})")
                                   << "Field \"message_id\" must be a JSON string";
    QTest::newRow("nack error object") << QByteArray(R"({"message_type":"nack","message_id":"m","error":{}})")
                                       << "Field \"error\" must be a JSON string";
    QTest::newRow("upstream data string") << QByteArray(R"({"message_id":"m","from":"T","data":"x"})")
                                          << "Field \"data\" must be a JSON object";
    QTest::newRow("upstream ttl string") << QByteArray(R"({"message_id":"m","from":"T","time_to_live":"1"})")
                                         << "Field \"time_to_live\" must be a JSON integer";
    QTest::newRow("receipt status number")
        << QByteArray(R"({"message_type":"receipt","message_id":"dr2:m","data":{"message_status":3}})")
        << "In \"data\": Field \"message_status\" must be a JSON string";
    QTest::newRow("control type array") << QByteArray(R"({"message_type":"control","control_type":[]})")
                                        << "Field \"control_type\" must be a JSON string";
}

void TestMessages::wrongFieldTypesNameTheField()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, message);
    const ServerMessage m = json::parseServerMessage(text);
    QVERIFY(std::holds_alternative<ParseError>(m));
    QCOMPARE(std::get<ParseError>(m).message, message);
    QCOMPARE(std::get<ParseError>(m).offset, -1);
}

void TestMessages::clientMessages_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("index");
    QTest::newRow("downstream") << QByteArray(R"({"to":"T","message_id":"m"})") << 1;
    QTest::newRow("downstream, not validated") << QByteArray(R"({"to":5})") << 1;
    QTest::newRow("ack") << QByteArray(R"({"to":"T","message_id":"m","message_type":"ack"})") << 2;
    QTest::newRow("unknown") << QByteArray(R"({"message_type":"x"})") << 3;
    QTest::newRow("ack with bad id") << QByteArray(R"({"to":"T","message_id":1,"message_type":"ack"})") << 0;
    QTest::newRow("duplicate key") << QByteArray(R"({"to":"T","to":"U"})") << 0;
    QTest::newRow("not JSON") << QByteArray(R"({"to")") << 0;
    QTest::newRow("message_type not a string") << QByteArray(R"({"message_type":5,"to":"T"})") << 0;
}

void TestMessages::clientMessages()
{
    QFETCH(QByteArray, text);
    QFETCH(int, index);
    const ClientMessage m = json::parseClientMessage(text);
    QCOMPARE(int(m.index()), index);
    // With an object to fill: the same message, and the object as parsed
    // (untouched on a syntax error and on the plain-ACK fast path).
    QJsonObject object {{QStringLiteral("untouched"), true}};
    QVERIFY(json::parseClientMessage(text, &object) == m);
    QJsonObject parsed;
    ParseError error;
    if (json::parseObject(text, &parsed, &error) && !json::parsePlainAck(text))
        QCOMPARE(object, parsed);
    else
        QCOMPARE(object, QJsonObject({{QStringLiteral("untouched"), true}}));
}

void TestMessages::downstreamRoundTripOfEveryField()
{
    DownstreamMessage m;
    m.to = QStringLiteral("/topics/news");
    m.messageId = QStringLiteral("m-1");
    m.data = QJsonObject {{QStringLiteral("k"), QStringLiteral("</gcm>&\"")}, {QStringLiteral("n"), 1}};
    m.notification = QJsonObject {{QStringLiteral("title"), QStringLiteral("T")}};
    m.collapseKey = QStringLiteral("c");
    m.timeToLive = 0;
    m.delayWhileIdle = false;
    m.deliveryReceiptRequested = true;
    m.priority = QStringLiteral("high");
    m.contentAvailable = true;
    m.mutableContent = false;
    m.dryRun = true;
    m.extra = QJsonObject {{QStringLiteral("future"), QJsonArray {1, 2}}};

    const QByteArray bytes = m.toJsonBytes();
    QCOMPARE(bytes, json::serialize(m.toJson()));
    QVERIFY(!bytes.contains(' '));
    const QJsonObject object = m.toJson();
    QCOMPARE(object.size(), 13);
    QCOMPARE(object.value(QLatin1String("time_to_live")).toInteger(-1), 0);
    QCOMPARE(object.value(QLatin1String("delay_while_idle")), QJsonValue(false));

    const ClientMessage back = json::parseClientMessage(bytes);
    QVERIFY(std::holds_alternative<DownstreamMessage>(back));
    QCOMPARE(std::get<DownstreamMessage>(back), m);
    QCOMPARE(DownstreamMessage::fromJson(object), m);
}

void TestMessages::downstreamKeepsWronglyTypedFields()
{
    // Not validated here: a field of the wrong type stays in extra, so nothing is lost.
    const QJsonObject object = parse(R"({"to":"T","message_id":"m","time_to_live":"600","dry_run":"yes",
                                        "data":"text","priority":1,"time_to_live_ms":5})");
    const DownstreamMessage m = DownstreamMessage::fromJson(object);
    QVERIFY(!m.timeToLive);
    QVERIFY(!m.dryRun);
    QVERIFY(!m.data);
    QVERIFY(m.priority.isEmpty());
    QCOMPARE(m.extra.size(), 5);
    QCOMPARE(m.toJson(), object);
}

void TestMessages::downstreamDefaults()
{
    DownstreamMessage m;
    QCOMPARE(m.effectiveTimeToLive(), qint64(2419200));
    m.timeToLive = 60;
    QCOMPARE(m.effectiveTimeToLive(), qint64(60));
    // Absent optional fields are not written.
    DownstreamMessage bare;
    bare.to = QStringLiteral("T");
    bare.messageId = QStringLiteral("m");
    QCOMPARE(bare.toJsonBytes(), QByteArray(R"({"message_id":"m","to":"T"})"));
}

void TestMessages::factories()
{
    QCOMPARE(json::serialize(Ack::forUpstream(QStringLiteral("T"), QStringLiteral("m-1")).toJson()),
        QByteArray(R"({"message_id":"m-1","message_type":"ack","to":"T"})"));
    const Nack n = Nack::make(
        QStringLiteral("m-1"), QStringLiteral("T"), NackCode::DeviceUnregistered, QStringLiteral("gone"));
    QCOMPARE(json::serialize(n.toJson()),
        QByteArray(
            R"({"error":"DEVICE_UNREGISTERED","error_description":"gone","from":"T","message_id":"m-1",)"
            R"("message_type":"nack"})"));
    const Receipt r
        = Receipt::make(QStringLiteral("m-1"), QStringLiteral("T"), QStringLiteral("com.example"));
    QCOMPARE(r.messageId, QStringLiteral("dr2:m-1"));
    QCOMPARE(json::serialize(r.toJson()),
        QByteArray(R"({"category":"com.example","data":{"device_registration_id":"T","message_status":)"
                   R"("MESSAGE_SENT_TO_DEVICE","original_message_id":"m-1"},"from":"gcm.googleapis.com",)"
                   R"("message_id":"dr2:m-1","message_type":"receipt"})"));
    QCOMPARE(json::serialize(Control::connectionDraining().toJson()),
        QByteArray(R"({"control_type":"CONNECTION_DRAINING","message_type":"control"})"));
    Control other;
    other.controlType = QStringLiteral("NEW");
    QVERIFY(!other.isConnectionDraining());
    QVERIFY(Control::connectionDraining().isConnectionDraining());
}

QTEST_GUILESS_MAIN(TestMessages)
#include "tst_messages.moc"
