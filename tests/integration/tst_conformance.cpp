// ccs-emulator --conformance grades the app server that connects to it.
// (a) ccsctl, the product's own client, against the real ccs-emulator binary:
//     every exercised rule PASS, the reports written, exit code 0.
// (b) a deliberately broken client per rule, on a bare TLS socket
//     (RawCcsClient): each FAILs its rule and no other.

#include "RawCcsClient.h"
#include "TestEmulator.h"
#include "server/conformance/ConformanceGrader.h"
#include "server/conformance/ConformanceReport.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace ccs;
using namespace ccs::emulator;
using namespace ccs::test;

namespace {

QString programPath(const char *configured, const QString &fallback)
{
    const QString path = QString::fromLocal8Bit(configured);
    if (!path.isEmpty() && QFileInfo::exists(path))
        return path;
    return QDir(QCoreApplication::applicationDirPath()).absoluteFilePath(fallback);
}

QString ccsctlPath()
{
#ifdef CCSCTL_PATH
    return programPath(CCSCTL_PATH, QStringLiteral("../../app/ccsctl"));
#else
    return programPath("", QStringLiteral("../../app/ccsctl"));
#endif
}

QString emulatorPath()
{
#ifdef CCS_EMULATOR_PATH
    return programPath(CCS_EMULATOR_PATH, QStringLiteral("../../app/ccs-emulator"));
#else
    return programPath("", QStringLiteral("../../app/ccs-emulator"));
#endif
}

// Everything but the scenario's faults off: each broken-client case turns on
// only what it needs, so that a FAIL can only come from the rule under test.
ConformanceScenario quietScenario()
{
    ConformanceScenario s;
    s.drainAt = 0;
    s.dropAt = 0;
    s.retryableEvery = 0;
    s.badRegistrationAt = 0;
    s.unregisterAt = 0;
    s.upstreamEvery = 0;
    s.resendTimeoutMs = 2000;
    s.retryDeadlineMs = 3000;
    return s;
}

QByteArray message(const QString &id, const QString &to = QStringLiteral("dev-1"), bool receipt = false)
{
    QJsonObject o {{QStringLiteral("to"), to}, {QStringLiteral("message_id"), id},
        {QStringLiteral("data"), QJsonObject {{QStringLiteral("k"), QStringLiteral("v")}}}};
    if (receipt)
        o.insert(QStringLiteral("delivery_receipt_requested"), true);
    const QByteArray json = QJsonDocument(o).toJson(QJsonDocument::Compact);
    return "<message id='s-" + id.toUtf8() + "'><gcm xmlns='google:mobile:data'>" + json + "</gcm></message>";
}

bool isUpstreamOrReceipt(const QJsonObject &o)
{
    const QString type = o.value(QLatin1String("message_type")).toString();
    return (type.isEmpty() && o.contains(QLatin1String("from"))) || type == QLatin1String("receipt");
}

bool answerFor(const QJsonObject &o, const QString &id, const QString &type, const QString &error = {})
{
    return o.value(QLatin1String("message_id")).toString() == id
        && o.value(QLatin1String("message_type")).toString() == type
        && (error.isEmpty() || o.value(QLatin1String("error")).toString() == error);
}

// A client that ACKs every upstream message and receipt on its own connection
// (unless told not to): the part each broken client gets right.
class AutoAckClient : public RawCcsClient
{
public:
    bool ackUpstream = true;
    AutoAckClient()
    {
        connect(this, &RawCcsClient::stanzaReceived, this, [this](const RawCcsClient::Stanza &s) {
            if (!ackUpstream || !isUpstreamOrReceipt(s.json))
                return;
            ack(s.json.value(QLatin1String("from")).toString(),
                s.json.value(QLatin1String("message_id")).toString());
        });
    }
};

} // namespace

class TestConformance : public QObject
{
    Q_OBJECT

private:
    struct Graded {
        std::unique_ptr<TestEmulator> emu;
        std::unique_ptr<ConformanceGrader> grader;
        ~Graded()
        {
            if (emu)
                emu->server()->setObserver(nullptr);
        }
    };

