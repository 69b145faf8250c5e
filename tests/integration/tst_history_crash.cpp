// kill -9 while the history is being written: the file passes integrity_check
// and keeps every batch the writer reported committed.
#include "history/HistoryStore.h"

#include <QProcess>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

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
        QSqlQuery q(store.database());
        QVERIFY(q.exec(QStringLiteral("PRAGMA integrity_check")) && q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("ok"));
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
};

QTEST_GUILESS_MAIN(TestHistoryCrash)
#include "tst_history_crash.moc"
