#include "SessionTestSupport.h"
#include "storage/ProfileStore.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>

#include <csignal>
#include <functional>
#include <signal.h>
#include <sys/types.h>

using namespace ccs;
using namespace ccs::test;

// ccsctl as a user runs it: a separate process against the emulator in this one.
class TestCcsctl : public QObject
{
    Q_OBJECT

private:
    struct Run {
        int exitCode = -1;
        bool finished = false;
        QByteArray out, err;
        QList<QJsonObject> events;
        QList<QJsonObject> named(const QString &event) const
        {
            QList<QJsonObject> list;
            for (const auto &e : events)
                if (e.value(QStringLiteral("event")).toString() == event)
                    list.append(e);
            return list;
        }
    };

    static QString binary()
    {
#ifdef CCSCTL_PATH
        if (QFileInfo::exists(QStringLiteral(CCSCTL_PATH)))
            return QStringLiteral(CCSCTL_PATH);
#endif
        return QDir(QCoreApplication::applicationDirPath())
            .absoluteFilePath(QStringLiteral("../../app/ccsctl"));
    }

    QProcessEnvironment environment(const QString &apiKey = QString::fromLatin1(TestEmulator::kApiKey)) const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("CCS_API_KEY"));
        if (!apiKey.isEmpty())
            env.insert(QStringLiteral("CCS_API_KEY"), apiKey);
        env.insert(QStringLiteral("CCS_SECRET_STORE"), QStringLiteral("memory"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_config.path());
        // --profile runs write a history under the data directory: keep it in the throwaway one.
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_config.filePath(QStringLiteral("data")));
        return env;
    }

    static QStringList connectionArgs(const TestEmulator &emu)
    {
        return {QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
            QString::number(emu.port()), QStringLiteral("--sender-id"),
            QString::fromLatin1(TestEmulator::kSenderId), QStringLiteral("--ca-cert"),
            emu.certificatePemPath()};
    }

    // Runs ccsctl while this process's event loop keeps serving the emulator.
    static Run run(const QStringList &args, const QProcessEnvironment &env,
        const std::function<void(QProcess &)> &whileRunning = {}, int timeoutMs = 20000)
    {
        Run r;
        QProcess process;
        process.setProcessEnvironment(env);
        process.start(binary(), args);
        if (!process.waitForStarted(5000))
            return r;
        if (whileRunning)
            whileRunning(process);
        QDeadlineTimer deadline(timeoutMs);
        while (process.state() != QProcess::NotRunning && !deadline.hasExpired())
            QTest::qWait(10);
        if (process.state() != QProcess::NotRunning) {
            process.kill();
            process.waitForFinished(2000);
            return r;
        }
        r.finished = process.exitStatus() == QProcess::NormalExit;
        r.exitCode = process.exitCode();
        r.out = process.readAllStandardOutput();
        r.err = process.readAllStandardError();
        for (const QByteArray &line : r.out.split('\n')) {
            if (line.trimmed().isEmpty())
                continue;
            const QJsonDocument doc = QJsonDocument::fromJson(line);
            if (doc.isObject())
                r.events.append(doc.object());
        }
        return r;
    }

    static void verifyEventShape(const Run &r)
    {
        qint64 last = -1;
        for (const auto &e : r.events) {
            QVERIFY(e.contains(QStringLiteral("event")));
            QVERIFY(e.contains(QStringLiteral("message_id")));
            QVERIFY(e.value(QStringLiteral("t_ms")).isDouble());
            const qint64 t = e.value(QStringLiteral("t_ms")).toInteger();
            QVERIFY(t >= last);
            last = t;
        }
        QVERIFY(!r.events.isEmpty());
        QCOMPARE(r.events.constLast().value(QStringLiteral("event")).toString(), QStringLiteral("summary"));
        QVERIFY(!r.out.contains(TestEmulator::kApiKey));
        QVERIFY(!r.err.contains(TestEmulator::kApiKey));
    }

    QTemporaryDir m_config;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFileInfo::exists(binary()), qPrintable(binary()));
        QVERIFY(m_config.isValid());
    }

    void helpExitsZero()
    {
        const Run r = run({QStringLiteral("--help")}, environment());
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("send"));
        QVERIFY(r.out.contains("CCS_API_KEY"));
    }

    void usageErrorsExitTwo_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<bool>("withKey");
        QTest::addColumn<QString>("says");
        const QStringList conn {QStringLiteral("--sender-id"), QStringLiteral("1"), QStringLiteral("--port"),
            QStringLiteral("1")};
        QTest::newRow("no command") << QStringList {} << true << "missing command";
        QTest::newRow("unknown command") << QStringList {QStringLiteral("push")} << true << "unknown command";
        QTest::newRow("unknown option")
            << QStringList {QStringLiteral("send"), QStringLiteral("--frobnicate")} << true << "frobnicate";
        QTest::newRow("send without --to") << (QStringList {QStringLiteral("send")} + conn) << true << "--to";
        QTest::newRow("bad --ttl") << (QStringList {QStringLiteral("send"), QStringLiteral("--to"),
                                           QStringLiteral("d"), QStringLiteral("--ttl"),
                                           QStringLiteral("abc")}
            + conn) << true << "--ttl";
        QTest::newRow("ttl out of range")
            << (QStringList {QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("d"),
                    QStringLiteral("--ttl"), QStringLiteral("9999999")}
                   + conn)
            << true << "--ttl";
        QTest::newRow("data not JSON")
            << (QStringList {QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("d"),
                    QStringLiteral("--data"), QStringLiteral("{nope")}
                   + conn)
            << true << "--data";
        QTest::newRow("reserved data key")
            << (QStringList {QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("d"),
                    QStringLiteral("--data"), QStringLiteral("{\"from\":\"x\"}")}
                   + conn)
            << true << "from";
        QTest::newRow("bad priority")
            << (QStringList {QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("d"),
                    QStringLiteral("--priority"), QStringLiteral("urgent")}
                   + conn)
            << true << "--priority";
        QTest::newRow("send option on listen")
            << (QStringList {QStringLiteral("listen"), QStringLiteral("--to"), QStringLiteral("d")} + conn)
            << true << "--to";
        QTest::newRow("no API key") << (QStringList {QStringLiteral("listen")} + conn) << false
                                    << "CCS_API_KEY";
        QTest::newRow("no sender id") << QStringList {QStringLiteral("listen")} << true << "--sender-id";
        QTest::newRow("unknown profile")
            << QStringList {QStringLiteral("listen"), QStringLiteral("--profile"), QStringLiteral("nope")}
            << true << "nope";
        QTest::newRow("missing ca file")
            << (QStringList {
                    QStringLiteral("listen"), QStringLiteral("--ca-cert"), QStringLiteral("/nonexistent.pem")}
                   + conn)
            << true << "--ca-cert";
    }
    void usageErrorsExitTwo()
    {
        QFETCH(QStringList, args);
        QFETCH(bool, withKey);
        QFETCH(QString, says);
        const Run r
            = run(args, environment(withKey ? QString::fromLatin1(TestEmulator::kApiKey) : QString()));
        QVERIFY(r.finished);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(QString::fromUtf8(r.err).contains(says), r.err.constData());
    }

    void sendJsonEventsAndExitZero()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        const Run r = run(QStringList {QStringLiteral("send"), QStringLiteral("--json"),
                              QStringLiteral("--to"), QStringLiteral("dev-1"), QStringLiteral("--data"),
                              QStringLiteral("{\"hello\":\"</gcm>&world\"}"), QStringLiteral("--count"),
                              QStringLiteral("3"), QStringLiteral("--ttl"), QStringLiteral("60"),
                              QStringLiteral("--priority"), QStringLiteral("high")}
                + connectionArgs(emu),
            environment());
        QVERIFY2(r.finished, r.err.constData());
        QCOMPARE(r.exitCode, 0);
        verifyEventShape(r);
        QCOMPARE(r.named(QStringLiteral("queued")).size(), 3);
        QCOMPARE(r.named(QStringLiteral("sent")).size(), 3);
        const auto acks = r.named(QStringLiteral("ack"));
        QCOMPARE(acks.size(), 3);
        QVERIFY(!r.named(QStringLiteral("connection")).isEmpty());
        const QJsonObject summary = r.events.constLast();
        QCOMPARE(summary.value(QStringLiteral("acked")).toInt(), 3);
        QCOMPARE(summary.value(QStringLiteral("exit_code")).toInt(), 0);
        // The witness: the server got these three messages, payload intact.
        const auto record = recordById(emu.server());
        for (const auto &ack : acks) {
            const QString id = ack.value(QStringLiteral("message_id")).toString();
            QVERIFY2(record.contains(id), qPrintable(id));
            QCOMPARE(record.value(id).verdict, QStringLiteral("ack"));
        }
    }

    void receiptsAreReportedWithTheirOwnIds()
    {
        emulator::EmulatorConfig config = TestEmulator::defaultConfig();
        config.receiptDelayMs = 50;
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        const Run r
            = run(QStringList {QStringLiteral("send"), QStringLiteral("--json"), QStringLiteral("--to"),
                      QStringLiteral("dev-2"), QStringLiteral("--receipt"), QStringLiteral("--wait-receipts"),
                      QStringLiteral("5"), QStringLiteral("--count"), QStringLiteral("2")}
                    + connectionArgs(emu),
                environment());
        QCOMPARE(r.exitCode, 0);
        verifyEventShape(r);
        const auto receipts = r.named(QStringLiteral("receipt"));
        QCOMPARE(receipts.size(), 2);
        for (const auto &e : receipts) {
            const QString original = e.value(QStringLiteral("original_message_id")).toString();
            QCOMPARE(e.value(QStringLiteral("message_id")).toString(), QStringLiteral("dr2:") + original);
            QTRY_VERIFY_WITH_TIMEOUT(recordById(emu.server()).value(original).receiptAcked, 3000);
        }
        QCOMPARE(r.events.constLast().value(QStringLiteral("delivered")).toInt(), 2);
    }

    void nackedSendExitsOne()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        const Run r = run(QStringList {QStringLiteral("send"), QStringLiteral("--json"),
                              QStringLiteral("--to"), QStringLiteral("dev-unregistered")}
                + connectionArgs(emu),
            environment());
        QCOMPARE(r.exitCode, 1);
        verifyEventShape(r);
        const auto nacks = r.named(QStringLiteral("nack"));
        QCOMPARE(nacks.size(), 1);
        QCOMPARE(
            nacks.at(0).value(QStringLiteral("error")).toString(), QStringLiteral("DEVICE_UNREGISTERED"));
        QVERIFY(!nacks.at(0).value(QStringLiteral("error_description")).toString().isEmpty());
        QCOMPARE(r.events.constLast().value(QStringLiteral("nacked")).toInt(), 1);
    }

    void retriesAreReported()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        emulator::FaultSchedule faults;
        faults.nackShare = 1.0;
        emu.server()->setFaults(faults);
        const Run r = run(QStringList {QStringLiteral("send"), QStringLiteral("--json"),
                              QStringLiteral("--to"), QStringLiteral("dev-1")}
                + connectionArgs(emu),
            environment(), [&emu](QProcess &) {
                QTRY_VERIFY_WITH_TIMEOUT(emu.server()->counters().nacksSent >= 1, 10000);
                emu.server()->setFaults({});
            });
        QCOMPARE(r.exitCode, 0);
        verifyEventShape(r);
        const auto retries = r.named(QStringLiteral("retry"));
        QCOMPARE(retries.size(), 1);
        QCOMPARE(
            retries.at(0).value(QStringLiteral("error")).toString(), QStringLiteral("SERVICE_UNAVAILABLE"));
        QVERIFY(retries.at(0).contains(QStringLiteral("error_description")));
        QCOMPARE(r.named(QStringLiteral("sent")).size(), 2);
        QCOMPARE(r.named(QStringLiteral("ack")).size(), 1);
    }

    void readableOutputWithoutJson()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        const Run r
            = run(QStringList {QStringLiteral("send"), QStringLiteral("--to"), QStringLiteral("dev-1")}
                    + connectionArgs(emu),
                environment());
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.events.isEmpty());
        QVERIFY(r.out.contains("ack "));
        QVERIFY(r.out.contains("summary:"));
    }

    void readableLinesKeepNonAsciiText()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        // Tokens of several lengths around the four-at-a-time ASCII copy, one not ASCII.
        const QStringList tokens {QStringLiteral("dev-1"), QStringLiteral("dev-12345"),
            QStringLiteral("d\u00e9v-\u00fc-1234567"), QStringLiteral("dev-\u20ac")};
        for (const QString &token : tokens) {
            const Run r = run(
                QStringList {QStringLiteral("send"), QStringLiteral("--to"), token} + connectionArgs(emu),
                environment());
            QVERIFY2(r.finished, r.err.constData());
            QVERIFY2(r.out.contains(" to " + token.toUtf8() + '\n'), r.out.constData());
        }
    }

    // --count copies go to the session a few windows ahead of the answers, not all at
    // once: before the first answer, at most 512 were queued; all were sent in the end.
    void countCopiesFollowTheAnswers()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        const Run r
            = run(QStringList {QStringLiteral("send"), QStringLiteral("--json"), QStringLiteral("--to"),
                      QStringLiteral("dev-1"), QStringLiteral("--count"), QStringLiteral("1500")}
                    + connectionArgs(emu),
                environment(), {}, 120000);
        QVERIFY2(r.finished, r.err.constData());
        QCOMPARE(r.exitCode, 0);
        int queuedBeforeFirstAnswer = 0;
        for (const auto &e : r.events) {
            const QString event = e.value(QStringLiteral("event")).toString();
            if (event == QLatin1String("ack"))
                break;
            if (event == QLatin1String("queued"))
                ++queuedBeforeFirstAnswer;
        }
        QVERIFY2(queuedBeforeFirstAnswer > 0 && queuedBeforeFirstAnswer <= 512,
            qPrintable(QString::number(queuedBeforeFirstAnswer)));
        QCOMPARE(r.named(QStringLiteral("queued")).size(), 1500);
        QCOMPARE(r.events.constLast().value(QStringLiteral("acked")).toInt(), 1500);
        QVERIFY(!r.events.constLast().contains(QStringLiteral("not_queued")));
    }

    // A run that ends early says how many copies it never handed over.
    void countCopiesNotQueuedAreCounted()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        QStringList conn = connectionArgs(emu);
        conn[3] = QStringLiteral("1"); // nothing listens there
        const Run r
            = run(QStringList {QStringLiteral("send"), QStringLiteral("--json"), QStringLiteral("--to"),
                      QStringLiteral("dev-1"), QStringLiteral("--count"), QStringLiteral("2000")}
                    + conn,
                environment());
        QCOMPARE(r.exitCode, 3);
        const QJsonObject summary = r.events.constLast();
        const int accepted = summary.value(QStringLiteral("accepted")).toInt();
        QVERIFY2(accepted > 0 && accepted <= 512, qPrintable(QString::number(accepted)));
        QCOMPARE(accepted + summary.value(QStringLiteral("not_queued")).toInt(), 2000);
        QCOMPARE(summary.value(QStringLiteral("unanswered")).toInt(), accepted);
    }

    void connectFailuresExitThree_data()
    {
        QTest::addColumn<QString>("failure");
        QTest::addColumn<QString>("error");
        QTest::newRow("wrong API key") << "key"
                                       << "AuthenticationFailed";
        QTest::newRow("certificate not trusted") << "tls"
                                                 << "TlsError";
        QTest::newRow("wrong host name") << "hostname"
                                         << "TlsError";
        QTest::newRow("connection refused") << "refused"
                                            << "ConnectionRefused";
    }
    void connectFailuresExitThree()
    {
        QFETCH(QString, failure);
        QFETCH(QString, error);
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        QStringList args {QStringLiteral("send"), QStringLiteral("--json"), QStringLiteral("--to"),
            QStringLiteral("dev-1")};
        QStringList conn = connectionArgs(emu);
        QString key = QString::fromLatin1(TestEmulator::kApiKey);
        if (failure == QLatin1String("key"))
            key = QStringLiteral("wrong-key-0000");
        else if (failure == QLatin1String("tls"))
            conn = conn.mid(0, 6); // no --ca-cert: the system CAs do not trust the emulator
        else if (failure == QLatin1String("hostname"))
            conn << QStringLiteral("--domain") << QStringLiteral("wrong.example.org");
        else if (failure == QLatin1String("refused"))
            conn[3] = QStringLiteral("1");
        const Run r = run(args + conn, environment(key));
        QCOMPARE(r.exitCode, 3);
        verifyEventShape(r);
        QVERIFY(!r.out.contains("wrong-key-0000"));
        const auto errors = r.named(QStringLiteral("error"));
        QVERIFY(!errors.isEmpty());
        QCOMPARE(errors.at(0).value(QStringLiteral("error")).toString(), error);
        QVERIFY(!errors.at(0).value(QStringLiteral("error_description")).toString().isEmpty());
    }

    void listenUntilCount()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        QStringList ids;
        const Run r
            = run(QStringList {QStringLiteral("listen"), QStringLiteral("--json"), QStringLiteral("--count"),
                      QStringLiteral("2"), QStringLiteral("--timeout"), QStringLiteral("20")}
                    + connectionArgs(emu),
                environment(), [&](QProcess &) {
                    QSignalSpy authenticated(emu.server(), &emulator::EmulatorServer::clientAuthenticated);
                    QVERIFY(authenticated.wait(10000));
                    ids.append(emu.server()->sendUpstream(
                        QStringLiteral("dev-1"), {{QStringLiteral("a"), QStringLiteral("1")}}));
                    ids.append(emu.server()->sendUpstream(
                        QStringLiteral("dev-2"), {{QStringLiteral("b"), QStringLiteral("2")}}));
                    // Devices number their own messages: both are "1", and both must be listed.
                    QCOMPARE(ids.at(0), ids.at(1));
                });
        QCOMPARE(r.exitCode, 0);
        verifyEventShape(r);
        const auto upstream = r.named(QStringLiteral("upstream"));
        QCOMPARE(upstream.size(), 2);
        QCOMPARE(upstream.at(0).value(QStringLiteral("message_id")).toString(), ids.at(0));
        QCOMPARE(upstream.at(0).value(QStringLiteral("from")).toString(), QStringLiteral("dev-1"));
        QVERIFY(!upstream.at(0).value(QStringLiteral("category")).toString().isEmpty());
        QCOMPARE(
            upstream.at(1).value(QStringLiteral("data")).toObject().value(QStringLiteral("b")).toString(),
            QStringLiteral("2"));
        // Both were ACKed before ccsctl left.
        QCOMPARE(upstream.at(1).value(QStringLiteral("from")).toString(), QStringLiteral("dev-2"));
        const auto up = upstreamById(emu.server());
        QVERIFY(up.value(upstreamKey(QStringLiteral("dev-1"), ids.at(0))).acked);
        QVERIFY(up.value(upstreamKey(QStringLiteral("dev-2"), ids.at(1))).acked);
        QCOMPARE(r.events.constLast().value(QStringLiteral("upstream")).toInt(), 2);
    }

    void listenTimeoutBeforeCountExitsOne()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        const Run r
            = run(QStringList {QStringLiteral("listen"), QStringLiteral("--json"), QStringLiteral("--count"),
                      QStringLiteral("3"), QStringLiteral("--timeout"), QStringLiteral("1")}
                    + connectionArgs(emu),
                environment());
        QCOMPARE(r.exitCode, 1);
        verifyEventShape(r);
    }

    void listenTimeoutWithoutCountExitsZero()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        const Run r
            = run(QStringList {QStringLiteral("listen"), QStringLiteral("--timeout"), QStringLiteral("1")}
                    + connectionArgs(emu),
                environment());
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("summary:"));
    }

    void sendWithSavedProfile()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        // The profile store ccsctl reads: XDG_CONFIG_HOME/ccs-admin/ccs-admin.ini.
        storage::ProfileStore store(m_config.filePath(QStringLiteral("ccs-admin/ccs-admin.ini")));
        storage::Profile profile;
        profile.name = QStringLiteral("Test emulator");
        profile.host = QStringLiteral("127.0.0.1");
        profile.port = emu.port();
        profile.senderId = QString::fromLatin1(TestEmulator::kSenderId);
        profile.trust = storage::TrustMode::PinnedCertificate;
        profile.pinnedCertificatePath = emu.certificatePemPath();
        QString error;
        QVERIFY2(store.save(profile, &error), qPrintable(error));
        // No keychain entry (in-memory store in tests): the key comes from CCS_API_KEY.
        const Run r
            = run({QStringLiteral("send"), QStringLiteral("--json"), QStringLiteral("--profile"),
                      QStringLiteral("Test emulator"), QStringLiteral("--to"), QStringLiteral("dev-1")},
                environment());
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.named(QStringLiteral("ack")).size(), 1);
    }

    // Explicit flags win over the profile (the same resolution as the window's): a
    // profile that points at a dead port and pins the wrong certificate, with --port and
    // --ca-cert naming the live emulator, sends there. Before, --port was ignored with
    // --profile and the run failed to connect (exit 3).
    void flagsOverrideTheProfile()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        quint16 deadPort = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost));
            deadPort = probe.serverPort();
        } // closed: nothing listens there now
        QVERIFY(deadPort != emu.port());
        storage::ProfileStore store(m_config.filePath(QStringLiteral("ccs-admin/ccs-admin.ini")));
        storage::Profile profile;
        profile.name = QStringLiteral("Stale emulator");
        profile.host = QStringLiteral("127.0.0.1");
        profile.port = deadPort;
        profile.senderId = QStringLiteral("999999");
        QString error;
        QVERIFY2(store.save(profile, &error), qPrintable(error));

        const QStringList profileOnly {QStringLiteral("send"), QStringLiteral("--json"),
            QStringLiteral("--profile"), QStringLiteral("Stale emulator"), QStringLiteral("--to"),
            QStringLiteral("dev-1"), QStringLiteral("--timeout"), QStringLiteral("10")};
        // The profile alone: nothing listens on its port.
        const Run dead = run(profileOnly, environment());
        QVERIFY(dead.finished);
        QCOMPARE(dead.exitCode, 3);

        const Run r = run(profileOnly
                + QStringList {QStringLiteral("--port"), QString::number(emu.port()),
                    QStringLiteral("--sender-id"), QString::fromLatin1(TestEmulator::kSenderId),
                    QStringLiteral("--ca-cert"), emu.certificatePemPath()},
            environment());
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.named(QStringLiteral("ack")).size(), 1);
        verifyEventShape(r);
    }

    // Ctrl+C: ccsctl stops with a summary that accounts for every accepted message
    // (what had no answer yet is reported as unanswered, not dropped), and exits 1
    // for send (not everything was ACKed); listen without --count exits 0.
    void interruptedSendSummarizesAndExitsOne()
    {
        emulator::EmulatorConfig config = TestEmulator::defaultConfig();
        config.faults.ackDelayMs = 600000; // nothing is answered before the interrupt
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        const Run r
            = run(QStringList {QStringLiteral("send"), QStringLiteral("--json"), QStringLiteral("--to"),
                      QStringLiteral("dev-1"), QStringLiteral("--count"), QStringLiteral("5")}
                    + connectionArgs(emu),
                environment(), [](QProcess &process) {
                    // Once all five are on the wire, as a user pressing Ctrl+C would.
                    QVERIFY(QTest::qWaitFor(
                        [&] { return process.peek(1 << 20).count("\"event\":\"sent\"") == 5; }, 30000));
                    QCOMPARE(::kill(pid_t(process.processId()), SIGINT), 0);
                });
        QVERIFY2(r.finished, r.err.constData());
        QCOMPARE(r.exitCode, 1);
        verifyEventShape(r);
        const QJsonObject summary = r.events.constLast();
        QCOMPARE(summary.value(QStringLiteral("exit_code")).toInt(), 1);
        QCOMPARE(summary.value(QStringLiteral("accepted")).toInt(), 5);
        QCOMPARE(summary.value(QStringLiteral("unanswered")).toInt(), 5);
        int accounted = 0;
        for (const char *field : {"acked", "nacked", "expired", "failed", "unanswered"})
            accounted += summary.value(QLatin1String(field)).toInt();
        QCOMPARE(accounted, summary.value(QStringLiteral("accepted")).toInt());
        QCOMPARE(r.named(QStringLiteral("queued")).size(), 5);
        QCOMPARE(r.named(QStringLiteral("ack")).size(), 0);
        QCOMPARE(emu.server()->counters().downstreamReceived, 5);
    }

    void interruptedListenExitsZero()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        const Run r
            = run(QStringList {QStringLiteral("listen"), QStringLiteral("--json")} + connectionArgs(emu),
                environment(), [&](QProcess &process) {
                    QVERIFY(QTest::qWaitFor([&] { return emu.server()->openConnections() == 1; }, 30000));
                    QVERIFY(!emu.server()
                                 ->sendUpstream(QStringLiteral("dev-2"), {{QStringLiteral("k"), 1}})
                                 .isEmpty());
                    QVERIFY(QTest::qWaitFor(
                        [&] { return process.peek(1 << 20).contains("\"event\":\"upstream\""); }, 30000));
                    QCOMPARE(::kill(pid_t(process.processId()), SIGINT), 0);
                });
        QVERIFY2(r.finished, r.err.constData());
        QCOMPARE(r.exitCode, 0);
        verifyEventShape(r);
        const QJsonObject summary = r.events.constLast();
        QCOMPARE(summary.value(QStringLiteral("upstream")).toInt(), 1);
        QCOMPARE(summary.value(QStringLiteral("exit_code")).toInt(), 0);
        // The message it received was ACKed before it stopped.
        QTRY_COMPARE_WITH_TIMEOUT(emu.server()->counters().upstreamAcked, 1, 30000);
    }
};

QTEST_GUILESS_MAIN(TestCcsctl)
#include "tst_ccsctl.moc"
