#include "SessionTestSupport.h"

using namespace ccs;
using namespace ccs::test;

// Upstream messages and receipts: ACKed at once on their own connection (with
// the receipt's own dr2: id), de-duplicated, delivered to the inbox once.
class TestSessionUpstream : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void upstreamIsAckedAndDelivered()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        QSignalSpy inbox(&session, &CcsSession::upstreamReceived);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        const QString id = emu.server()->sendUpstream(
            QStringLiteral("dev-2"), {{QStringLiteral("k"), QStringLiteral("v")}});
        QTRY_COMPARE_WITH_TIMEOUT(inbox.count(), 1, 5000);
        const UpstreamMessage m = inbox.at(0).at(0).value<UpstreamMessage>();
        QCOMPARE(m.messageId, id);
        QCOMPARE(m.from, QStringLiteral("dev-2"));
        QVERIFY(!m.category.isEmpty());
        QCOMPARE(m.data.value(QStringLiteral("k")).toString(), QStringLiteral("v"));
        QVERIFY(inbox.at(0).at(2).toLongLong() > 0);
        QTRY_VERIFY_WITH_TIMEOUT(upstreamById(emu.server()).value(id).acked, 5000);
        const auto r = upstreamById(emu.server()).value(id);
        QCOMPARE(r.ackCount, 1);
        QCOMPARE(r.ackedOnConnection, r.deliveredOnConnections.constFirst());
        QCOMPARE(emu.server()->counters().badAcks, 0);
    }

    void redeliveredUpstreamReachesTheInboxOnceAndIsAckedEveryTime()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        QSignalSpy inbox(&session, &CcsSession::upstreamReceived);
        QSignalSpy duplicates(&session, &CcsSession::duplicateReceived);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        emu.server()->redeliverNextUpstream();
        const QString id = emu.server()->sendUpstream(
            QStringLiteral("dev-1"), {{QStringLiteral("n"), QStringLiteral("1")}});
        QTRY_COMPARE_WITH_TIMEOUT(upstreamById(emu.server()).value(id).ackCount, 2, 5000);
        QCOMPARE(upstreamById(emu.server()).value(id).timesDelivered, 2);
        QCOMPARE(inbox.count(), 1);
        QCOMPARE(duplicates.count(), 1);
        QCOMPARE(duplicates.at(0).at(0).toString(), id);
        QCOMPARE(duplicates.at(0).at(1).toInt(), 2);
    }

    void duplicatesAcrossConnectionsAreDeliveredOnce()
    {
        emulator::EmulatorConfig config = TestEmulator::defaultConfig();
        config.faults.duplicateUpstreamShare = 1.0;
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        ConnectionSettings settings = emu.clientSettings();
        settings.connectionCount = 2;
        CcsSession session;
        QSignalSpy inbox(&session, &CcsSession::upstreamReceived);
        QSignalSpy duplicates(&session, &CcsSession::duplicateReceived);
        session.setSettings(settings);
        session.open();
        QTRY_COMPARE_WITH_TIMEOUT(emu.server()->openConnections(), 2, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Connected, 10000);
        QTest::qWait(100);
        QStringList ids;
        for (int i = 0; i < 20; ++i)
            ids.append(emu.server()->sendUpstream(
                QStringLiteral("dev-%1").arg(1 + i % 3), {{QStringLiteral("i"), QString::number(i)}}));
        QTRY_COMPARE_WITH_TIMEOUT(duplicates.count(), 20, 10000);
        QCOMPARE(inbox.count(), 20);
        QSet<QString> delivered;
        for (const auto &args : inbox)
            delivered.insert(args.at(0).value<UpstreamMessage>().messageId);
        QCOMPARE(delivered.size(), 20);
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(ids.begin(), ids.end(),
                [&](const QString &id) { return upstreamById(emu.server()).value(id).ackCount == 2; }),
            5000);
        for (const auto &r : emu.server()->upstreamRecord())
            QVERIFY(r.deliveredOnConnections.contains(r.ackedOnConnection));
        QCOMPARE(emu.server()->counters().badAcks, 0);
    }

    void receiptsAreAckedWithTheirDr2Ids()
    {
        emulator::EmulatorConfig config = TestEmulator::defaultConfig();
        config.receiptDelayMs = 20;
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        CcsSession session;
        QSignalSpy receipts(&session, &CcsSession::receiptReceived);
        QSignalSpy inbox(&session, &CcsSession::upstreamReceived);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        QStringList ids;
        for (int i = 0; i < 10; ++i) {
            DownstreamMessage m = downstream(QStringLiteral("dev-3"));
            m.deliveryReceiptRequested = true;
            ids.append(m.messageId);
            QVERIFY(session.send(m));
        }
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->count(MessageState::Delivered), 10, 10000);
        QCOMPARE(receipts.count(), 10);
        QCOMPARE(inbox.count(), 0); // receipts are not upstream messages
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(ids.begin(), ids.end(),
                [&](const QString &id) {
                    return upstreamById(emu.server()).value(QStringLiteral("dr2:") + id).acked;
                }),
            5000);
        const auto up = upstreamById(emu.server());
        const auto down = recordById(emu.server());
        for (const QString &id : ids) {
            const auto r = up.value(QStringLiteral("dr2:") + id);
            QVERIFY(r.isReceipt);
            QCOMPARE(r.ackCount, 1);
            QCOMPARE(r.ackedOnConnection, r.deliveredOnConnections.constFirst());
            QVERIFY(down.value(id).receiptAcked);
            // Not ACKed under the original id (one client library strips dr2:).
            QVERIFY(!up.value(id).acked);
        }
        QCOMPARE(emu.server()->counters().badAcks, 0);
    }
};

QTEST_GUILESS_MAIN(TestSessionUpstream)
#include "tst_session_upstream.moc"
