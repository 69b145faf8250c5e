#include "SessionTestSupport.h"

using namespace ccs;
using namespace ccs::test;

// NACKs: retryable ones are retried with back-off from 1 s, final ones never,
// CONNECTION_DRAINING at once on another connection, and no retry outlives time_to_live.
class TestSessionRetry : public QObject
{
    Q_OBJECT

private:
    static emulator::FaultSchedule nackAll(NackCode code)
    {
        emulator::FaultSchedule faults;
        faults.nackShare = 1.0;
        faults.nackCode = code;
        return faults;
    }

    static qint64 timeOf(const LedgerEntry &e, MessageState state, int occurrence = 1)
    {
        int seen = 0;
        for (const auto &t : e.history)
            if (t.state == state && ++seen == occurrence)
                return t.atMs;
        return -1;
    }

private Q_SLOTS:
    void retryableNacksAreRetriedAfterABackoff_data()
    {
        QTest::addColumn<NackCode>("code");
        QTest::newRow("SERVICE_UNAVAILABLE") << NackCode::ServiceUnavailable;
        QTest::newRow("INTERNAL_SERVER_ERROR") << NackCode::InternalServerError;
    }
    void retryableNacksAreRetriedAfterABackoff()
    {
        QFETCH(NackCode, code);
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        CCS_OPEN_SESSION(session, emu.clientSettings());
        emu.server()->setFaults(nackAll(code));
        QStringList ids;
        for (int i = 0; i < 5; ++i) {
            const DownstreamMessage m = downstream();
            ids.append(m.messageId);
            QVERIFY(session.send(m));
        }
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->count(MessageState::RetryWaiting), 5, 5000);
        emu.server()->setFaults({}); // the server recovers
        QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 5, 10000);

        const auto record = recordById(emu.server());
        for (const QString &id : ids) {
            const LedgerEntry &e = *session.ledger()->find(id);
            QCOMPARE(e.retries, 1);
            QCOMPARE(e.attempts, 2);
            QCOMPARE(e.nackCode, code);
            // The retry waited about 1 s after the NACK, not less.
            const qint64 waited
                = timeOf(e, MessageState::InFlight, 2) - timeOf(e, MessageState::RetryWaiting);
            QVERIFY2(waited >= 950, qPrintable(QString::number(waited)));
            QCOMPARE(record.value(id).timesReceived, 2);
            QCOMPARE(record.value(id).verdict, QStringLiteral("ack"));
        }
    }

    void backoffDoublesAndGivesUpAtMaxRetries()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        ConnectionSettings settings = emu.clientSettings();
        settings.maxRetries = 2;
        CcsSession session;
        CCS_OPEN_SESSION(session, settings);
        emu.server()->setFaults(nackAll(NackCode::ServiceUnavailable));
        const DownstreamMessage m = downstream();
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->find(m.messageId)->state, MessageState::Nacked, 8000);
        const LedgerEntry &e = *session.ledger()->find(m.messageId);
        QCOMPARE(e.retries, 2);
        QCOMPARE(e.attempts, 3);
        const qint64 first = timeOf(e, MessageState::InFlight, 2) - timeOf(e, MessageState::RetryWaiting, 1);
        const qint64 second = timeOf(e, MessageState::InFlight, 3) - timeOf(e, MessageState::RetryWaiting, 2);
        QVERIFY2(first >= 950 && second >= 1950, qPrintable(QStringLiteral("%1 %2").arg(first).arg(second)));
        QCOMPARE(recordById(emu.server()).value(m.messageId).timesReceived, 3);
    }

    void finalNacksAreNeverRetried_data()
    {
        QTest::addColumn<QString>("to");
        QTest::addColumn<NackCode>("code");
        QTest::newRow("DEVICE_UNREGISTERED")
            << QStringLiteral("dev-unregistered") << NackCode::DeviceUnregistered;
        QTest::newRow("BAD_REGISTRATION") << QStringLiteral("no-such-token") << NackCode::BadRegistration;
    }
    void finalNacksAreNeverRetried()
    {
        QFETCH(QString, to);
        QFETCH(NackCode, code);
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        CCS_OPEN_SESSION(session, emu.clientSettings());
        const DownstreamMessage m = downstream(to);
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->find(m.messageId)->state, MessageState::Nacked, 5000);
        const LedgerEntry &e = *session.ledger()->find(m.messageId);
        QCOMPARE(e.nackCode, code);
        QCOMPARE(e.nackText, NackCatalogue::name(code));
        QVERIFY(!e.errorDescription.isEmpty());
        QTest::qWait(1500); // longer than the first back-off
        QCOMPARE(recordById(emu.server()).value(m.messageId).timesReceived, 1);
        QCOMPARE(session.ledger()->find(m.messageId)->retries, 0);
    }

    void rateExceededWaitsLonger()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        CCS_OPEN_SESSION(session, emu.clientSettings());
        emu.server()->setFaults(nackAll(NackCode::DeviceMessageRateExceeded));
        const DownstreamMessage m = downstream();
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(
            session.ledger()->find(m.messageId)->state, MessageState::RetryWaiting, 5000);
        emu.server()->setFaults({});
        QTest::qWait(2500); // a SERVICE_UNAVAILABLE retry would have gone twice by now
        QCOMPARE(session.ledger()->find(m.messageId)->state, MessageState::RetryWaiting);
        QCOMPARE(recordById(emu.server()).value(m.messageId).timesReceived, 1);
        // Withdrawn while waiting: never sent again.
        QVERIFY(session.cancel(m.messageId));
        QCOMPARE(session.ledger()->find(m.messageId)->state, MessageState::Cancelled);
    }

    void noRetryOutlivesTimeToLive_data()
    {
        QTest::addColumn<qint64>("ttl");
        QTest::addColumn<int>("expectedReceptions");
        QTest::newRow("ttl 0: no retry") << qint64(0) << 1;
        QTest::newRow("ttl 1: the 1 s retry would outlive it") << qint64(1) << 1;
        QTest::newRow("ttl 3: one retry, not the 2 s one") << qint64(3) << 2;
    }
    void noRetryOutlivesTimeToLive()
    {
        QFETCH(qint64, ttl);
        QFETCH(int, expectedReceptions);
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        CCS_OPEN_SESSION(session, emu.clientSettings());
        emu.server()->setFaults(nackAll(NackCode::ServiceUnavailable));
        DownstreamMessage m = downstream();
        m.timeToLive = ttl;
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->find(m.messageId)->state, MessageState::Expired, 8000);
        QCOMPARE(recordById(emu.server()).value(m.messageId).timesReceived, expectedReceptions);
        const LedgerEntry &e = *session.ledger()->find(m.messageId);
        QVERIFY(e.history.constLast().atMs <= e.queuedAtMs + ttl * 1000 + 100);
    }

    void connectionDrainingNackGoesAtOnceToAnotherConnection()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        CCS_OPEN_SESSION(session, emu.clientSettings());
        const int first = session.connections().first().id;
        emu.server()->setFaults(nackAll(NackCode::ConnectionDraining));
        // Recover as soon as the NACK is seen, so the new connection gets a normal server.
        connect(
            session.ledger(), &MessageLedger::entryChanged, this, [&emu](int, MessageState, MessageState to) {
                if (to == MessageState::RetryWaiting)
                    emu.server()->setFaults({});
            });
        const DownstreamMessage m = downstream();
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->find(m.messageId)->state, MessageState::Acked, 5000);
        const LedgerEntry &e = *session.ledger()->find(m.messageId);
        QCOMPARE(e.attempts, 2);
        QVERIFY(e.connectionId != first);
        // At once: no back-off between the NACK and the resend beyond connecting.
        QVERIFY(timeOf(e, MessageState::InFlight, 2) - timeOf(e, MessageState::RetryWaiting) < 1000);
        const auto record = recordById(emu.server()).value(m.messageId);
        QCOMPARE(record.timesReceived, 2);
        QVERIFY(record.connectionIds.at(0) != record.connectionIds.at(1));
    }

    void everyMessageEndsInOneTerminalState()
    {
        emulator::EmulatorConfig config = TestEmulator::defaultConfig();
        config.faults.nackShare = 0.3;
        config.faults.nackCode = NackCode::InternalServerError;
        config.faults.dropEveryStanzas = 170;
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        CcsSession session;
        CCS_OPEN_SESSION(session, emu.clientSettings());
        QList<int> terminalTransitions(300, 0);
        connect(session.ledger(), &MessageLedger::entryChanged, this,
            [&](int index, MessageState from, MessageState to) {
                if (isTerminal(to) && !(from == MessageState::Acked && to == MessageState::Delivered))
                    ++terminalTransitions[index];
            });
        const QStringList targets {
            QStringLiteral("dev-1"), QStringLiteral("dev-unregistered"), QStringLiteral("dev-2")};
        for (int i = 0; i < 300; ++i)
            QVERIFY(session.send(downstream(targets.at(i % 3))));
        QTRY_VERIFY_WITH_TIMEOUT(session.ledger()->count(MessageState::RetryWaiting) > 0, 5000);
        QTest::qWait(200);
        emu.server()->setFaults({}); // retries succeed from now on
        QTRY_COMPARE_WITH_TIMEOUT(terminalCount(session.ledger()), 300, 20000);
        for (int i = 0; i < 300; ++i)
            QCOMPARE(terminalTransitions.at(i), 1);
        QCOMPARE(session.ledger()->count(MessageState::Nacked), 100); // the unregistered device
        QCOMPARE(ackedCount(session.ledger()), 200);
        // The server saw each message at most as often as it was written, and only
        // retries after a NACK came twice on one connection.
        const auto record = recordById(emu.server());
        int retries = 0;
        for (int i = 0; i < 300; ++i) {
            const LedgerEntry &e = session.ledger()->at(i);
            retries += e.retries;
            // Messages queued for a token CCS had already unregistered are not sent.
            if (e.message.to != QLatin1String("dev-unregistered"))
                QVERIFY(record.value(e.message.messageId).timesReceived >= 1);
            QVERIFY(record.value(e.message.messageId).timesReceived <= e.attempts);
        }
        QVERIFY(retries > 0);
        QVERIFY(emu.server()->counters().duplicateDownstream <= retries);
    }
};

QTEST_GUILESS_MAIN(TestSessionRetry)
#include "tst_session_retry.moc"