    static void start(
        Graded &g, const ConformanceScenario &scenario, EmulatorConfig config = TestEmulator::defaultConfig())
    {
        g.emu = std::make_unique<TestEmulator>(config);
        QVERIFY2(g.emu->isRunning(), qPrintable(g.emu->error()));
        g.grader = std::make_unique<ConformanceGrader>(g.emu->server(), scenario);
        g.emu->server()->setObserver(g.grader.get());
    }

    // The rule failed, every other did not.
    static void verifyOnlyFails(ConformanceGrader &grader, const QString &rule)
    {
        grader.finish();
        const QString report = conformance::textReport(grader);
        bool found = false;
        for (const ConformanceGrader::RuleResult &r : grader.results()) {
            if (r.id == rule) {
                found = true;
                QVERIFY2(r.status == ConformanceGrader::Status::Fail, qPrintable(report));
                QVERIFY(!r.evidence.isEmpty());
                QVERIFY(r.explanation.contains(QLatin1String("CCS would"))
                    || r.explanation.contains(QLatin1String("CCS "))
                    || r.explanation.contains(QLatin1String("With CCS")));
            } else {
                QVERIFY2(r.status != ConformanceGrader::Status::Fail,
                    qPrintable(r.id + QLatin1Char('\n') + report));
            }
        }
        QVERIFY(found);
        QVERIFY(!grader.passed());
    }

    static ConformanceGrader::Status statusOf(const ConformanceGrader &grader, const QString &rule)
    {
        for (const ConformanceGrader::RuleResult &r : grader.results()) {
            if (r.id == rule)
                return r.status;
        }
        return ConformanceGrader::Status::NotExercised;
    }

private Q_SLOTS:
    void ccsctlPassesEveryExercisedRule();
    void ignoresTheWindow();
    void acksReceiptsWithoutDr2();
    void keepsSendingOnADrainingConnection();
    void stopsReadingADrainingConnection();
    void dropsPendingMessagesOnReconnect();
    void retriesAFinalNack();
    void nacksABadRegistrationLostWithItsConnectionAgain();
    void neverRetriesARetryableNack();
    void retriesAtOnce();
    void acksUpstreamOnAnotherConnection();
    // The rules the brief's list leaves out get a broken client too.
    void neverReconnects();
    void loopsOnAuthenticationFailure();
    void reusesAMessageId();
    void sendsInvalidMessages();
    void usesAnUnregisteredTokenAgain();
    void usageErrorsExitTwo();
    void speaksInClear();
};

