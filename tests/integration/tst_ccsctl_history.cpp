// ccsctl send --profile records into the profile's history; ccsctl history finds
// it again with every filter, as text, JSON Lines and CSV. Real TLS to the emulator.
#include "SessionTestSupport.h"
#include "history/HistoryDatabase.h"
#include "storage/ProfileStore.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>

using namespace ccs;
using namespace ccs::test;

namespace {
const QString kProfile = QStringLiteral("Test emulator");
}

class TestCcsctlHistory : public QObject
{
    Q_OBJECT

private:
    struct Run {
        int exitCode = -1;
        QByteArray out, err;
        QList<QJsonObject> lines;
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

    QProcessEnvironment environment() const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("CCS_API_KEY"), QString::fromLatin1(TestEmulator::kApiKey));
        env.insert(QStringLiteral("CCS_SECRET_STORE"), QStringLiteral("memory"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home.filePath(QStringLiteral("config")));
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_home.filePath(QStringLiteral("data")));
        env.insert(QStringLiteral("HOME"), m_home.path());
        return env;
    }

    Run run(const QStringList &args, int timeoutMs = 30000) const
    {
        Run r;
        QProcess process;
        process.setProcessEnvironment(environment());
        process.start(binary(), args);
        if (!process.waitForStarted(5000))
            return r;
        // The emulator lives in this process: keep its event loop turning.
        QDeadlineTimer deadline(timeoutMs);
        while (process.state() != QProcess::NotRunning && !deadline.hasExpired())
            QTest::qWait(10);
        if (process.state() != QProcess::NotRunning) {
            process.kill();
            process.waitForFinished(2000);
            return r;
        }
        r.exitCode = process.exitCode();
        r.out = process.readAllStandardOutput();
        r.err = process.readAllStandardError();
        for (const QByteArray &line : r.out.split('\n')) {
            const QJsonDocument doc = QJsonDocument::fromJson(line);
            if (doc.isObject())
                r.lines.append(doc.object());
        }
        return r;
    }

    Run history(const QStringList &filters) const
    {
        return run(QStringList {QStringLiteral("history"), QStringLiteral("--profile"), kProfile} + filters);
    }

    static QStringList field(const QList<QJsonObject> &lines, const char *name)
    {
        QStringList values;
        for (const QJsonObject &o : lines)
            values << o.value(QLatin1String(name)).toString();
        return values;
    }

    QTemporaryDir m_home;
    std::unique_ptr<TestEmulator> m_emu;
    QStringList m_sent; // message ids of the pizza messages
    QString m_nacked;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFileInfo::exists(binary()), qPrintable(binary()));
        m_emu = std::make_unique<TestEmulator>();
        QVERIFY2(m_emu->isRunning(), qPrintable(m_emu->error()));
        storage::ProfileStore store(m_home.filePath(QStringLiteral("config/ccs-admin/ccs-admin.ini")));
        storage::Profile profile;
        profile.name = kProfile;
        profile.host = QStringLiteral("127.0.0.1");
        profile.port = m_emu->port();
        profile.senderId = QString::fromLatin1(TestEmulator::kSenderId);
        profile.trust = storage::TrustMode::PinnedCertificate;
        profile.pinnedCertificatePath = m_emu->certificatePemPath();
        QString error;
        QVERIFY2(store.save(profile, &error), qPrintable(error));

        Run r = run({QStringLiteral("send"), QStringLiteral("--json"), QStringLiteral("--profile"), kProfile,
            QStringLiteral("--to"), QStringLiteral("dev-1"), QStringLiteral("--count"), QStringLiteral("3"),
            QStringLiteral("--data"), QStringLiteral(R"({"order":"pizza margherita","table":7})"),
            QStringLiteral("--receipt"), QStringLiteral("--wait-receipts"), QStringLiteral("10")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        for (const QJsonObject &o : r.lines)
            if (o.value(QLatin1String("event")).toString() == QLatin1String("ack"))
                m_sent << o.value(QLatin1String("message_id")).toString();
        QCOMPARE(m_sent.size(), 3);
        r = run({QStringLiteral("send"), QStringLiteral("--json"), QStringLiteral("--profile"), kProfile,
            QStringLiteral("--to"), QStringLiteral("dev-unregistered"), QStringLiteral("--data"),
            QStringLiteral(R"({"order":"soup"})")});
        QCOMPARE(r.exitCode, 1); // NACKed
        for (const QJsonObject &o : r.lines)
            if (o.value(QLatin1String("event")).toString() == QLatin1String("nack"))
                m_nacked = o.value(QLatin1String("message_id")).toString();
        QVERIFY(!m_nacked.isEmpty());
    }

    void sendsAreInTheProfileHistory()
    {
        const QString path = m_home.filePath(
            QStringLiteral("data/ccs-admin/history/") + history::fileNameForProfile(kProfile));
        QVERIFY2(QFileInfo::exists(path), qPrintable(path));
        const Run r
            = history({QStringLiteral("--json"), QStringLiteral("--kind"), QStringLiteral("downstream")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.lines.size(), 4);
        // Newest first.
        QCOMPARE(r.lines.first().value(QLatin1String("message_id")).toString(), m_nacked);
        const QJsonObject delivered = r.lines.at(1);
        QCOMPARE(delivered.value(QLatin1String("state")).toString(), QStringLiteral("Delivered"));
        QCOMPARE(delivered.value(QLatin1String("request"))
                     .toObject()
                     .value(QLatin1String("data"))
                     .toObject()
                     .value(QLatin1String("table")),
            QJsonValue(7));
        const QJsonArray states = delivered.value(QLatin1String("history")).toArray();
        QVERIFY(states.size() >= 3); // Queued, InFlight, Acked, Delivered
        QCOMPARE(
            states.first().toObject().value(QLatin1String("state")).toString(), QStringLiteral("Queued"));
    }

    void theApiKeyIsNeverStored()
    {
        const QString path = m_home.filePath(
            QStringLiteral("data/ccs-admin/history/") + history::fileNameForProfile(kProfile));
        for (const QString &suffix : {QString(), QStringLiteral("-wal")}) {
            QFile file(path + suffix);
            if (!file.open(QIODevice::ReadOnly))
                continue;
            QVERIFY2(!file.readAll().contains(TestEmulator::kApiKey), qPrintable(path + suffix));
        }
    }

    void filters_data()
    {
        QTest::addColumn<QStringList>("filters");
        QTest::addColumn<int>("rows");
        QTest::newRow("text") << QStringList {QStringLiteral("--text"), QStringLiteral("pizza")} << 3;
        QTest::newRow("text, two words")
            << QStringList {QStringLiteral("--text"), QStringLiteral("Pizza 7")} << 3;
        QTest::newRow("text, none") << QStringList {QStringLiteral("--text"), QStringLiteral("calzone")} << 0;
        QTest::newRow("to, downstream") << QStringList {QStringLiteral("--to"), QStringLiteral("dev-1"),
            QStringLiteral("--kind"), QStringLiteral("downstream")}
                                        << 3;
        QTest::newRow("to, with receipts")
            << QStringList {QStringLiteral("--to"), QStringLiteral("dev-1")} << 6;
        QTest::newRow("state") << QStringList {QStringLiteral("--state"), QStringLiteral("nacked")} << 1;
        QTest::newRow("nack") << QStringList {QStringLiteral("--nack"), QStringLiteral("DEVICE_UNREGISTERED")}
                              << 1;
        QTest::newRow("since 1h") << QStringList {QStringLiteral("--since"), QStringLiteral("1h")} << 7;
        QTest::newRow("until 2020") << QStringList {QStringLiteral("--until"), QStringLiteral("2020-01-01")}
                                    << 0;
        QTest::newRow("limit") << QStringList {QStringLiteral("--limit"), QStringLiteral("2")} << 2;
        QTest::newRow("connection") << QStringList {QStringLiteral("--connection"), QStringLiteral("1"),
            QStringLiteral("--kind"), QStringLiteral("downstream")}
                                    << 4;
    }

    void filters()
    {
        QFETCH(QStringList, filters);
        QFETCH(int, rows);
        const Run r = history(QStringList {QStringLiteral("--json")} + filters);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.lines.size(), rows);
    }

    void byMessageIdFindsItsReceipt()
    {
        const Run r = history({QStringLiteral("--json"), QStringLiteral("--id"), m_sent.first()});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.lines.size(), 2);
        QCOMPARE(
            field(r.lines, "kind"), (QStringList {QStringLiteral("receipt"), QStringLiteral("downstream")}));
    }

    void textAndCsv()
    {
        Run r = history({QStringLiteral("--state"), QStringLiteral("Nacked")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains(m_nacked.toUtf8()));
        QVERIFY(r.out.contains("DEVICE_UNREGISTERED"));
        QVERIFY(r.out.contains("soup"));
        r = history({QStringLiteral("--csv"), QStringLiteral("--kind"), QStringLiteral("downstream")});
        QCOMPARE(r.exitCode, 0);
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 5);
        QVERIFY(lines.first().startsWith("kind,time,message_id,token,state,nack"));
        QVERIFY(lines.at(1).contains(",DEVICE_UNREGISTERED,"));
        QVERIFY(lines.at(2).contains("\"{\"\"data\"\":{\"\"order\"\":\"\"pizza margherita\"\""));
    }

    void badInput_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("says");
        QTest::newRow("bad since") << QStringList {QStringLiteral("--since"), QStringLiteral("yesterday")}
                                   << 2 << QStringLiteral("--since must be");
        QTest::newRow("bad state") << QStringList {QStringLiteral("--state"), QStringLiteral("Lost")} << 2
                                   << QStringLiteral("--state must be");
        QTest::newRow("json and csv") << QStringList {QStringLiteral("--json"), QStringLiteral("--csv")} << 2
                                      << QStringLiteral("choose one");
        QTest::newRow("send option") << QStringList {QStringLiteral("--ttl"), QStringLiteral("5")} << 2
                                     << QStringLiteral("not an option of history");
        QTest::newRow("text without words") << QStringList {QStringLiteral("--text"), QStringLiteral("{}")}
                                            << 2 << QStringLiteral("at least one word");
    }

    void badInput()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, says);
        const Run r = history(args);
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY2(r.err.contains(says.toUtf8()), r.err.constData());
    }

    void unknownProfileHasNoHistory()
    {
        const Run r = run({QStringLiteral("history"), QStringLiteral("--profile"), QStringLiteral("Nobody")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("no history"), r.err.constData());
    }

    void newerHistoryIsRefusedUntouched()
    {
        const QString path = m_home.filePath(QStringLiteral("newer.sqlite"));
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("newer"));
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version=%1").arg(history::kSchemaVersion + 5)));
            QVERIFY(q.exec(QStringLiteral("CREATE TABLE t (x)")));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("newer"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray before = file.readAll();
        file.close();
        const Run r = run({QStringLiteral("history"), QStringLiteral("--file"), path});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("newer version"), r.err.constData());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), before);
    }

    void exportImportRoundTrip()
    {
        // An export (history --json) imports into a new history whose export is the same.
        const Run exported = history({QStringLiteral("--json"), QStringLiteral("--limit"), QStringLiteral("0")});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        QVERIFY(exported.lines.size() >= 7); // 4 sent, 3 receipts
        const QString case1 = m_home.filePath(QStringLiteral("case.jsonl"));
        {
            QFile file(case1);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(exported.out);
        }
        const QString imported = m_home.filePath(QStringLiteral("case.sqlite"));
        Run r = run({QStringLiteral("history"), QStringLiteral("--import"), case1, QStringLiteral("--file"),
            imported, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.lines.size(), 1);
        QCOMPARE(r.lines.first().value(QLatin1String("imported")).toInt(), exported.lines.size());
        QCOMPARE(r.lines.first().value(QLatin1String("path")).toString(), imported);
        r = run({QStringLiteral("history"), QStringLiteral("--file"), imported, QStringLiteral("--json"),
            QStringLiteral("--limit"), QStringLiteral("0")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.out, exported.out);
        // Searchable like any history, words in the data included.
        r = run({QStringLiteral("history"), QStringLiteral("--file"), imported, QStringLiteral("--json"),
            QStringLiteral("--text"), QStringLiteral("soup")});
        QCOMPARE(r.lines.size(), 1);
        QCOMPARE(r.lines.first().value(QLatin1String("message_id")).toString(), m_nacked);
        // A file is never overwritten by an import.
        const QByteArray before = [&] {
            QFile f(imported);
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        }();
        r = run({QStringLiteral("history"), QStringLiteral("--import"), case1, QStringLiteral("--file"), imported});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("never overwrites"), r.err.constData());
        QFile f(imported);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), before);
    }

    void importReportsBrokenLinesByNumber()
    {
        const Run exported = history({QStringLiteral("--json"), QStringLiteral("--kind"), QStringLiteral("downstream")});
        QCOMPARE(exported.lines.size(), 4);
        const QList<QByteArray> good = exported.out.trimmed().split('\n');
        const QString broken = m_home.filePath(QStringLiteral("broken.jsonl"));
        {
            QFile file(broken);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(good.at(0) + "\n");
            file.write("{\"kind\":\"downstream\",\"message_id\": truncated\n"); // line 2
            file.write(good.at(1) + "\n");
            file.write("\n"); // line 4: blank, skipped
            file.write("{\"kind\":\"carrier pigeon\",\"message_id\":\"x\",\"at_ms\":1}\n"); // line 5
            file.write(good.at(2) + "\n");
            file.write(good.at(2) + "\n"); // line 7: the same message again
            file.write("[1,2,3]\n"); // line 8
            file.write(good.at(3)); // no newline at the end
        }
        const QString imported = m_home.filePath(QStringLiteral("broken.sqlite"));
        Run r = run({QStringLiteral("history"), QStringLiteral("--import"), broken, QStringLiteral("--file"), imported});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("broken.jsonl:2: not imported: not JSON"), r.err.constData());
        QVERIFY2(r.err.contains("broken.jsonl:5: not imported: \"kind\""), r.err.constData());
        QVERIFY2(r.err.contains("broken.jsonl:7: not imported: the same message"), r.err.constData());
        QVERIFY2(r.err.contains("broken.jsonl:8: not imported: not a JSON object"), r.err.constData());
        QVERIFY2(!r.err.contains("broken.jsonl:4:"), r.err.constData());
        QVERIFY2(r.err.contains("4 message(s) imported, 4 line(s) not"), r.err.constData());
        r = run({QStringLiteral("history"), QStringLiteral("--file"), imported, QStringLiteral("--json")});
        QCOMPARE(r.lines.size(), 4);
        QCOMPARE(r.out, exported.out);
        // Usage: an import is not a search.
        r = run({QStringLiteral("history"), QStringLiteral("--import"), broken, QStringLiteral("--to"), QStringLiteral("x")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("takes no --to"), r.err.constData());
    }

    // Last: it adds to the history the filters above count.
    void replayResendsWithNewIds()
    {
        const Run found
            = history({QStringLiteral("--json"), QStringLiteral("--text"), QStringLiteral("pizza")});
        QCOMPARE(found.lines.size(), 3);
        const QString path = m_home.filePath(QStringLiteral("case.jsonl"));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            const QList<QByteArray> lines = found.out.trimmed().split('\n');
            file.write(lines.at(0) + "\n{\"broken\": \n" + lines.at(1) + "\n"
                + R"({"kind":"upstream","message_id":"1","token":"dev-1"})" + "\n" + lines.at(2) + "\n");
        }
        const Run r = run({QStringLiteral("replay"), path, QStringLiteral("--json"),
            QStringLiteral("--profile"), kProfile, QStringLiteral("--wait-receipts"), QStringLiteral("10")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QStringList acked;
        bool reported = false;
        for (const QJsonObject &o : r.lines) {
            const QString event = o.value(QLatin1String("event")).toString();
            if (event == QLatin1String("ack"))
                acked << o.value(QLatin1String("message_id")).toString();
            if (event == QLatin1String("error")
                && o.value(QLatin1String("error_description")).toString().contains(QLatin1String("line 2")))
                reported = true;
        }
        QVERIFY2(reported, r.out.constData());
        QCOMPARE(acked.size(), 3);
        for (const QString &id : std::as_const(acked))
            QVERIFY(!m_sent.contains(id)); // new ids
        // The same payloads, now twice in the history.
        const Run again
            = history({QStringLiteral("--json"), QStringLiteral("--text"), QStringLiteral("pizza")});
        QCOMPARE(again.lines.size(), 6);
        QCOMPARE(again.lines.first().value(QLatin1String("request")).toObject().value(QLatin1String("data")),
            found.lines.first().value(QLatin1String("request")).toObject().value(QLatin1String("data")));
        // A file without anything to replay is a usage error that names the broken line.
        const QString bad = m_home.filePath(QStringLiteral("bad.jsonl"));
        {
            QFile file(bad);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("\nnot json\n");
        }
        const Run none = run({QStringLiteral("replay"), bad, QStringLiteral("--profile"), kProfile});
        QCOMPARE(none.exitCode, 2);
        QVERIFY2(none.err.contains("line 2"), none.err.constData());
    }

    void cleanupTestCase()
    {
        m_emu.reset();
    }
};

QTEST_GUILESS_MAIN(TestCcsctlHistory)
#include "tst_ccsctl_history.moc"
