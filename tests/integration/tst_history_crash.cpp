// Bad days for the history: kill -9 while it is being written (the file passes
// integrity_check and keeps every batch the writer reported committed), and a
// full disk (reported, nothing committed lost, written once there is room).
#include "client/MessageLedger.h"
#include "history/HistoryRecorder.h"
#include "history/HistoryStore.h"
#include "history/HistoryWriter.h"

#include <QDir>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace ccs::history;

class TestHistoryCrash : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void killDuringWritesLosesAtMostTheLastBatch()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("crash.sqlite"));
        QProcess child;
        child.setProcessChannelMode(QProcess::SeparateChannels);
        const int rate = 20000;
        child.start(QStringLiteral(HISTORY_CRASH_WRITER_PATH),
            {path, QStringLiteral("100000"), QString::number(rate)});
        QVERIFY2(child.waitForStarted(10000), qPrintable(child.errorString()));

        qint64 committed = -1, fed = 0;
        QByteArray buffer;
        auto readLines = [&] {
            buffer += child.readAllStandardOutput();
            int newline;
            while ((newline = buffer.indexOf('\n')) >= 0) {
                const QByteArray line = buffer.left(newline);
                buffer.remove(0, newline + 1);
                if (line.startsWith("committed "))
                    committed = line.mid(10).toLongLong();
                else if (line.startsWith("fed "))
                    fed = line.mid(4).toLongLong();
            }
        };
        // Kill it once a good part is written but well before the end.
        QTRY_VERIFY_WITH_TIMEOUT(
            (readLines(), committed >= 30000 || child.state() != QProcess::Running), 120000);
        QVERIFY2(child.state() == QProcess::Running, child.readAllStandardError().constData());
        QVERIFY2(fed < 100000, "the child finished before it could be killed");
        child.kill(); // SIGKILL
        QVERIFY(child.waitForFinished(10000));
        readLines();
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);

        HistoryStore store;
        QVERIFY2(store.open(path).ok(), qPrintable(store.lastError()));
        QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("count"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY(q.exec(QStringLiteral(
                    "SELECT count(*), max(CAST(substr(message_id, 3) AS INTEGER)) FROM downstream"))
            && q.next());
        const qint64 rows = q.value(0).toLongLong();
        const qint64 highest = q.value(1).toLongLong();
        // Nothing reported committed is missing, and what is there has no holes.
        QVERIFY2(
            rows >= committed, qPrintable(QStringLiteral("rows %1, committed %2").arg(rows).arg(committed)));
        QCOMPARE(highest, rows - 1);
        qInfo("killed after %lld messages fed (last seen), %lld reported committed, %lld in the file: "
              "%lld messages (%.0f ms at %d/s) not yet written",
            fed, committed, rows, std::max<qint64>(0, fed - rows),
            std::max<qint64>(0, fed - rows) * 1000.0 / rate, rate);
        q.finish();
        // The file takes new writes after the crash.
        QVERIFY(q.exec(
            QStringLiteral("INSERT INTO connection_event (session_id, at_ms, state) VALUES (0, 1, 'x')")));
    }

    void fullDiskIsReportedAndNothingCommittedIsLost()
    {
        if (::geteuid() != 0)
            QSKIP("mounting a small tmpfs needs root");
        QTemporaryDir dir;
        const QString mountPoint = dir.filePath(QStringLiteral("small"));
        QVERIFY(QDir().mkpath(mountPoint));
        if (QProcess::execute(QStringLiteral("mount"),
                {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                    QStringLiteral("size=1m"), QStringLiteral("tmpfs"), mountPoint})
            != 0)
            QSKIP("cannot mount a tmpfs here");
        struct Unmount {
            QString path;
            ~Unmount() { QProcess::execute(QStringLiteral("umount"), {path}); }
        } unmount {mountPoint};

        // Ballast takes most of the room; removing it later makes room again.
        const QString ballast = mountPoint + QStringLiteral("/ballast");
        {
            QFile file(ballast);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QByteArray(400 * 1024, 'b'));
        }
        const QString path = mountPoint + QStringLiteral("/full.sqlite");
        qint64 committedBeforeFull = 0;
        int added = 0;
        {
            HistoryWriter writer;
            QVERIFY(writer.open(path, {}).ok());
            QSignalSpy failed(&writer, &HistoryWriter::writeFailed);
            QSignalSpy recovered(&writer, &HistoryWriter::writeRecovered);
            ccs::MessageLedger ledger;
            HistoryRecorder recorder(&writer);
            recorder.attachLedger(&ledger);
            const QString filler(1500, QLatin1Char('x'));
            while (failed.isEmpty() && added < 5000) {
                for (int i = 0; i < 20; ++i, ++added) {
                    ccs::DownstreamMessage m;
                    m.to = QStringLiteral("dev");
                    m.messageId = QStringLiteral("m-%1").arg(added);
                    m.data = QJsonObject {{QStringLiteral("filler"), filler}};
                    ledger.add(m);
                }
                committedBeforeFull = writer.committedRecords();
                writer.flush();
            }
            QVERIFY2(!failed.isEmpty(), "the disk never filled");
            const QString message = failed.first().first().toString();
            QVERIFY2(message.contains(QLatin1String("full"), Qt::CaseInsensitive), qPrintable(message));
            {
                HistoryStore store;
                QVERIFY2(store.open(path, true).ok(), qPrintable(store.lastError()));
                QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));
                QVERIFY(store.stats().downstream >= committedBeforeFull);
            }
            // Room again: the batches that waited are written.
            QVERIFY(QFile::remove(ballast));
            QTRY_VERIFY_WITH_TIMEOUT(!recovered.isEmpty(), 30000);
            writer.flush();
        }
        HistoryStore store;
        QVERIFY(store.open(path).ok());
        QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));
        QCOMPARE(store.stats().downstream, qint64(added));
    }
};

QTEST_GUILESS_MAIN(TestHistoryCrash)
#include "tst_history_crash.moc"