// (a) ccs-emulator --conformance --until-settled with ccsctl sending 1000
// messages with receipts: every rule settles, none fails, both reports written.
void TestConformance::ccsctlPassesEveryExercisedRule()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString jsonPath = dir.filePath(QStringLiteral("report.json"));
    const QString junitPath = dir.filePath(QStringLiteral("report.xml"));
    QProcess emulator;
    emulator.setProcessChannelMode(QProcess::SeparateChannels);
    emulator.start(emulatorPath(),
        {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--json"),
            QStringLiteral("--no-admin"), QStringLiteral("--data-dir"), dir.filePath(QStringLiteral("emu")),
            QStringLiteral("--seed"), QStringLiteral("12"), QStringLiteral("--conformance"),
            QStringLiteral("--until-settled"), QStringLiteral("--duration"), QStringLiteral("150"),
            QStringLiteral("--report-json"), jsonPath, QStringLiteral("--report-junit"), junitPath});
    QVERIFY2(emulator.waitForStarted(10000), qPrintable(emulatorPath()));
    QDeadlineTimer startDeadline(30000);
    while (!emulator.canReadLine() && !startDeadline.hasExpired())
        emulator.waitForReadyRead(200);
    const QJsonObject info = QJsonDocument::fromJson(emulator.readLine()).object();
    QVERIFY2(info.contains(QLatin1String("port")), qPrintable(emulator.readAllStandardError()));
    QFile keyFile(info.value(QLatin1String("api_key_file")).toString());
    QVERIFY(keyFile.open(QIODevice::ReadOnly));
    const QString apiKey = QString::fromUtf8(keyFile.readLine()).trimmed();

    QProcess ctl;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CCS_API_KEY"), apiKey);
    env.insert(QStringLiteral("CCS_SECRET_STORE"), QStringLiteral("memory"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.filePath(QStringLiteral("config")));
    ctl.setProcessEnvironment(env);
    ctl.start(ccsctlPath(),
        {QStringLiteral("send"), QStringLiteral("--host"), QStringLiteral("127.0.0.1"),
            QStringLiteral("--port"), QString::number(info.value(QLatin1String("port")).toInt()),
            QStringLiteral("--sender-id"), info.value(QLatin1String("sender_id")).toString(),
            QStringLiteral("--ca-cert"), info.value(QLatin1String("certificate")).toString(),
            QStringLiteral("--to"), QStringLiteral("emu-pixel-7-registered"), QStringLiteral("--data"),
            QStringLiteral(R"({"n":"1"})"), QStringLiteral("--receipt"), QStringLiteral("--wait-receipts"),
            QStringLiteral("5"), QStringLiteral("--count"), QStringLiteral("1000"),
            QStringLiteral("--timeout"), QStringLiteral("120")});
    QVERIFY2(ctl.waitForStarted(10000), qPrintable(ccsctlPath()));
    QVERIFY(ctl.waitForFinished(150000));
    // Some messages end NACKed by the scenario (BAD_REGISTRATION,
    // DEVICE_UNREGISTERED): ccsctl reports that with exit code 1.
    QCOMPARE(ctl.exitStatus(), QProcess::NormalExit);

    QVERIFY(emulator.waitForFinished(150000));
    const QByteArray out = emulator.readAllStandardOutput();
    const QByteArray err = emulator.readAllStandardError();
    qInfo().noquote() << out;
    QCOMPARE(emulator.exitStatus(), QProcess::NormalExit);
    QVERIFY2(emulator.exitCode() == 0, out.constData());
    QVERIFY(!out.contains(apiKey.toUtf8()));
    QVERIFY(!err.contains(apiKey.toUtf8()));
    QVERIFY(out.contains("[conformance] PASS drain"));

    QFile json(jsonPath);
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QByteArray jsonBytes = json.readAll();
    QVERIFY(!jsonBytes.contains(apiKey.toUtf8()));
    const QJsonObject report = QJsonDocument::fromJson(jsonBytes).object();
    QCOMPARE(report.value(QLatin1String("passed")).toBool(), true);
    const QJsonArray rules = report.value(QLatin1String("rules")).toArray();
    QCOMPARE(rules.size(), 11);
    QStringList passed;
    for (const QJsonValue &v : rules) {
        const QJsonObject r = v.toObject();
        QVERIFY2(r.value(QLatin1String("status")).toString() != QLatin1String("fail"),
            qPrintable(QJsonDocument(r).toJson()));
        if (r.value(QLatin1String("status")).toString() == QLatin1String("pass"))
            passed.append(r.value(QLatin1String("id")).toString());
    }
    // What the scenario exercises with this traffic.
    for (const char *id : {"tls-plain", "window", "ack-upstream", "ack-receipt", "drain", "resend", "retry",
             "final-nack", "reconnect", "valid-json", "unique-ids"})
        QVERIFY2(passed.contains(QString::fromLatin1(id)), id);
    QVERIFY(report.value(QLatin1String("traffic")).toObject().value(QLatin1String("drops")).toInt() >= 1);

    QFile junit(junitPath);
    QVERIFY(junit.open(QIODevice::ReadOnly));
    const QByteArray junitBytes = junit.readAll();
    QCOMPARE(junitBytes.count("<testcase "), 11);
    QVERIFY(junitBytes.contains("failures=\"0\""));
}

// (b) One broken client per rule.

