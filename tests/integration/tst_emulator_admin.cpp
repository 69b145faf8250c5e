// The emulator's admin API over HTTP on loopback: bearer token required,
// devices listed and added, upstream on demand, drain, drop, faults, record
// and counters, clear errors for bad input.
#include "RawCcsClient.h"
#include "TestEmulator.h"
#include "server/EmulatorAdminApi.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTest>

using namespace ccs;
using namespace ccs::test;

class TestEmulatorAdmin : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void tokenRequired_data();
    void tokenRequired();
    void onlyLoopback();
    void devices();
    void upstreamThroughApi();
    void upstreamWithExplicitFields();
    void offlineTopicsAndGroups();
    void faults();
    void drainAndDrop();
    void recordAndCounters();
    void badInput_data();
    void badInput();

private:
    struct Reply {
        int status = 0;
        QJsonDocument json;
    };
    Reply call(const QByteArray &method, const QString &path, const QByteArray &body = {},
        const QByteArray &token = QByteArray("use-real"));

    std::unique_ptr<TestEmulator> m_emu;
    std::unique_ptr<emulator::EmulatorAdminApi> m_api;
    QNetworkAccessManager m_nam;
};

void TestEmulatorAdmin::init()
{
    m_emu = std::make_unique<TestEmulator>();
    QVERIFY(m_emu->isRunning());
    m_api = std::make_unique<emulator::EmulatorAdminApi>(m_emu->server());
    QString error;
    QVERIFY2(m_api->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
    QVERIFY(m_api->port() != 0);
    QVERIFY(m_api->token().size() >= 40);
}

void TestEmulatorAdmin::cleanup()
{
    m_api.reset();
    m_emu.reset();
}

TestEmulatorAdmin::Reply TestEmulatorAdmin::call(
    const QByteArray &method, const QString &path, const QByteArray &body, const QByteArray &token)
{
    QNetworkRequest request(QUrl(m_api->baseUrl() + QStringLiteral("/api/v1") + path));
    if (token == "use-real")
        request.setRawHeader("Authorization", "Bearer " + m_api->token().toLatin1());
    else if (!token.isEmpty())
        request.setRawHeader("Authorization", token);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    std::unique_ptr<QNetworkReply> reply(m_nam.sendCustomRequest(request, method, body));
    Reply out;
    if (!QTest::qWaitFor([&] { return reply->isFinished(); }, 5000))
        return out;
    out.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    out.json = QJsonDocument::fromJson(reply->readAll());
    return out;
}

void TestEmulatorAdmin::tokenRequired_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::newRow("none") << QByteArray();
    QTest::newRow("wrong") << QByteArray("Bearer nope");
    QTest::newRow("basic") << QByteArray("Basic dXNlcjpwYXNz");
}

void TestEmulatorAdmin::tokenRequired()
{
    QFETCH(QByteArray, header);
    const Reply r = call("GET", "/devices", {}, header);
    QCOMPARE(r.status, 401);
    const Reply changed = call("POST", "/connections/drop", {}, header);
    QCOMPARE(changed.status, 401);
    QVERIFY(call("GET", "/devices").status == 200);
}

void TestEmulatorAdmin::onlyLoopback()
{
    emulator::EmulatorAdminApi api(m_emu->server());
    QString error;
    QVERIFY(!api.listen(QHostAddress::Any, 0, &error));
    QVERIFY(error.contains("loopback"));
    emulator::EmulatorAdminApi other(m_emu->server());
    QVERIFY(other.token() != m_api->token());
}

