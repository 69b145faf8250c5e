#include "SessionTestSupport.h"
#include "client/SessionClock_p.h"

using namespace ccs;
using namespace ccs::test;

// NACKs: retryable ones are retried with back-off from 1 s, final ones never,
// CONNECTION_DRAINING at once on another connection, and no retry outlives time_to_live.
// The back-off and time_to_live run on the session's clock: these tests give it a
// ManualClock and move it by hand, so nothing waits for real and every due time is
// checked to the millisecond (one short of it: nothing; at it: the retry).
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
        ManualClock clock;
        CcsSession session;
        session.setClock(&clock);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        emu.server()->setFaults(nackAll(code));
        QStringList ids;
        for (int i = 0; i < 5; ++i) {
            const DownstreamMessage m = downstream();
            ids.append(m.messageId);
            QVERIFY(session.send(m));
        }
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->count(MessageState::RetryWaiting), 5, 30000);
        // The clock stands still: no retry can go before the server has recovered.
        emu.server()->setFaults({});
        clock.advance(999);
        QCOMPARE(session.ledger()->count(MessageState::RetryWaiting), 5);
        for (const QString &id : ids)
            QCOMPARE(session.ledger()->find(id)->attempts, 1);
        clock.advance(1); // 1 s after the NACK: all five go again
        QCOMPARE(session.ledger()->count(MessageState::RetryWaiting), 0);
        QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 5, 30000);

        const auto record = recordById(emu.server());
        for (const QString &id : ids) {
            const LedgerEntry &e = *session.ledger()->find(id);
            QCOMPARE(e.retries, 1);
            QCOMPARE(e.attempts, 2);
            QCOMPARE(e.nackCode, code);
            QVERIFY(timeOf(e, MessageState::InFlight, 2) >= timeOf(e, MessageState::RetryWaiting));
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
        ManualClock clock;
        CcsSession session;
        session.setClock(&clock);
        CCS_OPEN_SESSION(session, settings);
        emu.server()->setFaults(nackAll(NackCode::ServiceUnavailable));
        const DownstreamMessage m = downstream();
        QVERIFY(session.send(m));
        const auto entry = [&] { return *session.ledger()->find(m.messageId); };
        QTRY_COMPARE_WITH_TIMEOUT(entry().state, MessageState::RetryWaiting, 30000);
        // First back-off: 1 s.
        clock.advance(999);
        QCOMPARE(entry().attempts, 1);
        clock.advance(1);
        QCOMPARE(entry().attempts, 2);
        QTRY_VERIFY_WITH_TIMEOUT(entry().state == MessageState::RetryWaiting && entry().retries == 2, 30000);
        // Second: doubled, 2 s.
        clock.advance(1999);
        QCOMPARE(entry().attempts, 2);
        clock.advance(1);
        QCOMPARE(entry().attempts, 3);
        // The third NACK: maxRetries reached, final.
        QTRY_COMPARE_WITH_TIMEOUT(entry().state, MessageState::Nacked, 30000);
        const LedgerEntry &e = *session.ledger()->find(m.messageId);
        QCOMPARE(e.retries, 2);
        QCOMPARE(e.attempts, 3);
        QVERIFY2(e.history.constLast().detail.contains(QLatin1String("gave up after 2 retries")),
            qPrintable(e.history.constLast().detail));
        clock.advance(3600 * 1000);
        QCOMPARE(entry().attempts, 3);
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
        ManualClock clock;
        CcsSession session;
        session.setClock(&clock);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        const DownstreamMessage m = downstream(to);
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->find(m.messageId)->state, MessageState::Nacked, 30000);
        const LedgerEntry &e = *session.ledger()->find(m.messageId);
        QCOMPARE(e.nackCode, code);
        QCOMPARE(e.nackText, NackCatalogue::name(code));
        QVERIFY(!e.errorDescription.isEmpty());
        clock.advance(3600 * 1000); // far past every back-off: a retry would have been written now
        QCOMPARE(session.ledger()->find(m.messageId)->attempts, 1);
        QCOMPARE(session.ledger()->find(m.messageId)->state, MessageState::Nacked);
        QCOMPARE(recordById(emu.server()).value(m.messageId).timesReceived, 1);
        QCOMPARE(session.ledger()->find(m.messageId)->retries, 0);
    }

    void rateExceededWaitsLonger()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        ManualClock clock;
        CcsSession session;
        session.setClock(&clock);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        emu.server()->setFaults(nackAll(NackCode::DeviceMessageRateExceeded));
        const DownstreamMessage m = downstream();
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(
            session.ledger()->find(m.messageId)->state, MessageState::RetryWaiting, 30000);
        emu.server()->setFaults({});
        const qint64 later = NackCatalogue::retryDelay(RetryClass::Later, 1).count();
        QVERIFY(later > 3000); // a SERVICE_UNAVAILABLE retry would have gone twice by then
        clock.advance(later - 1);
        QCOMPARE(session.ledger()->find(m.messageId)->state, MessageState::RetryWaiting);
        QCOMPARE(session.ledger()->find(m.messageId)->attempts, 1);
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
        ManualClock clock;
        CcsSession session;
        session.setClock(&clock);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        emu.server()->setFaults(nackAll(NackCode::ServiceUnavailable));
        DownstreamMessage m = downstream();
        m.timeToLive = ttl;
        QVERIFY(session.send(m));
        const auto state = [&] { return session.ledger()->find(m.messageId)->state; };
        QTRY_VERIFY_WITH_TIMEOUT(
            state() == MessageState::Expired || state() == MessageState::RetryWaiting, 30000);
        if (expectedReceptions > 1) {
            // One retry fits: 1 s after the NACK, well before the deadline.
            QCOMPARE(state(), MessageState::RetryWaiting);
            clock.advance(1000);
            QTRY_COMPARE_WITH_TIMEOUT(recordById(emu.server()).value(m.messageId).timesReceived, 2, 30000);
        }
        // Expired at the NACK that would need a retry past the deadline, not later.
        QTRY_COMPARE_WITH_TIMEOUT(state(), MessageState::Expired, 30000);
        QCOMPARE(recordById(emu.server()).value(m.messageId).timesReceived, expectedReceptions);
        const LedgerEntry &e = *session.ledger()->find(m.messageId);
        QCOMPARE(e.attempts, expectedReceptions);
        QCOMPARE(e.nackCode, NackCode::ServiceUnavailable);
        QVERIFY2(e.history.constLast().detail.contains(
                     ttl == 0 ? QLatin1String("now or never") : QLatin1String("would outlive time_to_live")),
            qPrintable(e.history.constLast().detail));
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

    // time_to_live runs out on a timer, connected or not: a message waiting for a
    // connection expires at its deadline, not when the queue is next pumped.
    void timeToLiveExpiresWhileDisconnected()
    {
        ManualClock clock;
        CcsSession session; // never opened: no connection at all
        session.setClock(&clock);
        DownstreamMessage shortLived = downstream();
        shortLived.timeToLive = 5;
        DownstreamMessage zero = downstream();
        zero.timeToLive = 0;
        const DownstreamMessage lasting = downstream(); // the 4-week default
        QVERIFY(session.send(shortLived));
        QVERIFY(session.send(zero));
        QVERIFY(session.send(lasting));
        const auto state
            = [&](const DownstreamMessage &m) { return session.ledger()->find(m.messageId)->state; };
        clock.advance(5000); // at the deadline: still valid
        QCOMPARE(state(shortLived), MessageState::Queued);
        clock.advance(1); // past it
        QCOMPARE(state(shortLived), MessageState::Expired);
        QCOMPARE(session.ledger()->find(shortLived.messageId)->history.constLast().detail,
            QStringLiteral("time_to_live ran out in the queue"));
        // time_to_live 0 is "now or never" from the moment CCS gets it: it waits for its first
        // write however long that takes, as the default one does.
        clock.advance(3600 * 1000);
        QCOMPARE(state(zero), MessageState::Queued);
        QCOMPARE(state(lasting), MessageState::Queued);
        QCOMPARE(session.queueLength(), 2);

        // On the real clock too: the timer fires by itself, with no connection and no send.
        CcsSession real;
        DownstreamMessage oneSecond = downstream();
        oneSecond.timeToLive = 1;
        QVERIFY(real.send(oneSecond));
        QCOMPARE(real.ledger()->find(oneSecond.messageId)->state, MessageState::Queued);
        QTRY_COMPARE_WITH_TIMEOUT(
            real.ledger()->find(oneSecond.messageId)->state, MessageState::Expired, 30000);
    }

    // Deadlines of finished messages are dropped from the schedule in bulk: the ones
    // still waiting keep theirs.
    void timeToLiveSurvivesManyFinishedMessages()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        ManualClock clock;
        CcsSession session;
        session.setClock(&clock);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        for (int i = 0; i < 3000; ++i)
            QVERIFY(session.send(downstream()));
        QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 3000, 60000);
        session.close();
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Disconnected, 30000);
        DownstreamMessage m = downstream();
        m.timeToLive = 5;
        QVERIFY(session.send(m));
        clock.advance(5000);
        QCOMPARE(session.ledger()->find(m.messageId)->state, MessageState::Queued);
        clock.advance(1);
        QCOMPARE(session.ledger()->find(m.messageId)->state, MessageState::Expired);
    }

    // A message waiting out a back-off expires at its deadline even if the retry would
    // come later (the retry is never sent), with no connection needed.
    void timeToLiveExpiresWhileWaitingToRetry()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        ManualClock clock;
        CcsSession session;
        session.setClock(&clock);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        emu.server()->setFaults(nackAll(NackCode::DeviceMessageRateExceeded));
        DownstreamMessage m = downstream();
        const qint64 later = NackCatalogue::retryDelay(RetryClass::Later, 1).count();
        m.timeToLive = later / 1000 + 60; // a retry fits before the deadline...
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(
            session.ledger()->find(m.messageId)->state, MessageState::RetryWaiting, 30000);
        session.close(); // ...but the connection goes away, and the server stays unreachable
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Disconnected, 30000);
        clock.advance(later); // the retry is due: back to the queue, with nowhere to go
        QCOMPARE(session.ledger()->find(m.messageId)->state, MessageState::Queued);
        clock.advance(60 * 1000 - later % 1000); // the deadline passes while disconnected
        QCOMPARE(session.ledger()->find(m.messageId)->state, MessageState::Queued);
        clock.advance(1);
        QCOMPARE(session.ledger()->find(m.messageId)->state, MessageState::Expired);
        QCOMPARE(recordById(emu.server()).value(m.messageId).timesReceived, 1);
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