void TestConformance::ignoresTheWindow()
{
    EmulatorConfig config = TestEmulator::defaultConfig();
    config.faults.ackDelayMs = 300; // answers take a while: a client that does not wait piles up
    Graded g;
    start(g, quietScenario(), config);
    AutoAckClient client;
    QString error;
    QVERIFY2(client.loginTo(*g.emu, &error), qPrintable(error));
    QByteArray burst;
    for (int i = 0; i < 150; ++i)
        burst += message(QStringLiteral("w-%1").arg(i));
    client.sendRaw(burst);
    QVERIFY(client.waitFor([&] { return client.gcmCount() >= 150; }, 20000));
    verifyOnlyFails(*g.grader, QStringLiteral("window"));
}

void TestConformance::acksReceiptsWithoutDr2()
{
    Graded g;
    start(g, quietScenario());
    RawCcsClient client;
    QString error;
    QVERIFY2(client.loginTo(*g.emu, &error), qPrintable(error));
    connect(&client, &RawCcsClient::stanzaReceived, this, [&client](const RawCcsClient::Stanza &s) {
        if (s.json.value(QLatin1String("message_type")).toString() != QLatin1String("receipt"))
            return;
        // The broken part: the original id instead of the receipt's own dr2: id.
        client.ack(s.json.value(QLatin1String("from")).toString(),
            s.json.value(QLatin1String("message_id")).toString().mid(4));
    });
    for (int i = 0; i < 3; ++i)
        client.sendRaw(message(QStringLiteral("r-%1").arg(i), QStringLiteral("dev-1"), true));
    QVERIFY(client.waitFor([&] { return g.emu->server()->counters().badAcks >= 3; }, 10000));
    verifyOnlyFails(*g.grader, QStringLiteral("ack-receipt"));
}

void TestConformance::keepsSendingOnADrainingConnection()
{
    ConformanceScenario s = quietScenario();
    s.drainAt = 3;
    EmulatorConfig config = TestEmulator::defaultConfig();
    config.drainGraceMs = 4000;
    Graded g;
    start(g, s, config);
    AutoAckClient first;
    QString error;
    QVERIFY2(first.loginTo(*g.emu, &error), qPrintable(error));
    for (int i = 1; i <= 3; ++i)
        first.sendRaw(message(QStringLiteral("d-%1").arg(i)));
    QVERIFY(first.waitForGcm(
        [](const QJsonObject &o) {
            return o.value(QLatin1String("control_type")).toString() == QLatin1String("CONNECTION_DRAINING");
        },
        nullptr, 10000));
    AutoAckClient second; // it does open a new connection...
    QVERIFY2(second.loginTo(*g.emu, &error), qPrintable(error));
    // ...but keeps sending new messages on the draining one, well after the control.
    QTest::qWait(1500);
    for (int i = 4; i <= 6; ++i)
        first.sendRaw(message(QStringLiteral("d-%1").arg(i)));
    QVERIFY(first.waitForGcm(
        [](const QJsonObject &o) { return answerFor(o, QStringLiteral("d-6"), QStringLiteral("nack")); },
        nullptr, 10000));
    verifyOnlyFails(*g.grader, QStringLiteral("drain"));
}

void TestConformance::stopsReadingADrainingConnection()
{
    ConformanceScenario s = quietScenario();
    s.drainAt = 3; // two upstream messages are in the draining connection's pipeline
    EmulatorConfig config = TestEmulator::defaultConfig();
    config.drainGraceMs = 4000;
    Graded g;
    start(g, s, config);
    AutoAckClient first;
    QString error;
    QVERIFY2(first.loginTo(*g.emu, &error), qPrintable(error));
    connect(&first, &RawCcsClient::stanzaReceived, this, [&first](const RawCcsClient::Stanza &st) {
        if (st.json.value(QLatin1String("control_type")).toString() == QLatin1String("CONNECTION_DRAINING"))
            first.ackUpstream = false; // the broken part: the draining connection is left unread
    });
    for (int i = 1; i <= 3; ++i)
        first.sendRaw(message(QStringLiteral("d-%1").arg(i)));
    QVERIFY(first.waitFor([&] { return !first.ackUpstream; }, 10000));
    AutoAckClient second;
    QVERIFY2(second.loginTo(*g.emu, &error), qPrintable(error));
    second.sendRaw(message(QStringLiteral("d-4")));
    QVERIFY(second.waitForGcm(
        [](const QJsonObject &o) { return answerFor(o, QStringLiteral("d-4"), QStringLiteral("ack")); },
        nullptr, 10000));
    // The draining connection's pipeline goes un-ACKed past the ACK timeout.
    QTRY_VERIFY_WITH_TIMEOUT(
        statusOf(*g.grader, QStringLiteral("drain")) == ConformanceGrader::Status::Fail, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!first.isConnected(), 15000); // closed after the grace; the rest redelivered
    QTest::qWait(1500); // the redelivered upstream messages are ACKed on the new connection
    verifyOnlyFails(*g.grader, QStringLiteral("drain"));
}

