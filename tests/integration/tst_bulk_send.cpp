#include "SessionTestSupport.h"
#include "client/BulkSendJob.h"

using namespace ccs;
using namespace ccs::test;

// "Send copies" on the session's side: N copies, each with its own id, no
// faster than the windows take them, answered, counted and cancellable.
class TestBulkSend : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void copiesAreSentAnsweredAndCounted()
    {
        emulator::EmulatorConfig config = TestEmulator::defaultConfig();
        config.strictWindow = true; // the emulator disconnects a client that goes past the window
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        CcsSession session;
        CCS_OPEN_SESSION(session, emu.clientSettings());
        BulkSendJob job(&session);
        int deepestQueue = 0;
        connect(session.ledger(), &MessageLedger::entryAdded, this,
            [&] { deepestQueue = std::max(deepestQueue, session.queueLength()); });
        QSignalSpy progress(&job, &BulkSendJob::progressChanged);
        QSignalSpy finished(&job, &BulkSendJob::finished);
        constexpr int kCopies = 3000;
        QVERIFY(job.start(downstream(QStringLiteral("dev-1"), QStringLiteral("template-id")), kCopies));
        QVERIFY(job.isRunning());
        QVERIFY(!job.start(downstream(), 5)); // one job at a time
        // The queue is kept a few windows deep, never all 3,000 at once.
        QVERIFY2(session.queueLength() <= job.queueDepth(), qPrintable(QString::number(session.queueLength())));

        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(finished.first().at(0).toInt(), kCopies);
        QCOMPARE(finished.first().at(1).toInt(), 0);
        QVERIFY(!job.isRunning());
        QCOMPARE(job.answered(), kCopies);
        QCOMPARE(job.submitted(), kCopies);
        QVERIFY(progress.count() >= 2);
        QCOMPARE(progress.last().at(0).toInt(), kCopies);
        QVERIFY2(deepestQueue <= job.queueDepth(), qPrintable(QString::number(deepestQueue)));

        // Each copy has its own id; the server saw each once and the window was respected.
        QCOMPARE(session.ledger()->size(), kCopies);
        QSet<QString> ids;
        for (int i = 0; i < kCopies; ++i)
            ids.insert(session.ledger()->at(i).message.messageId);
        QCOMPARE(ids.size(), kCopies);
        QVERIFY(!ids.contains(QStringLiteral("template-id")));
        const auto record = recordById(emu.server());
        QCOMPARE(record.size(), kCopies);
        QCOMPARE(emu.server()->counters().windowViolations, 0);
        QCOMPARE(emu.server()->counters().duplicateDownstream, 0);
    }

    void cancelWithdrawsQueuedAndCountsTheRest()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session; // not connected: every copy handed over waits in the queue
        session.setSettings(emu.clientSettings());
        BulkSendJob job(&session);
        QSignalSpy finished(&job, &BulkSendJob::finished);
        constexpr int kCopies = 100000;
        QVERIFY(job.start(downstream(), kCopies));
        QTRY_COMPARE(session.queueLength(), job.queueDepth());
        for (int i = 0; i < 5; ++i)
            QCoreApplication::processEvents(); // no more while the queue stays full
        QCOMPARE(session.queueLength(), job.queueDepth());
        QCOMPARE(job.submitted(), job.queueDepth());
        job.cancel();
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.first().at(0).toInt(), 0);
        QCOMPARE(finished.first().at(1).toInt(), kCopies);
        QCOMPARE(session.queueLength(), 0);
        QCOMPARE(session.ledger()->count(MessageState::Cancelled), job.queueDepth());
        QVERIFY(!job.isRunning());
    }

    void cancelMidwayLetsInFlightCopiesFinish()
    {
        emulator::EmulatorConfig config = TestEmulator::defaultConfig();
        config.faults.ackDelayMs = 30; // answers lag: copies are in flight when Cancel comes
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        CcsSession session;
        CCS_OPEN_SESSION(session, emu.clientSettings());
        BulkSendJob job(&session);
        QSignalSpy finished(&job, &BulkSendJob::finished);
        constexpr int kCopies = 5000;
        QVERIFY(job.start(downstream(QStringLiteral("dev-2")), kCopies));
        QTRY_VERIFY(session.connections().first().pending > 0);
        job.cancel();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
        const int answered = finished.first().at(0).toInt();
        const int cancelled = finished.first().at(1).toInt();
        QCOMPARE(answered + cancelled, kCopies);
        QVERIFY(answered > 0);
        QVERIFY(cancelled > 0);
        QTRY_COMPARE(terminalCount(session.ledger()), session.ledger()->size());
        QCOMPARE(ackedCount(session.ledger()), answered);
    }
};

QTEST_GUILESS_MAIN(TestBulkSend)
#include "tst_bulk_send.moc"
