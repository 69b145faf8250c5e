#include "SessionTestSupport.h"

using namespace ccs;
using namespace ccs::test;

// Flow control: the 100-message window per connection, the ordered queue,
// ACKs that bypass the window, and several connections.
class TestSessionFlow : public QObject
{
    Q_OBJECT

private:
    static emulator::EmulatorConfig strictConfig()
    {
        emulator::EmulatorConfig config = TestEmulator::defaultConfig();
        config.strictWindow = true; // the emulator disconnects a client that goes past 100
        config.receiptDelayMs = 50;
        return config;
    }

private Q_SLOTS:
    void burstOf1000NeverExceeds100Pending()
    {
        emulator::EmulatorConfig config = strictConfig();
        config.faults.ackDelayMs = 20; // answers lag, so the window really fills
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        CcsSession session;
        int maxPendingSeenByClient = 0;
        connect(session.ledger(), &MessageLedger::entryChanged, this, [&](int, MessageState, MessageState) {
            for (const auto &c : session.connections())
                maxPendingSeenByClient = std::max(maxPendingSeenByClient, c.pending);
        });
        CCS_OPEN_SESSION(session, emu.clientSettings());
        QStringList ids;
        for (int i = 0; i < 1000; ++i) {
            const DownstreamMessage m = downstream(QStringLiteral("dev-%1").arg(1 + i % 3));
            ids.append(m.messageId);
            QVERIFY(session.send(m));
        }
        // The queue holds what the window does not.
        QCOMPARE(session.connections().first().pending, 100);
        QCOMPARE(session.queueLength(), 900);
        QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 1000, 30000);

        const auto counters = emu.server()->counters();
        QCOMPARE(counters.windowViolations, 0);
        QVERIFY2(counters.maxPendingSeen <= 100, qPrintable(QString::number(counters.maxPendingSeen)));
        QCOMPARE(counters.maxPendingSeen, 100); // and the window was used
        QCOMPARE(maxPendingSeenByClient, 100);
        QCOMPARE(counters.duplicateDownstream, 0);
        QCOMPARE(counters.connectionsAccepted, 1);
        // Every message reached the server once, in the order it was accepted.
        const auto record = emu.server()->downstreamRecord();
        QCOMPARE(record.size(), 1000);
        for (int i = 0; i < 1000; ++i) {
            QCOMPARE(record.at(i).messageId, ids.at(i));
            QCOMPARE(record.at(i).timesReceived, 1);
        }
    }

    void lowerWindowIsHonoured()
    {
        TestEmulator emu(strictConfig());
        CCS_START_EMULATOR(emu);
        ConnectionSettings settings = emu.clientSettings();
        settings.windowSize = 7;
        CcsSession session;
        CCS_OPEN_SESSION(session, settings);
        for (int i = 0; i < 200; ++i)
            QVERIFY(session.send(downstream()));
        QCOMPARE(session.connections().first().window, 7);
        QCOMPARE(session.connections().first().pending, 7);
        QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 200, 20000);
        QVERIFY(emu.server()->counters().maxPendingSeen <= 7);
    }

    void higherWindowIsClampedTo100()
    {
        TestEmulator emu(strictConfig());
        CCS_START_EMULATOR(emu);
        ConnectionSettings settings = emu.clientSettings();
        settings.windowSize = 1000;
        CcsSession session;
        CCS_OPEN_SESSION(session, settings);
        for (int i = 0; i < 300; ++i)
            QVERIFY(session.send(downstream()));
        QCOMPARE(session.connections().first().pending, 100);
        QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 300, 20000);
        QCOMPARE(emu.server()->counters().windowViolations, 0);
        QVERIFY(emu.server()->counters().maxPendingSeen <= 100);
    }

    void acksKeepFlowingWhileTheWindowIsFull()
    {
        emulator::EmulatorConfig config = strictConfig();
        config.faults.ackDelayMs = 3000; // the server sits on our 100 messages
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        CcsSession session;
        QSignalSpy upstream(&session, &CcsSession::upstreamReceived);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        for (int i = 0; i < 150; ++i)
            QVERIFY(session.send(downstream()));
        QCOMPARE(session.connections().first().pending, 100);

        QStringList upIds;
        for (int i = 0; i < 5; ++i)
            upIds.append(emu.server()->sendUpstream(
                QStringLiteral("dev-2"), {{QStringLiteral("n"), QString::number(i)}}));
        QTRY_COMPARE_WITH_TIMEOUT(upstream.count(), 5, 2500);
        // ACKed while every slot of the window was still taken.
        const auto up = upstreamById(emu.server());
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(upIds.begin(), upIds.end(),
                [&](const QString &id) {
                    return upstreamById(emu.server()).value(upstreamKey(QStringLiteral("dev-2"), id)).acked;
                }),
            2500);
        QCOMPARE(session.connections().first().pending, 100);
        QCOMPARE(ackedCount(session.ledger()), 0);
        QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 150, 20000);
        QCOMPARE(emu.server()->counters().windowViolations, 0);
    }

    void severalConnectionsEachWithItsWindow()
    {
        TestEmulator emu(strictConfig());
        CCS_START_EMULATOR(emu);
        ConnectionSettings settings = emu.clientSettings();
        settings.connectionCount = 3;
        CcsSession session;
        session.setSettings(settings);
        session.open();
        const auto authenticatedCount = [&session] {
            const QList<ConnectionStatus> list = session.connections();
            return int(std::count_if(
                list.cbegin(), list.cend(), [](const ConnectionStatus &c) { return c.authenticated; }));
        };
        QTRY_COMPARE_WITH_TIMEOUT(authenticatedCount(), 3, 10000);
        QCOMPARE(emu.server()->openConnections(), 3);
        for (int i = 0; i < 1000; ++i)
            QVERIFY(session.send(downstream()));
        int inFlight = 0;
        for (const auto &c : session.connections()) {
            QCOMPARE(c.pending, 100);
            inFlight += c.pending;
        }
        QCOMPARE(inFlight, 300);
        QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 1000, 30000);
        const auto counters = emu.server()->counters();
        QCOMPARE(counters.windowViolations, 0);
        QVERIFY(counters.maxPendingSeen <= 100);
        QSet<int> used;
        for (const auto &r : emu.server()->downstreamRecord()) {
            QCOMPARE(r.timesReceived, 1);
            used.insert(r.connectionIds.constFirst());
        }
        QCOMPARE(used.size(), 3);
    }
};

QTEST_GUILESS_MAIN(TestSessionFlow)
#include "tst_session_flow.moc"