void TestConformance::dropsPendingMessagesOnReconnect()
{
    ConformanceScenario s = quietScenario();
    s.dropAt = 5;
    EmulatorConfig config = TestEmulator::defaultConfig();
    config.faults.ackDelayMs = 500; // several messages are pending when the cut comes
    Graded g;
    start(g, s, config);
    QString error;
    {
        AutoAckClient first;
        QVERIFY2(first.loginTo(*g.emu, &error), qPrintable(error));
        QByteArray burst;
        for (int i = 1; i <= 5; ++i)
            burst += message(QStringLiteral("p-%1").arg(i));
        first.sendRaw(burst);
        QVERIFY(first.waitForDisconnected(10000));
    }
    AutoAckClient second; // reconnects at once, but forgets what was pending
    QVERIFY2(second.loginTo(*g.emu, &error), qPrintable(error));
    second.sendRaw(message(QStringLiteral("p-new")));
    QVERIFY(second.waitForGcm(
        [](const QJsonObject &o) { return answerFor(o, QStringLiteral("p-new"), QStringLiteral("ack")); },
        nullptr, 10000));
    QTRY_VERIFY_WITH_TIMEOUT(
        statusOf(*g.grader, QStringLiteral("resend")) == ConformanceGrader::Status::Fail, 15000);
    QTest::qWait(1500); // the upstream message of the cut connection is redelivered and ACKed
    verifyOnlyFails(*g.grader, QStringLiteral("resend"));
}

void TestConformance::retriesAFinalNack()
{
    ConformanceScenario s = quietScenario();
    s.badRegistrationAt = 2;
    Graded g;
    start(g, s);
    AutoAckClient client;
    QString error;
    QVERIFY2(client.loginTo(*g.emu, &error), qPrintable(error));
    client.sendRaw(message(QStringLiteral("f-1")) + message(QStringLiteral("f-2")));
    QVERIFY(client.waitForGcm(
        [](const QJsonObject &o) {
            return answerFor(
                o, QStringLiteral("f-2"), QStringLiteral("nack"), QStringLiteral("BAD_REGISTRATION"));
        },
        nullptr, 10000));
    QTest::qWait(1200);
    client.sendRaw(message(QStringLiteral("f-2"))); // the broken part: a final NACK retried
    QVERIFY(client.waitFor(
        [&] {
            int answers = 0;
            for (const QJsonObject &o : client.gcmMessages())
                answers += o.value(QLatin1String("message_id")).toString() == QLatin1String("f-2") ? 1 : 0;
            return answers >= 2;
        },
        10000));
    verifyOnlyFails(*g.grader, QStringLiteral("final-nack"));
}

