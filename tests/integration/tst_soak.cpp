// Soak: CCS_SOAK_MESSAGES downstream and as many upstream messages (default
// 1500 each, for the suite) through one CcsSession and the emulator, with
// faults on a schedule: a dropped connection every few thousand stanzas,
// draining every few thousand more, 2% retryable NACKs, delayed ACKs and
// duplicated upstream deliveries. The emulator's record is the witness:
// every downstream message reaches it and ends in exactly one terminal state
// in the ledger, none is sent twice on one connection (except a retry after a
// NACK there), and every upstream message and receipt is ACKed and reaches
// the inbox once. Prints its figures. The long run:
//   CCS_SOAK_MESSAGES=50000 build/rel/tests/integration/tst_soak

#include "SessionTestSupport.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QTimer>

#include <algorithm>
#include <cstdio>

using namespace ccs;
using namespace ccs::test;

class TestSoak : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void soak();
};

void TestSoak::soak()
{
    const int messages = qEnvironmentVariableIsSet("CCS_SOAK_MESSAGES")
        ? std::max(100, qEnvironmentVariableIntValue("CCS_SOAK_MESSAGES"))
        : 1500;
    // Drops every few thousand stanzas in the long run, a few per run in the short one.
    const int dropEvery = std::clamp(messages / 15, 250, 3000);
    const int drainEvery = std::clamp(messages / 10, 400, 5000); // counted by the test, all connections
    QLoggingCategory::setFilterRules(QStringLiteral("ccs.*.info=false\nccs.*.debug=false"));

    emulator::EmulatorConfig config = TestEmulator::defaultConfig();
    config.deviceUpstreamQueueLimit = 0;
    config.receiptDelayMs = 0;
    config.faults.nackShare = 0.02;
    config.faults.nackCode = NackCode::ServiceUnavailable;
    config.faults.ackDelayMs = 3;
    config.faults.dropEveryStanzas = dropEvery;
    config.faults.duplicateUpstreamShare = 0.02;
    TestEmulator emu(config);
    CCS_START_EMULATOR(emu);
    emulator::EmulatorServer *server = emu.server();

    int received = 0;
    int drainsByTest = 0;
    connect(server, &emulator::EmulatorServer::downstreamReceived, this,
        [&](const QString &, const QString &, const QString &) {
            if (++received % drainEvery == 0) {
                ++drainsByTest;
                server->drainConnections();
            }
        });

    CcsSession session;
    QHash<QString, int> inbox; // upstream id -> times shown to the user
    QHash<QString, int> receipts; // receipt id -> times shown
    int duplicatesHidden = 0;
    connect(&session, &CcsSession::upstreamReceived, this,
        [&](const UpstreamMessage &m, int, qint64) { ++inbox[upstreamKey(m.from, m.messageId)]; });
    connect(&session, &CcsSession::receiptReceived, this,
        [&](const Receipt &r, int) { ++receipts[r.messageId]; });
    connect(&session, &CcsSession::duplicateReceived, this,
        [&](const QString &, const QString &, int) { ++duplicatesHidden; });

    ConnectionSettings settings = emu.clientSettings();
    settings.maxRetries = 20;
    QElapsedTimer clock;
    clock.start();
    CCS_OPEN_SESSION(session, settings);

    const QStringList devices {QStringLiteral("dev-1"), QStringLiteral("dev-2"), QStringLiteral("dev-3")};
    QStringList downIds;
    downIds.reserve(messages);
    for (int i = 0; i < messages; ++i) {
        DownstreamMessage m = downstream(devices.at(i % 3), QStringLiteral("soak-%1").arg(i));
        m.deliveryReceiptRequested = true;
        m.timeToLive = 3600; // long enough that no retry expires
        ValidationFailure failure;
        QVERIFY2(session.send(m, &failure), qPrintable(failure.description));
        downIds.append(m.messageId);
    }
    // Upstream is fed as the client keeps up, so the emulator's queue stays short.
    int upstreamQueued = 0;
    int upstreamAckedByClient = 0;
    QStringList upIds;
    connect(server, &emulator::EmulatorServer::upstreamAcked, this, [&](const QString &id) {
        if (!id.startsWith(QLatin1String("dr2:")))
            ++upstreamAckedByClient;
    });
    QTimer feeder;
    connect(&feeder, &QTimer::timeout, this, [&] {
        while (upstreamQueued < messages && upstreamQueued - upstreamAckedByClient < 400) {
            const QString token = devices.at(upstreamQueued % 3);
            const QString id = server->sendUpstream(
                token, QJsonObject {{QStringLiteral("n"), QString::number(upstreamQueued)}});
            if (id.isEmpty())
                break;
            upIds.append(upstreamKey(token, id));
            ++upstreamQueued;
        }
    });
    feeder.start(5);
    // A device that goes offline and comes back: what is sent to it meanwhile is held and
    // delivered (and receipted) when it is back, as CCS did.
    QTimer offline;
    connect(&offline, &QTimer::timeout, this, [&] {
        for (const auto &d : server->devices()) {
            if (d.spec.token == QLatin1String("dev-2"))
                server->setDeviceOnline(d.spec.token, !d.online);
        }
    });
    offline.start(250);

    auto settled = [&] {
        if (upstreamQueued < messages || inbox.size() < messages)
            return false;
        const MessageLedger *ledger = session.ledger();
        return ledger->count(MessageState::Queued) + ledger->count(MessageState::InFlight)
            + ledger->count(MessageState::RetryWaiting)
            == 0;
    };
    const int budgetMs = 60000 + messages * 6;
    QVERIFY2(QTest::qWaitFor(settled, budgetMs),
        qPrintable(QStringLiteral("not settled after %1 ms: inbox %2/%3, delivered %4, acked %5, queued %6, "
                                  "in flight %7, retry %8")
                       .arg(budgetMs)
                       .arg(inbox.size())
                       .arg(messages)
                       .arg(session.ledger()->count(MessageState::Delivered))
                       .arg(session.ledger()->count(MessageState::Acked))
                       .arg(session.ledger()->count(MessageState::Queued))
                       .arg(session.ledger()->count(MessageState::InFlight))
                       .arg(session.ledger()->count(MessageState::RetryWaiting))));
    feeder.stop();
    offline.stop();
    server->setDeviceOnline(QStringLiteral("dev-2"), true); // back for good: what it held arrives
    // The last receipts, and their ACKs reaching the emulator.
    (void)QTest::qWaitFor([&] { return session.ledger()->count(MessageState::Delivered) == messages; }, 5000);
    QTest::qWait(200);
    const qint64 elapsed = clock.elapsed();

    // Downstream: witness and ledger agree, one terminal state each, never twice on one connection.
    const auto record = recordById(server);
    const MessageLedger *ledger = session.ledger();
    int lost = 0, twiceOnOneConnection = 0, notDelivered = 0, retriesTotal = 0, resent = 0;
    for (int i = 0; i < ledger->size(); ++i) {
        const LedgerEntry &e = ledger->at(i);
        const auto r = record.constFind(e.message.messageId);
        if (r == record.constEnd() || r->timesReceived < 1 || r->verdict != QLatin1String("ack")) {
            ++lost;
            continue;
        }
        if (e.state != MessageState::Delivered) {
            if (++notDelivered <= 5) {
                QStringList h;
                for (const LedgerTransition &t : e.history)
                    h.append(QStringLiteral("%1@%2(%3)")
                                 .arg(stateName(t.state))
                                 .arg(t.connectionId)
                                 .arg(t.detail));
                std::printf(
                    "soak: not delivered %s: %s; emulator: received %d on %s, receipt sent %d acked %d\n",
                    qPrintable(e.message.messageId), qPrintable(h.join(QLatin1String(" -> "))),
                    r->timesReceived, qPrintable([&] {
                        QStringList l;
                        for (int id : r->connectionIds)
                            l.append(QString::number(id));
                        return l.join(QLatin1Char(','));
                    }()),
                    int(r->receiptSent), int(r->receiptAcked));
            }
        }
        retriesTotal += e.retries;
        resent += std::max(0, r->timesReceived - 1);
        // A message may come again on a connection only after a NACK there.
        int terminal = 0;
        QHash<int, int> sendsOn, nacksOn;
        for (const LedgerTransition &t : e.history) {
            if (isTerminal(t.state))
                ++terminal;
            if (t.state == MessageState::InFlight && sendsOn[t.connectionId]++ > nacksOn[t.connectionId])
                ++twiceOnOneConnection;
            if (t.state == MessageState::RetryWaiting)
                ++nacksOn[t.connectionId];
        }
        // Acked then Delivered is the one allowed pair.
        if (terminal < 1 || terminal > 2 || (terminal == 2 && e.state != MessageState::Delivered))
            ++lost;
        if (r->timesReceived > e.attempts)
            ++twiceOnOneConnection; // the emulator saw more sends than the client made
    }
    QCOMPARE(ledger->size(), messages);

    // Upstream and receipts: each ACKed, each shown once.
    const auto up = upstreamById(server);
    int upLost = 0, upUnacked = 0, receiptsUnacked = 0, upRedelivered = 0;
    for (const QString &id : std::as_const(upIds)) {
        const auto r = up.constFind(id);
        if (r == up.constEnd() || !inbox.contains(id))
            ++upLost;
        else if (!r->acked)
            ++upUnacked;
        else
            upRedelivered += std::max(0, r->timesDelivered - 1);
    }
    for (const auto &r : up) {
        if (r.isReceipt && !r.acked)
            ++receiptsUnacked;
    }
    int shownTwice = 0;
    for (int n : std::as_const(inbox))
        shownTwice += n - 1;
    for (int n : std::as_const(receipts))
        shownTwice += n - 1;

    const emulator::EmulatorCounters c = server->counters();
    std::printf("soak: %d downstream, %d upstream, %d receipts in %.1f s\n", messages, int(inbox.size()),
        int(receipts.size()), elapsed / 1000.0);
    std::printf("soak: faults injected: %d connections dropped, %d drains (%d by the test), %d NACKs, "
                "%d upstream/receipts redelivered, ACK delay %d ms + 0-%d ms jitter, %d held for an offline "
                "device\n",
        c.connectionsDropped, c.drainsSent, drainsByTest, c.nacksSent,
        upRedelivered + (c.receiptsSent - int(receipts.size())), config.faults.ackDelayMs,
        config.faults.answerJitterMs, c.messagesHeld);
    std::printf("soak: connections %d, downstream sent again %d (retries after NACK %d), duplicates "
                "hidden %d, max pending %d, window violations %d\n",
        c.connectionsAccepted, resent, retriesTotal, duplicatesHidden, c.maxPendingSeen, c.windowViolations);
    std::printf("soak: lost: %d, sent twice on one connection: %d, duplicates shown to the user: %d, "
                "upstream lost %d, upstream un-ACKed %d, receipts un-ACKed %d, not delivered %d\n",
        lost, twiceOnOneConnection, shownTwice, upLost, upUnacked, receiptsUnacked, notDelivered);
    std::fflush(stdout);

    QCOMPARE(lost, 0);
    QCOMPARE(twiceOnOneConnection, 0);
    QCOMPARE(shownTwice, 0);
    QCOMPARE(upLost, 0);
    QCOMPARE(upUnacked, 0);
    QCOMPARE(receiptsUnacked, 0);
    QCOMPARE(notDelivered, 0);
    QCOMPARE(int(inbox.size()), messages);
    QCOMPARE(int(receipts.size()), messages);
    QCOMPARE(c.windowViolations, 0);
    // The faults really happened.
    QVERIFY(c.connectionsDropped >= 1);
    QVERIFY(c.drainsSent >= 1);
    QVERIFY(c.nacksSent >= 1);
    session.close();
}

QTEST_GUILESS_MAIN(TestSoak)
#include "tst_soak.moc"