void TestEmulatorAdmin::devices()
{
    Reply r = call("GET", "/devices");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.array().size(), 6);
    QCOMPARE(r.json.array().at(3).toObject().value("kind").toString(), QStringLiteral("idle"));
    QCOMPARE(r.json.array().at(3).toObject().value("online").toBool(), false);

    r = call("POST", "/devices", R"({"token":"api-dev","name":"From the API","kind":"rate-limited",
                                     "max_messages_per_minute":1})");
    QCOMPARE(r.status, 201);
    QCOMPARE(r.json.object().value("kind").toString(), QStringLiteral("rate-limited"));
    QCOMPARE(call("POST", "/devices", R"({"token":"api-dev"})").status, 409);
    QCOMPARE(call("GET", "/devices").json.array().size(), 7);

    // The new device behaves as asked.
    RawCcsClient c;
    QVERIFY(c.loginTo(*m_emu));
    c.sendJson({{"to", "api-dev"}, {"message_id", "a1"}});
    c.sendJson({{"to", "api-dev"}, {"message_id", "a2"}});
    QVERIFY(c.waitForGcmCount(2));
    // Answers may come back out of order (the emulator's jitter): look for a2's by its id.
    QString a2Error;
    for (const auto &answer : c.gcmMessages())
        if (answer.value("message_id").toString() == QLatin1String("a2"))
            a2Error = answer.value("error").toString();
    QCOMPARE(a2Error, QStringLiteral("DEVICE_MESSAGE_RATE_EXCEEDED"));

    // Waking the idle device.
    r = call("POST", "/devices/dev-idle/online", R"({"online":true})");
    QCOMPARE(r.status, 200);
    QCOMPARE(call("GET", "/devices").json.array().at(3).toObject().value("online").toBool(), true);

    QCOMPARE(call("DELETE", "/devices/api-dev").status, 200);
    QCOMPARE(call("DELETE", "/devices/api-dev").status, 404);
}

void TestEmulatorAdmin::upstreamThroughApi()
{
    RawCcsClient c;
    QVERIFY(c.loginTo(*m_emu));
    const Reply r = call("POST", "/devices/dev-2/upstream", R"({"data":{"hello":"admin"}})");
    QCOMPARE(r.status, 201);
    const QString id = r.json.object().value("message_id").toString();
    QVERIFY(!id.isEmpty());
    QJsonObject up;
    QVERIFY(c.waitForGcm([&](const QJsonObject &o) { return o.value("message_id") == id; }, &up));
    QCOMPARE(up.value("from").toString(), QStringLiteral("dev-2"));
    QCOMPARE(up.value("data").toObject().value("hello").toString(), QStringLiteral("admin"));
    QCOMPARE(call("POST", "/devices/unknown/upstream", "{}").status, 404);
}

void TestEmulatorAdmin::faults()
{
    Reply r
        = call("PUT", "/faults", R"({"nack_share":1,"nack_code":"INTERNAL_SERVER_ERROR","ack_delay_ms":10})");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.object().value("nack_code").toString(), QStringLiteral("INTERNAL_SERVER_ERROR"));
    QCOMPARE(m_emu->server()->faults().nackShare, 1.0);
    QCOMPARE(m_emu->server()->faults().ackDelayMs, 10);
    RawCcsClient c;
    QVERIFY(c.loginTo(*m_emu));
    c.sendJson({{"to", "dev-1"}, {"message_id", "f1"}});
    QVERIFY(c.waitForGcmCount(1));
    QCOMPARE(c.gcmMessages().first().value("error").toString(), QStringLiteral("INTERNAL_SERVER_ERROR"));
    // Partial update keeps the rest.
    r = call("PUT", "/faults", R"({"nack_share":0})");
    QCOMPARE(r.json.object().value("ack_delay_ms").toInt(), 10);
    QCOMPARE(call("GET", "/faults").json.object().value("nack_share").toDouble(), 0.0);
    QCOMPARE(call("POST", "/faults/redeliver-next").status, 200);
    const QString id = m_emu->server()->sendUpstream("dev-1", {});
    QVERIFY(c.waitForGcmCount(3));
    QCOMPARE(c.gcmMessages().at(1).value("message_id").toString(), id);
    QCOMPARE(c.gcmMessages().at(2).value("message_id").toString(), id);
}