// The scenario's BAD_REGISTRATION was queued when the connection was cut: the
// app server never saw it and rightly sends the message again. CCS would NACK
// that resend BAD_REGISTRATION (the token is as bad as before), and so does the
// emulator: the rule is exercised, not left to chance.
void TestConformance::nacksABadRegistrationLostWithItsConnectionAgain()
{
    ConformanceScenario s = quietScenario();
    s.badRegistrationAt = 2;
    s.dropAt = 3;
    EmulatorConfig config = TestEmulator::defaultConfig();
    config.faults.ackDelayMs = 1000; // the NACK is still queued when the cut comes
    Graded g;
    start(g, s, config);
    QString error;
    {
        AutoAckClient first;
        QVERIFY2(first.loginTo(*g.emu, &error), qPrintable(error));
        first.sendRaw(message(QStringLiteral("b-1")) + message(QStringLiteral("b-2")) + message(QStringLiteral("b-3")));
        QVERIFY(first.waitForDisconnected(10000));
        for (const QJsonObject &o : first.gcmMessages())
            QVERIFY2(o.value(QLatin1String("message_id")).toString() != QLatin1String("b-2"),
                "the NACK must not have been written before the cut");
    }
    QCOMPARE(statusOf(*g.grader, QStringLiteral("final-nack")), ConformanceGrader::Status::NotExercised);
    AutoAckClient second; // sends again what was pending, as it should
    QVERIFY2(second.loginTo(*g.emu, &error), qPrintable(error));
    second.sendRaw(message(QStringLiteral("b-1")) + message(QStringLiteral("b-2")) + message(QStringLiteral("b-3")));
    QVERIFY(second.waitForGcm(
        [](const QJsonObject &o) {
            return answerFor(
                o, QStringLiteral("b-2"), QStringLiteral("nack"), QStringLiteral("BAD_REGISTRATION"));
        },
        nullptr, 10000));
    QVERIFY(second.waitForGcm(
        [](const QJsonObject &o) { return answerFor(o, QStringLiteral("b-3"), QStringLiteral("ack")); }, nullptr,
        10000));
    g.grader->finish();
    QVERIFY2(statusOf(*g.grader, QStringLiteral("final-nack")) == ConformanceGrader::Status::Pass,
        qPrintable(conformance::textReport(*g.grader)));
    QVERIFY2(g.grader->passed(), qPrintable(conformance::textReport(*g.grader)));
}

void TestConformance::neverRetriesARetryableNack()
{
    ConformanceScenario s = quietScenario();
    s.retryableEvery = 4; // the 2nd message gets SERVICE_UNAVAILABLE
    s.retryDeadlineMs = 2000;
    Graded g;
    start(g, s);
    AutoAckClient client;
    QString error;
    QVERIFY2(client.loginTo(*g.emu, &error), qPrintable(error));
    client.sendRaw(
        message(QStringLiteral("n-1")) + message(QStringLiteral("n-2")) + message(QStringLiteral("n-3")));
    QVERIFY(client.waitForGcm(
        [](const QJsonObject &o) {
            return answerFor(
                o, QStringLiteral("n-2"), QStringLiteral("nack"), QStringLiteral("SERVICE_UNAVAILABLE"));
        },
        nullptr, 10000));
    QTRY_VERIFY_WITH_TIMEOUT(
        statusOf(*g.grader, QStringLiteral("retry")) == ConformanceGrader::Status::Fail, 15000);
    verifyOnlyFails(*g.grader, QStringLiteral("retry"));
}

void TestConformance::retriesAtOnce()
{
    ConformanceScenario s = quietScenario();
    s.retryableEvery = 4;
    Graded g;
    start(g, s);
    AutoAckClient client;
    QString error;
    QVERIFY2(client.loginTo(*g.emu, &error), qPrintable(error));
    // The broken part: a retryable NACK retried the moment it arrives.
    connect(&client, &RawCcsClient::stanzaReceived, this, [&client](const RawCcsClient::Stanza &st) {
        if (answerFor(st.json, QStringLiteral("n-2"), QStringLiteral("nack")))
            client.sendRaw(message(QStringLiteral("n-2")));
    });
    client.sendRaw(
        message(QStringLiteral("n-1")) + message(QStringLiteral("n-2")) + message(QStringLiteral("n-3")));
    QVERIFY(client.waitForGcm(
        [](const QJsonObject &o) { return answerFor(o, QStringLiteral("n-2"), QStringLiteral("ack")); },
        nullptr, 10000));
    verifyOnlyFails(*g.grader, QStringLiteral("retry"));
}

