#include "HostileServer.h"
#include "SessionTestSupport.h"

#include <algorithm>

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
        const QString messageId = emu.server()->sendUpstream(
            QStringLiteral("dev-2"), {{QStringLiteral("k"), QStringLiteral("v")}});
        const QString id = upstreamKey(QStringLiteral("dev-2"), messageId);
        QTRY_COMPARE_WITH_TIMEOUT(inbox.count(), 1, 5000);
        const UpstreamMessage m = inbox.at(0).at(0).value<UpstreamMessage>();
        QCOMPARE(m.messageId, messageId);
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
        const QString messageId = emu.server()->sendUpstream(
            QStringLiteral("dev-1"), {{QStringLiteral("n"), QStringLiteral("1")}});
        const QString id = upstreamKey(QStringLiteral("dev-1"), messageId);
        QTRY_COMPARE_WITH_TIMEOUT(upstreamById(emu.server()).value(id).ackCount, 2, 5000);
        QCOMPARE(upstreamById(emu.server()).value(id).timesDelivered, 2);
        QCOMPARE(inbox.count(), 1);
        QCOMPARE(duplicates.count(), 1);
        QCOMPARE(duplicates.at(0).at(0).toString(), QStringLiteral("dev-1"));
        QCOMPARE(duplicates.at(0).at(1).toString(), messageId);
        QCOMPARE(duplicates.at(0).at(2).toInt(), 2);
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
        for (int i = 0; i < 20; ++i) {
            const QString token = QStringLiteral("dev-%1").arg(1 + i % 3);
            ids.append(upstreamKey(
                token, emu.server()->sendUpstream(token, {{QStringLiteral("i"), QString::number(i)}})));
        }
        QTRY_COMPARE_WITH_TIMEOUT(duplicates.count(), 20, 10000);
        QCOMPARE(inbox.count(), 20);
        QSet<QString> delivered;
        for (const auto &args : inbox) {
            const auto m = args.at(0).value<UpstreamMessage>();
            delivered.insert(upstreamKey(m.from, m.messageId));
        }
        QCOMPARE(delivered.size(), 20);
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(ids.begin(), ids.end(),
                [&](const QString &id) { return upstreamById(emu.server()).value(id).ackCount == 2; }),
            5000);
        for (const auto &r : emu.server()->upstreamRecord())
            QVERIFY(r.deliveredOnConnections.contains(r.ackedOnConnection));
        QCOMPARE(emu.server()->counters().badAcks, 0);
    }

    void sameIdFromTwoDevicesIsTwoMessages()
    {
        // Devices choose their own ids: "1" and "2" from two devices are four
        // messages, each ACKed to its own device, none hidden as a duplicate.
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        QSignalSpy inbox(&session, &CcsSession::upstreamReceived);
        QSignalSpy duplicates(&session, &CcsSession::duplicateReceived);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        for (const char *token : {"dev-1", "dev-2"}) {
            for (const char *id : {"1", "2"}) {
                emulator::UpstreamRequest request;
                request.messageId = QString::fromLatin1(id);
                request.data = {{QStringLiteral("from"), QString::fromLatin1(token)}};
                QCOMPARE(emu.server()->sendUpstreamMessage(QString::fromLatin1(token), request),
                    request.messageId);
            }
        }
        QTRY_COMPARE_WITH_TIMEOUT(inbox.count(), 4, 5000);
        QSet<QString> seen;
        for (const auto &args : inbox) {
            const auto m = args.at(0).value<UpstreamMessage>();
            QCOMPARE(m.data.value(QStringLiteral("from")).toString(), m.from);
            seen.insert(upstreamKey(m.from, m.messageId));
        }
        QCOMPARE(seen, (QSet<QString> {"dev-1/1", "dev-1/2", "dev-2/1", "dev-2/2"}));
        QTRY_VERIFY_WITH_TIMEOUT(emu.server()->counters().upstreamAcked == 4, 5000);
        const auto up = upstreamById(emu.server());
        for (const QString &key : seen) {
            QVERIFY2(up.value(key).acked, qPrintable(key));
            QCOMPARE(up.value(key).ackCount, 1);
        }
        QCOMPARE(emu.server()->counters().badAcks, 0);
        QCOMPARE(duplicates.count(), 0);
        // A redelivery of dev-2's "1" on the same connection is still recognised.
        emu.server()->redeliverNextUpstream();
        emulator::UpstreamRequest again;
        again.messageId = QStringLiteral("3");
        emu.server()->sendUpstreamMessage(QStringLiteral("dev-2"), again);
        QTRY_COMPARE_WITH_TIMEOUT(duplicates.count(), 1, 5000);
        QCOMPARE(duplicates.at(0).at(0).toString(), QStringLiteral("dev-2"));
        QCOMPARE(inbox.count(), 5);
    }

    void lateTrafficOnADrainingConnectionIsAckedThere()
    {
        // CONNECTION_DRAINING in the guide's prefixed form; what was already
        // routed to the connection arrives after it and is ACKed on it.
        auto config = TestEmulator::defaultConfig();
        config.drainGraceMs = 3000;
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        CcsSession session;
        QSignalSpy inbox(&session, &CcsSession::upstreamReceived);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        QSignalSpy authenticated(emu.server(), &emulator::EmulatorServer::clientAuthenticated);
        const int drained = emu.server()->connections().constFirst().id;
        const QString a = emu.server()->sendUpstream(QStringLiteral("dev-1"), QJsonObject {});
        const QString b = emu.server()->sendUpstream(QStringLiteral("dev-2"), QJsonObject {});
        emu.server()->drainConnections(); // in the same pass: a and b are in its pipeline
        QTRY_COMPARE_WITH_TIMEOUT(inbox.count(), 2, 5000);
        for (const auto &args : inbox)
            QCOMPARE(args.at(1).toInt(), drained);
        for (const QString &key :
            {upstreamKey(QStringLiteral("dev-1"), a), upstreamKey(QStringLiteral("dev-2"), b)}) {
            QTRY_VERIFY_WITH_TIMEOUT(upstreamById(emu.server()).value(key).acked, 5000);
            QCOMPARE(upstreamById(emu.server()).value(key).ackedOnConnection, drained);
        }
        // The session moved to a new connection and sends there.
        QVERIFY(authenticated.count() > 0 || authenticated.wait(10000));
        DownstreamMessage m = downstream(QStringLiteral("dev-1"));
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 1, 10000);
        QVERIFY(recordById(emu.server()).value(m.messageId).connectionIds.constFirst() != drained);
        QCOMPARE(emu.server()->counters().badAcks, 0);
    }

    // CCS redelivers an upstream message whose ACK it did not get on the next
    // connection. Here the copy comes on another connection, after a reconnect:
    // a scripted server sends an upstream message on connection 1 and closes it;
    // connection 2 gets the same message again (same device token `from`, same
    // message_id), then a new one from the same device. Each copy is ACKed on its
    // own connection; the inbox gets each message once, and the copy is counted.
    void duplicateOnAnotherConnectionAfterReconnect()
    {
        TestCertificate cert;
        QVERIFY(makeTestCertificate(goodCertificateNames(), -3600, 86400, &cert));
        auto upstream = [](const QByteArray &id, const QByteArray &n) {
            return "<message id='s-" + id
                + "'><gcm xmlns='google:mobile:data'>{\"category\":\"com.example\","
                  "\"data\":{\"n\":\""
                + n + "\"},\"from\":\"dev-1\",\"message_id\":\"" + id + "\"}</gcm></message>";
        };
        HostileServer server;
        server.setCertificate(cert.certificate, cert.key);
        HostileScript script;
        script.stage = HostileStage::AfterBind; // connection 1: once the downstream message is in
        script.expectedMessages = 1;
        script.bytes = upstream("up-1", "first copy");
        script.ackAfter = true; // and its ACK, then the close
        script.close = HostileClose::Graceful;
        script.onlyFirstConnection = true;
        script.whenBound = upstream("up-1", "second copy") + upstream("up-2", "new"); // connection 2
        server.setScript(script);
        QVERIFY(server.listen());

        ConnectionSettings settings;
        settings.host = QStringLiteral("127.0.0.1");
        settings.port = server.port();
        settings.senderId = QString::fromLatin1(TestEmulator::kSenderId);
        settings.apiKey = QString::fromLatin1(TestEmulator::kApiKey);
        settings.pinnedCertificates = {cert.certificate};
        CcsSession session;
        QSignalSpy inbox(&session, &CcsSession::upstreamReceived);
        QSignalSpy copies(&session, &CcsSession::duplicateReceived);
        QVERIFY(session.send(downstream(QStringLiteral("dev-1"), QStringLiteral("down-1"))));
        session.setSettings(settings);
        session.open();

        QTRY_COMPARE_WITH_TIMEOUT(inbox.count(), 2, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(copies.count(), 1, 30000);
        QCOMPARE(server.connections(), 2);
        // The first copy reached the inbox, from connection 1; the new message from connection 2.
        const UpstreamMessage first = inbox.at(0).at(0).value<UpstreamMessage>();
        QCOMPARE(first.messageId, QStringLiteral("up-1"));
        QCOMPARE(first.from, QStringLiteral("dev-1"));
        QCOMPARE(first.data.value(QStringLiteral("n")).toString(), QStringLiteral("first copy"));
        const int firstConnection = inbox.at(0).at(1).toInt();
        const UpstreamMessage second = inbox.at(1).at(0).value<UpstreamMessage>();
        QCOMPARE(second.messageId, QStringLiteral("up-2"));
        QVERIFY(inbox.at(1).at(1).toInt() != firstConnection);
        // The copy on connection 2 was recognised as the same message: its id, seen twice.
        const QList<QVariant> duplicate = copies.at(0);
        QVERIFY(std::any_of(duplicate.cbegin(), duplicate.cend(),
            [](const QVariant &v) { return v.toString().contains(QLatin1String("up-1")); }));
        QVERIFY(std::any_of(duplicate.cbegin(), duplicate.cend(),
            [](const QVariant &v) { return v.typeId() == QMetaType::Int && v.toInt() == 2; }));
        // Connection 2 got ACKs for both messages, the copy included (an ACK is valid only on
        // the connection the message came on; connection 1's ACK may have met the close).
        QTRY_VERIFY_WITH_TIMEOUT(
            server.received().size() == 2 && server.received().at(1).contains("up-2"), 10000);
        const QByteArray onSecond = server.received().at(1);
        QVERIFY2(onSecond.contains("up-1"), onSecond.constData());
        // The downstream message was ACKed on connection 1 and not lost either way.
        QVERIFY(ackedCount(session.ledger()) == 1);
        // Nothing else arrives late.
        QTest::qWait(200);
        QCOMPARE(inbox.count(), 2);
        session.close();
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