void TestEmulatorAdmin::upstreamWithExplicitFields()
{
    RawCcsClient c;
    QVERIFY(c.loginTo(*m_emu));
    Reply r = call("POST", "/devices/dev-1/upstream",
        R"({"message_id":"1","category":"org.example.qa","data":{"k":"v"},"time_to_live":60})");
    QCOMPARE(r.status, 201);
    QCOMPARE(r.json.object().value("message_id").toString(), QStringLiteral("1"));
    QCOMPARE(r.json.object().value("from").toString(), QStringLiteral("dev-1"));
    // Another device may use the same id: a different message.
    r = call("POST", "/devices/dev-2/upstream", R"({"message_id":"1"})");
    QCOMPARE(r.status, 201);
    QVERIFY(c.waitForGcmCount(2));
    const QJsonObject first = c.gcmMessages().at(0);
    QCOMPARE(first.value("category").toString(), QStringLiteral("org.example.qa"));
    QCOMPARE(first.value("time_to_live").toInt(), 60);
    QCOMPARE(c.gcmMessages().at(1).value("from").toString(), QStringLiteral("dev-2"));
    // Without an id: the device's next number.
    r = call("POST", "/devices/dev-1/upstream", R"({"data":{}})");
    QCOMPARE(r.json.object().value("message_id").toString(), QStringLiteral("2"));
    for (const QByteArray &bad : {QByteArray(R"({"message_id":""})"), QByteArray(R"({"message_id":7})"),
             QByteArray(R"({"time_to_live":-1})"), QByteArray(R"({"time_to_live":1.5})"),
             QByteArray(R"({"category":["x"]})"), QByteArray(R"({"sender_id":"000000000000"})")}) {
        r = call("POST", "/devices/dev-1/upstream", bad);
        QVERIFY2(r.status == 400, bad.constData());
        QVERIFY(!r.json.object().value("error").toString().isEmpty());
    }
}

void TestEmulatorAdmin::offlineTopicsAndGroups()
{
    QCOMPARE(call("POST", "/devices/dev-1/online", R"({"online":false})").status, 200);
    QJsonArray devices = call("GET", "/devices").json.array();
    for (const QJsonValue &d : devices) {
        if (d.toObject().value("token") == QLatin1String("dev-1")) {
            QCOMPARE(d.toObject().value("online").toBool(), false);
            QCOMPARE(
                d.toObject().value("sender_id").toString(), QString::fromLatin1(TestEmulator::kSenderId));
        }
    }
    Reply r = call("POST", "/devices/dev-2/topics", R"({"topic":"news"})");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.object().value("topics").toArray().first().toString(), QStringLiteral("news"));
    QCOMPARE(call("POST", "/devices/dev-2/topics", R"({"topic":"no spaces"})").status, 400);
    r = call("POST", "/groups", R"({"notification_key_name":"fam","registration_ids":["dev-2","dev-3"]})");
    QCOMPARE(r.status, 201);
    const QString key = r.json.object().value("notification_key").toString();
    QVERIFY(key.startsWith(QLatin1String("APA91b")));
    QCOMPARE(call("POST", "/groups", R"({"notification_key_name":"x","registration_ids":["nobody"]})").status,
        400);
    QCOMPARE(call("GET", "/groups").json.array().size(), 1);

    RawCcsClient c;
    QVERIFY(c.loginTo(*m_emu));
    c.sendJson({{"to", "/topics/news"}, {"message_id", "api-t"}});
    c.sendJson({{"to", key}, {"message_id", "api-g"}});
    c.sendJson({{"to", "dev-1"}, {"message_id", "api-held"}});
    QVERIFY(c.waitForGcmCount(3));
    const QJsonObject record = call("GET", "/record").json.object();
    QHash<QString, QString> delivery;
    for (const QJsonValue &d : record.value("downstream").toArray())
        delivery.insert(
            d.toObject().value("message_id").toString(), d.toObject().value("delivery").toString());
    QCOMPARE(delivery.value("api-t"), QStringLiteral("fanout:1"));
    QCOMPARE(delivery.value("api-g"), QStringLiteral("fanout:2"));
    QCOMPARE(delivery.value("api-held"), QStringLiteral("held"));

    QCOMPARE(call("DELETE", "/devices/dev-2/topics/news").status, 200);
    QCOMPARE(call("POST", "/groups/" + key, R"({"remove":["dev-3"]})").status, 200);
    QCOMPARE(call("DELETE", "/groups/" + key).status, 200);
    QCOMPARE(call("DELETE", "/groups/" + key).status, 404);
    QVERIFY(!call("GET", "/status").json.object().value("seed").toString().isEmpty());
}