void TestConformance::acksUpstreamOnAnotherConnection()
{
    Graded g;
    start(g, quietScenario());
    RawCcsClient a;
    RawCcsClient b;
    QString error;
    QVERIFY2(a.loginTo(*g.emu, &error), qPrintable(error));
    QVERIFY2(b.loginTo(*g.emu, &error), qPrintable(error));
    // The broken part: whatever arrives on one connection is ACKed on the other.
    connect(&a, &RawCcsClient::stanzaReceived, this, [&b](const RawCcsClient::Stanza &s) {
        if (isUpstreamOrReceipt(s.json))
            b.ack(s.json.value(QLatin1String("from")).toString(),
                s.json.value(QLatin1String("message_id")).toString());
    });
    connect(&b, &RawCcsClient::stanzaReceived, this, [&a](const RawCcsClient::Stanza &s) {
        if (isUpstreamOrReceipt(s.json))
            a.ack(s.json.value(QLatin1String("from")).toString(),
                s.json.value(QLatin1String("message_id")).toString());
    });
    QVERIFY(!g.emu->server()
                 ->sendUpstream(QStringLiteral("dev-1"), {{QStringLiteral("k"), QStringLiteral("v")}})
                 .isEmpty());
    QVERIFY(!g.emu->server()
                 ->sendUpstream(QStringLiteral("dev-2"), {{QStringLiteral("k"), QStringLiteral("v")}})
                 .isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(g.emu->server()->counters().badAcks >= 2, 10000);
    QTest::qWait(1500);
    verifyOnlyFails(*g.grader, QStringLiteral("ack-upstream"));
}

void TestConformance::neverReconnects()
{
    ConformanceScenario s = quietScenario();
    s.dropAt = 1;
    s.resendTimeoutMs = 600000; // the lost message is another rule's business
    Graded g;
    start(g, s);
    AutoAckClient client;
    QString error;
    QVERIFY2(client.loginTo(*g.emu, &error), qPrintable(error));
    client.sendRaw(message(QStringLiteral("c-1")));
    QVERIFY(client.waitForDisconnected(10000));
    // The broken part: no new connection.
    QTRY_VERIFY_WITH_TIMEOUT(
        statusOf(*g.grader, QStringLiteral("reconnect")) == ConformanceGrader::Status::Fail, 15000);
    verifyOnlyFails(*g.grader, QStringLiteral("reconnect"));
}

void TestConformance::loopsOnAuthenticationFailure()
{
    Graded g;
    start(g, quietScenario());
    // The broken part: wrong credentials, and straight back for more.
    for (int i = 0; i < 5; ++i) {
        RawCcsClient client;
        client.setPinnedCertificate(g.emu->certificate());
        QString error;
        QVERIFY(!client.login(QStringLiteral("127.0.0.1"), g.emu->port(),
            QString::fromLatin1(TestEmulator::kSenderId), QStringLiteral("wrong-key"), &error));
    }
    QTRY_VERIFY_WITH_TIMEOUT(
        statusOf(*g.grader, QStringLiteral("reconnect")) == ConformanceGrader::Status::Fail, 15000);
    verifyOnlyFails(*g.grader, QStringLiteral("reconnect"));
}

void TestConformance::reusesAMessageId()
{
    Graded g;
    start(g, quietScenario());
    AutoAckClient client;
    QString error;
    QVERIFY2(client.loginTo(*g.emu, &error), qPrintable(error));
    client.sendRaw(message(QStringLiteral("u-1")));
    QVERIFY(client.waitForGcm(
        [](const QJsonObject &o) { return answerFor(o, QStringLiteral("u-1"), QStringLiteral("ack")); },
        nullptr, 10000));
    client.sendRaw(
        message(QStringLiteral("u-1"), QStringLiteral("dev-2"))); // the broken part: a new message, an old id
    QTRY_VERIFY_WITH_TIMEOUT(
        statusOf(*g.grader, QStringLiteral("unique-ids")) == ConformanceGrader::Status::Fail, 10000);
    verifyOnlyFails(*g.grader, QStringLiteral("unique-ids"));
}

void TestConformance::sendsInvalidMessages()
{
    Graded g;
    start(g, quietScenario());
    AutoAckClient client;
    QString error;
    QVERIFY2(client.loginTo(*g.emu, &error), qPrintable(error));
    // The broken part: a reserved data key, a string time_to_live, and JSON that does not parse.
    client.sendGcmText(QStringLiteral(R"({"to":"dev-1","message_id":"v-1","data":{"from":"x"}})"));
    client.sendGcmText(QStringLiteral(R"({"to":"dev-1","message_id":"v-2","time_to_live":"600"})"));
    client.sendGcmText(QStringLiteral(R"({"to":"dev-1","message_id":"v-3",)"));
    QVERIFY(client.waitFor(
        [&] { return client.gcmMessages().size() + client.stanzaErrors().size() >= 3; }, 10000));
    verifyOnlyFails(*g.grader, QStringLiteral("valid-json"));
    QVERIFY(g.grader->results().at(ConformanceGrader::ValidJson).evidence.size() >= 3);
}

void TestConformance::usesAnUnregisteredTokenAgain()
{
    ConformanceScenario s = quietScenario();
    s.unregisterAt = 2; // the first message to a token other than the first one used
    Graded g;
    start(g, s);
    AutoAckClient client;
    QString error;
    QVERIFY2(client.loginTo(*g.emu, &error), qPrintable(error));
    client.sendRaw(message(QStringLiteral("t-1"), QStringLiteral("dev-1")));
    client.sendRaw(message(QStringLiteral("t-2"), QStringLiteral("dev-2")));
    QVERIFY(client.waitForGcm(
        [](const QJsonObject &o) {
            return answerFor(
                o, QStringLiteral("t-2"), QStringLiteral("nack"), QStringLiteral("DEVICE_UNREGISTERED"));
        },
        nullptr, 10000));
    QTest::qWait(1500); // past the time a message already in flight would take
    client.sendRaw(message(QStringLiteral("t-3"), QStringLiteral("dev-2"))); // the broken part
    QTRY_VERIFY_WITH_TIMEOUT(
        statusOf(*g.grader, QStringLiteral("final-nack")) == ConformanceGrader::Status::Fail, 10000);
    verifyOnlyFails(*g.grader, QStringLiteral("final-nack"));
}

void TestConformance::usageErrorsExitTwo()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QStringList common {QStringLiteral("--data-dir"), dir.path(), QStringLiteral("--no-admin"),
        QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")};
    QProcess emulator;
    emulator.start(
        emulatorPath(), common + QStringList {QStringLiteral("--report-json"), QStringLiteral("x.json")});
    QVERIFY(emulator.waitForFinished(20000));
    QCOMPARE(emulator.exitCode(), 2);
    emulator.start(emulatorPath(),
        common
            + QStringList {QStringLiteral("--conformance"), QStringLiteral("--conformance-drain-at"),
                QStringLiteral("-1")});
    QVERIFY(emulator.waitForFinished(20000));
    QCOMPARE(emulator.exitCode(), 2);
}

QTEST_GUILESS_MAIN(TestConformance)
// A client that opens the stream in clear text on the TLS port. The
// emulator's connection threads (--threads 2 and up, ccs-emulator's default on
// a machine with more than one core) see the failed handshake; with one
// thread Qt 6.4's QSslServer drops such a socket without a word.
void TestConformance::speaksInClear()
{
    EmulatorConfig config = TestEmulator::defaultConfig();
    config.threads = 2;
    Graded g;
    start(g, quietScenario(), config);
    QTcpSocket plain;
    plain.connectToHost(QStringLiteral("127.0.0.1"), g.emu->port());
    QVERIFY(plain.waitForConnected(10000));
    plain.write("<stream:stream to='gcm.googleapis.com' version='1.0' xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams'>");
    QTRY_VERIFY_WITH_TIMEOUT(
        statusOf(*g.grader, QStringLiteral("tls-plain")) == ConformanceGrader::Status::Fail, 15000);
    verifyOnlyFails(*g.grader, QStringLiteral("tls-plain"));
}

#include "tst_conformance.moc"
