// The emulator against a hostile client (RawCcsClient, a bare TLS socket):
// malformed XML, invalid UTF-8, oversize and endless stanzas, deep nesting,
// entities, bad JSON, wrong types, out-of-order XMPP, abrupt closes. Each
// case must end with a stream error naming the fault, or a NACK / stanza
// error, or be ignored with the stream still working; and afterwards the
// emulator must still serve a well-behaved client.

#include "RawCcsClient.h"
#include "TestEmulator.h"
#include "server/conformance/ConformanceGrader.h"
#include "server/conformance/ConformanceReport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace ccs;
using namespace ccs::test;

namespace {

enum Stage { AfterTls, AfterStreamOpen, AfterLogin };

QByteArray gcm(const QByteArray &json, const QByteArray &id = "x1")
{
    return "<message id='" + id + "'><gcm xmlns='google:mobile:data'>" + json + "</gcm></message>";
}

QByteArray repeat(const QByteArray &unit, int times)
{
    QByteArray out;
    out.reserve(unit.size() * times);
    for (int i = 0; i < times; ++i)
        out += unit;
    return out;
}

QByteArray good(const QString &id)
{
    return gcm(
        R"({"to":"dev-1","message_id":")" + id.toUtf8() + R"(","data":{"k":"v"}})", "g-" + id.toUtf8());
}

} // namespace

class TestHostileEmulator : public QObject
{
    Q_OBJECT

private:
    void runHostile(bool graded);

private Q_SLOTS:
    void hostileClient_data();
    void hostileClient();
    void hostileClientGraded_data() { hostileClient_data(); }
    // The same catalogue with the conformance grader attached (ccs-emulator
    // --conformance): graded, not crashed into, and the reports still written.
    void hostileClientGraded();
    void authFloodIsCut();
    void manyHalfOpenConnections();
};