void TestEmulatorAdmin::drainAndDrop()
{
    RawCcsClient a;
    QVERIFY(a.loginTo(*m_emu));
    RawCcsClient b;
    QVERIFY(b.loginTo(*m_emu));
    Reply r = call("GET", "/connections");
    QCOMPARE(r.json.array().size(), 2);
    const int idA = r.json.array().at(0).toObject().value("id").toInt();
    QCOMPARE(
        call("POST", "/connections/drain", QByteArray("{\"id\":") + QByteArray::number(idA) + "}").status,
        200);
    QVERIFY(a.waitForGcm([](const QJsonObject &o) { return o.value("message_type") == "control"; }));
    QVERIFY(a.waitForDisconnected());
    QVERIFY(b.isConnected());
    QCOMPARE(call("POST", "/connections/drop", "{}").status, 200);
    QVERIFY(b.waitForDisconnected());
    QCOMPARE(m_emu->server()->counters().connectionsDropped, 1);
}

void TestEmulatorAdmin::recordAndCounters()
{
    RawCcsClient c;
    QVERIFY(c.loginTo(*m_emu));
    c.sendJson({{"to", "dev-1"}, {"message_id", "rec-1"}});
    c.sendJson({{"to", "nobody"}, {"message_id", "rec-2"}});
    QVERIFY(c.waitForGcmCount(2));
    Reply r = call("GET", "/record");
    QCOMPARE(r.status, 200);
    const QJsonArray down = r.json.object().value("downstream").toArray();
    QCOMPARE(down.size(), 2);
    QCOMPARE(down.at(0).toObject().value("verdict").toString(), QStringLiteral("ack"));
    QCOMPARE(down.at(1).toObject().value("verdict").toString(), QStringLiteral("nack:BAD_REGISTRATION"));
    QCOMPARE(down.at(0).toObject().value("times_received").toInt(), 1);
    r = call("GET", "/counters");
    QCOMPARE(r.json.object().value("downstream_received").toInt(), 2);
    QCOMPARE(r.json.object().value("acks_sent").toInt(), 1);
    QCOMPARE(r.json.object().value("nacks_sent").toInt(), 1);
    r = call("GET", "/status");
    QCOMPARE(r.json.object().value("port").toInt(), int(m_emu->port()));
    QCOMPARE(r.json.object().value("senders").toArray().first().toString(),
        QString::fromLatin1(TestEmulator::kSenderId));
    QVERIFY(!QJsonDocument(r.json).toJson().contains(TestEmulator::kApiKey)); // never the key
    QCOMPARE(call("DELETE", "/record").status, 200);
    QCOMPARE(call("GET", "/record").json.object().value("downstream").toArray().size(), 0);
}

void TestEmulatorAdmin::badInput_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::newRow("not json") << QByteArray("POST") << "/devices" << QByteArray("{token") << 400;
    QTest::newRow("no token") << QByteArray("POST") << "/devices" << QByteArray(R"({"name":"x"})") << 400;
    QTest::newRow("bad kind") << QByteArray("POST") << "/devices"
                              << QByteArray(R"({"token":"t","kind":"zombie"})") << 400;
    QTest::newRow("share > 1") << QByteArray("PUT") << "/faults" << QByteArray(R"({"nack_share":2})") << 400;
    QTest::newRow("bad nack code") << QByteArray("PUT") << "/faults"
                                   << QByteArray(R"({"nack_code":"BAD_ACK"})") << 400;
    QTest::newRow("data not object") << QByteArray("POST") << "/devices/dev-1/upstream"
                                     << QByteArray(R"({"data":[1]})") << 400;
    QTest::newRow("online not bool") << QByteArray("POST") << "/devices/dev-1/online"
                                     << QByteArray(R"({"online":"yes"})") << 400;
    QTest::newRow("unknown path") << QByteArray("GET") << "/nothing" << QByteArray() << 404;
    QTest::newRow("wrong method") << QByteArray("DELETE") << "/counters" << QByteArray() << 405;
}

void TestEmulatorAdmin::badInput()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    const auto faultsBefore = m_emu->server()->faults().nackShare;
    const Reply r = call(method, path, body);
    QCOMPARE(r.status, status);
    QVERIFY(!r.json.object().value("error").toString().isEmpty());
    QCOMPARE(m_emu->server()->faults().nackShare, faultsBefore); // nothing half-applied
    QCOMPARE(m_emu->server()->devices().size(), 6);
}

QTEST_GUILESS_MAIN(TestEmulatorAdmin)
#include "tst_emulator_admin.moc"