void TestHostileEmulator::hostileClient_data()
{
    QTest::addColumn<int>("stage");
    QTest::addColumn<QByteArray>("bytes");
    // Exactly one outcome per case, the one the emulator must give: "stream:CONDITION" a stream
    // error with that condition; "answer:CODE" a NACK with that error code, or "answer:stanza-error";
    // "failure" a SASL failure; "ignored": the stream keeps working; "closed": the emulator closes.
    QTest::addColumn<QString>("expect");

    const QString wellFormed = QStringLiteral("stream:not-well-formed");
    // Before the stream
    QTest::newRow("pre-garbage") << int(AfterTls) << QByteArray("\x16\x03\x01garbage<<>>")
                                 << QStringLiteral("stream:not-well-formed");
    QTest::newRow("pre-http") << int(AfterTls) << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                              << QStringLiteral("stream:not-well-formed");
    QTest::newRow("pre-wrong-namespace")
        << int(AfterTls) << QByteArray("<stream:stream xmlns:stream='urn:evil' xmlns='jabber:client'>")
        << QStringLiteral("stream:invalid-namespace");
    QTest::newRow("pre-not-a-stream")
        << int(AfterTls) << QByteArray("<message/>") << QStringLiteral("stream:invalid-namespace");
    QTest::newRow("pre-doctype")
        << int(AfterTls)
        << QByteArray("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><stream:stream "
                      "xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'>")
        << QStringLiteral("stream:restricted-xml");
    QTest::newRow("pre-huge-header") << int(AfterTls)
                                     << "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' a='"
            + QByteArray(2 << 20, 'a')
                                     << QStringLiteral("stream:policy-violation");
    // Before authentication
    QTest::newRow("unauth-message") << int(AfterStreamOpen) << good(QStringLiteral("u1"))
                                    << QStringLiteral("stream:not-authorized");
    QTest::newRow("unauth-bind")
        << int(AfterStreamOpen)
        << QByteArray("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        << QStringLiteral("stream:not-authorized");
    QTest::newRow("unauth-auth-not-base64")
        << int(AfterStreamOpen)
        << QByteArray("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!!!</auth>")
        << QStringLiteral("failure");
    QTest::newRow("unauth-auth-unknown-mechanism")
        << int(AfterStreamOpen)
        << QByteArray("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EVIL'>AA==</auth>")
        << QStringLiteral("failure");
    QTest::newRow("unauth-auth-huge") << int(AfterStreamOpen)
                                      << "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
            + QByteArray(2 << 20, 'A') + "</auth>"
                                      << QStringLiteral("stream:policy-violation");
    // Malformed XML
    QTest::newRow("xml-garbage") << int(AfterLogin) << QByteArray("<<<>>> &&& </>") << wellFormed;
    QTest::newRow("xml-mismatched-tags")
        << int(AfterLogin) << QByteArray("<message><gcm xmlns='google:mobile:data'>{}</gcmx></message>")
        << wellFormed;
    QTest::newRow("xml-duplicate-attribute")
        << int(AfterLogin) << QByteArray("<message id='a' id='b'/>") << wellFormed;
    QTest::newRow("xml-undeclared-prefix")
        << int(AfterLogin) << QByteArray("<foo:message id='a'/>") << wellFormed;
    QTest::newRow("xml-invalid-char-ref") << int(AfterLogin) << gcm("{\"a\":\"&#0;\"}") << wellFormed;
    QTest::newRow("xml-control-char") << int(AfterLogin) << gcm("{\"a\":\"\x01\"}") << wellFormed;
    QTest::newRow("utf8-invalid") << int(AfterLogin)
                                  << gcm("{\"to\":\"dev-1\",\"message_id\":\"\xff\xfe\",\"data\":{}}")
                                  << QStringLiteral("stream:not-well-formed");
    QTest::newRow("utf8-overlong") << int(AfterLogin)
                                   << gcm("{\"to\":\"dev-1\",\"message_id\":\"\xc0\xaf\",\"data\":{}}")
                                   << QStringLiteral("stream:not-well-formed");
    // Size and nesting
    QTest::newRow("oversize-stanza") << int(AfterLogin)
                                     << gcm("{\"to\":\"dev-1\",\"message_id\":\"big\",\"data\":{\"k\":\""
                                            + QByteArray(2 << 20, 'x') + "\"}}")
                                     << QStringLiteral("stream:policy-violation");
    QTest::newRow("endless-stanza") << int(AfterLogin)
                                    << "<message><gcm xmlns='google:mobile:data'>" + QByteArray(3 << 20, 'x')
                                    << QStringLiteral("stream:policy-violation");
    QTest::newRow("endless-start-tag") << int(AfterLogin) << "<message a='" + QByteArray(3 << 20, 'x')
                                       << QStringLiteral("stream:policy-violation");
    QTest::newRow("deep-nesting") << int(AfterLogin)
                                  << "<message>" + repeat("<a>", 100) + repeat("</a>", 100) + "</message>"
                                  << QStringLiteral("stream:policy-violation");
    QTest::newRow("deep-nesting-unclosed")
        << int(AfterLogin) << repeat("<a>", 100000) << QStringLiteral("stream:policy-violation");
    QTest::newRow("many-attributes") << int(AfterLogin) << "<presence " + [] {
        QByteArray a;
        for (int i = 0; i < 5000; ++i)
            a += "a" + QByteArray::number(i) + "='x' ";
        return a;
    }() + "/>" << QStringLiteral("ignored");
    // Entities
    QTest::newRow("entity-doctype") << int(AfterLogin)
                                    << QByteArray("<!DOCTYPE lol [<!ENTITY lol 'lol'>]>") + gcm("&lol;")
                                    << QStringLiteral("stream:restricted-xml");
    QTest::newRow("entity-undefined")
        << int(AfterLogin) << gcm("{\"a\":\"&foo;\"}") << QStringLiteral("stream:not-well-formed");
    QTest::newRow("entity-char-refs")
        << int(AfterLogin)
        << gcm("{\"to\":\"dev-1\",\"message_id\":\"cr\",\"data\":{\"k\":\"" + repeat("&#65;", 1000) + "\"}}")
        << QStringLiteral("ignored");
    // JSON and CCS fields
    QTest::newRow("json-array") << int(AfterLogin) << gcm("[1,2,3]") << QStringLiteral("answer:stanza-error");
    QTest::newRow("json-truncated") << int(AfterLogin) << gcm("{\"to\":")
                                    << QStringLiteral("answer:stanza-error");
    QTest::newRow("json-empty") << int(AfterLogin) << gcm("") << QStringLiteral("answer:stanza-error");
    QTest::newRow("json-deep") << int(AfterLogin) << gcm(repeat("[", 50000) + repeat("]", 50000))
                               << QStringLiteral("answer:stanza-error");
    QTest::newRow("type-to-number") << int(AfterLogin) << gcm("{\"to\":5,\"message_id\":\"t1\",\"data\":{}}")
                                    << QStringLiteral("answer:INVALID_JSON");
    QTest::newRow("type-data-string")
        << int(AfterLogin) << gcm("{\"to\":\"dev-1\",\"message_id\":\"t2\",\"data\":\"x\"}")
        << QStringLiteral("answer:INVALID_JSON");
    QTest::newRow("type-ttl-string") << int(AfterLogin)
                                     << gcm("{\"to\":\"dev-1\",\"message_id\":\"t3\",\"time_to_live\":\"1\"}")
                                     << QStringLiteral("answer:INVALID_JSON");
    QTest::newRow("missing-message_id")
        << int(AfterLogin) << gcm("{\"to\":\"dev-1\",\"data\":{}}") << QStringLiteral("answer:stanza-error");
    QTest::newRow("unknown-message_type")
        << int(AfterLogin) << gcm("{\"message_type\":\"bogus\",\"message_id\":\"t4\"}")
        << QStringLiteral("ignored");
    QTest::newRow("ack-unknown-id") << int(
        AfterLogin) << gcm("{\"message_type\":\"ack\",\"message_id\":\"never\",\"to\":\"dev-1\"}")
                                    << QStringLiteral("answer:BAD_ACK");
    QTest::newRow("nack-from-client")
        << int(AfterLogin)
        << gcm("{\"message_type\":\"nack\",\"message_id\":\"never\",\"error\":\"BAD_ACK\"}")
        << QStringLiteral("ignored");
    QTest::newRow("message-without-gcm")
        << int(AfterLogin) << QByteArray("<message id='n'><body>hi</body></message>")
        << QStringLiteral("ignored");
    // XMPP out of order
    QTest::newRow("bind-again")
        << int(AfterLogin)
        << QByteArray("<iq type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        << QStringLiteral("answer:stanza-error");
    QTest::newRow("auth-again")
        << int(AfterLogin)
        << QByteArray("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AA==</auth>")
        << QStringLiteral("stream:unsupported-stanza-type");
    QTest::newRow("unknown-top-level") << int(AfterLogin) << QByteArray("<frobnicate xmlns='jabber:client'/>")
                                       << QStringLiteral("stream:unsupported-stanza-type");
    QTest::newRow("second-stream-header")
        << int(AfterLogin)
        << QByteArray("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        << QStringLiteral("stream:unsupported-stanza-type");
    QTest::newRow("close-mid-stanza")
        << int(AfterLogin) << QByteArray("<message id='m'><gcm xmlns='google:mobile:data'>{\"to\":")
        << QStringLiteral("closed");
    QTest::newRow("stream-end") << int(AfterLogin) << QByteArray("</stream:stream>")
                                << QStringLiteral("closed");
}

void TestHostileEmulator::hostileClient()
{
    runHostile(false);
}

void TestHostileEmulator::hostileClientGraded()
{
    runHostile(true);
}

void TestHostileEmulator::runHostile(bool graded)
{
    QFETCH(int, stage);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expect);

    TestEmulator emu;
    QVERIFY2(emu.isRunning(), qPrintable(emu.error()));
    std::unique_ptr<emulator::ConformanceGrader> grader;
    if (graded) {
        grader = std::make_unique<emulator::ConformanceGrader>(emu.server());
        emu.server()->setObserver(grader.get());
    }
    const auto detach = qScopeGuard([&] { emu.server()->setObserver(nullptr); });
    {
        RawCcsClient client;
        client.setPinnedCertificate(emu.certificate());
        QString error;
        if (stage == AfterLogin) {
            QVERIFY2(client.loginTo(emu, &error), qPrintable(error));
        } else {
            QVERIFY(client.connectTls(QStringLiteral("127.0.0.1"), emu.port()));
            if (stage == AfterStreamOpen)
                QVERIFY(client.openStream());
        }
        const int before = client.received().size();
        client.sendRaw(bytes);
        if (QByteArray(QTest::currentDataTag()) == "close-mid-stanza") {
            QVERIFY(client.socket()->waitForBytesWritten(2000));
            client.abort();
        }

        // What happened: a stream error, an answer, a SASL failure, a close, or nothing.
        const auto answered = [&] {
            for (int i = before; i < client.received().size(); ++i) {
                const RawCcsClient::Stanza &s = client.received().at(i);
                if (s.type == QLatin1String("error")
                    || s.json.value(QLatin1String("message_type")) == QLatin1String("nack")
                    || s.name == QLatin1String("failure"))
                    return true;
            }
            return false;
        };
        // A generous ceiling where an answer is expected (it returns as soon as one comes); a
        // short one where none is, after which a probe must still be ACKed (so an answer that
        // came late would fail the case, not pass it).
        const bool quiet = expect == QLatin1String("ignored");
        (void)client.waitFor(
            [&] { return !client.streamError().isEmpty() || !client.isConnected() || answered(); },
            quiet ? 3000 : 30000);
        QString outcome;
        if (!client.streamError().isEmpty()) {
            outcome = QStringLiteral("stream:") + client.streamError();
        } else if (answered()) {
            for (int i = before; i < client.received().size(); ++i) {
                const RawCcsClient::Stanza &s = client.received().at(i);
                if (s.name == QLatin1String("failure"))
                    outcome = QStringLiteral("failure");
                else if (s.type == QLatin1String("error"))
                    outcome = QStringLiteral("answer:stanza-error");
                else if (s.json.value(QLatin1String("message_type")) == QLatin1String("nack"))
                    outcome = QStringLiteral("answer:") + s.json.value(QLatin1String("error")).toString();
            }
        } else if (!client.isConnected()) {
            outcome = QStringLiteral("closed");
        } else {
            // Still open: the stream must still work.
            client.sendRaw(good(QStringLiteral("after")));
            const bool acked = client.waitForGcm([](const QJsonObject &o) {
                return o.value(QLatin1String("message_id")) == QLatin1String("after")
                    && o.value(QLatin1String("message_type")) == QLatin1String("ack");
            });
            outcome = acked ? QStringLiteral("ignored") : QStringLiteral("stuck");
        }
        qInfo() << "outcome:" << outcome << client.streamErrorText().left(120);
        QCOMPARE(outcome, expect);
        if (outcome.startsWith(QLatin1String("stream:")))
            QVERIFY(client.waitForDisconnected(5000));
    }
    // Whatever that client did, the emulator serves the next one.
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->openConnections(), 0, 5000);
    RawCcsClient next;
    QString error;
    QVERIFY2(next.loginTo(emu, &error), qPrintable(error));
    next.sendRaw(good(QStringLiteral("next")));
    QVERIFY(next.waitForGcm([](const QJsonObject &o) {
        return o.value(QLatin1String("message_id")) == QLatin1String("next")
            && o.value(QLatin1String("message_type")) == QLatin1String("ack");
    }));
    QVERIFY(emu.isRunning());
    if (!grader)
        return;
    grader->finish();
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString jsonPath = dir.filePath(QStringLiteral("report.json"));
    const QString junitPath = dir.filePath(QStringLiteral("report.xml"));
    QVERIFY2(
        emulator::conformance::writeReport(jsonPath, emulator::conformance::jsonReport(*grader, 1.0), &error),
        qPrintable(error));
    QVERIFY2(emulator::conformance::writeReport(
                 junitPath, emulator::conformance::junitReport(*grader, 1.0), &error),
        qPrintable(error));
    QFile json(jsonPath);
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(json.readAll()).object();
    QCOMPARE(report.value(QLatin1String("rules")).toArray().size(), 11);
    QVERIFY(report.value(QLatin1String("passed")).isBool());
    QFile junit(junitPath);
    QVERIFY(junit.open(QIODevice::ReadOnly));
    QCOMPARE(junit.readAll().count("<testcase "), 11);
    QVERIFY(!emulator::conformance::textReport(*grader).contains(QLatin1String(TestEmulator::kApiKey)));
}

void TestHostileEmulator::authFloodIsCut()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient client;
    client.setPinnedCertificate(emu.certificate());
    QVERIFY(client.connectTls(QStringLiteral("127.0.0.1"), emu.port()));
    QVERIFY(client.openStream());
    const QByteArray wrong = QByteArray("\0"
                                        "123456789012@gcm.googleapis.com\0"
                                        "wrong",
        38)
                                 .toBase64();
    for (int i = 0; i < 50; ++i)
        client.sendRaw(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + wrong + "</auth>");
    QVERIFY(client.waitForDisconnected(5000));
    QVERIFY(emu.server()->counters().authFailures <= 3);
    QVERIFY(emu.server()->counters().authFailures >= 1);
}

void TestHostileEmulator::manyHalfOpenConnections()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    // 50 clients that finish TLS and then say nothing, or half a stream header.
    std::vector<std::unique_ptr<RawCcsClient>> idle;
    for (int i = 0; i < 50; ++i) {
        auto c = std::make_unique<RawCcsClient>();
        c->setPinnedCertificate(emu.certificate());
        QVERIFY(c->connectTls(QStringLiteral("127.0.0.1"), emu.port()));
        if (i % 2)
            c->sendRaw("<stream:stream xmlns:stream='http://etherx.jabber.org/str");
        idle.push_back(std::move(c));
    }
    RawCcsClient good;
    QString error;
    QVERIFY2(good.loginTo(emu, &error), qPrintable(error));
    good.sendRaw(::good(QStringLiteral("busy")));
    QVERIFY(good.waitForGcm(
        [](const QJsonObject &o) { return o.value(QLatin1String("message_id")) == QLatin1String("busy"); }));
    idle.clear();
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->openConnections(), 1, 5000);
}

QTEST_GUILESS_MAIN(TestHostileEmulator)
#include "tst_hostile_emulator.moc"
