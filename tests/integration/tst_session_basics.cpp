#include "SessionTestSupport.h"

#include <QScopeGuard>
#include <QSslKey>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace ccs;
using namespace ccs::test;

// Connecting, authenticating, TLS verification and the life of one message.
class TestSessionBasics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void connectsAndStatesInOrder()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        QSignalSpy states(&session, &CcsSession::stateChanged);
        QSignalSpy authenticated(emu.server(), &emulator::EmulatorServer::clientAuthenticated);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        QCOMPARE(authenticated.count(), 1);
        QCOMPARE(authenticated.at(0).at(1).toString(), QString::fromLatin1(TestEmulator::kSenderId));
        QCOMPARE(states.first().at(0).value<SessionState>(), SessionState::Connecting);
        QCOMPARE(states.last().at(0).value<SessionState>(), SessionState::Connected);
        QCOMPARE(session.connections().size(), 1);
        QVERIFY(session.connections().first().authenticated);
        QCOMPARE(session.lastError(), SessionError::None);

        QSignalSpy closed(&session, &CcsSession::closed);
        session.close();
        QCOMPARE(session.state(), SessionState::Disconnected);
        QVERIFY(closed.wait(5000));
        QTRY_COMPARE_WITH_TIMEOUT(emu.server()->openConnections(), 0, 5000);
    }

    void oneMessageAckedThenDelivered()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        QSignalSpy receipts(&session, &CcsSession::receiptReceived);
        CCS_OPEN_SESSION(session, emu.clientSettings());

        DownstreamMessage m = downstream(QStringLiteral("dev-1"));
        m.deliveryReceiptRequested = true;
        QVERIFY(session.send(m));
        const int index = session.ledger()->indexOf(m.messageId);
        QVERIFY(index >= 0);
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->at(index).state, MessageState::Delivered, 10000);

        const LedgerEntry &e = session.ledger()->at(index);
        QVector<MessageState> states;
        for (const auto &t : e.history)
            states.append(t.state);
        QCOMPARE(states,
            (QVector<MessageState> {
                MessageState::Queued, MessageState::InFlight, MessageState::Acked, MessageState::Delivered}));
        QVERIFY(e.ackLatencyMs().has_value());
        QVERIFY(e.deliveryLatencyMs().has_value());
        QCOMPARE(e.attempts, 1);

        QCOMPARE(receipts.count(), 1);
        const Receipt receipt = receipts.at(0).at(0).value<Receipt>();
        QCOMPARE(receipt.messageId, QStringLiteral("dr2:") + m.messageId);
        QCOMPARE(receipt.originalMessageId, m.messageId);

        // The witness: received once, ACKed; the receipt ACKed with its own dr2: id.
        const auto down = recordById(emu.server()).value(m.messageId);
        QCOMPARE(down.timesReceived, 1);
        QCOMPARE(down.verdict, QStringLiteral("ack"));
        QTRY_VERIFY_WITH_TIMEOUT(
            upstreamById(emu.server()).value(QStringLiteral("dr2:") + m.messageId).acked, 5000);
        const auto up = upstreamById(emu.server()).value(QStringLiteral("dr2:") + m.messageId);
        QVERIFY(up.isReceipt);
        QCOMPARE(up.ackCount, 1);
        QVERIFY(recordById(emu.server()).value(m.messageId).receiptAcked);
        QCOMPARE(emu.server()->counters().badAcks, 0);
    }

    void invalidMessageIsRefusedAndNothingQueued()
    {
        CcsSession session;
        DownstreamMessage m = downstream();
        m.data = QJsonObject {{QStringLiteral("from"), QStringLiteral("reserved")}};
        ValidationFailure failure;
        QVERIFY(!session.send(m, &failure));
        QCOMPARE(failure.rule, ValidationRule::DataReservedKey);
        QCOMPARE(session.ledger()->size(), 0);
        QCOMPARE(session.queueLength(), 0);

        DownstreamMessage good = downstream();
        QVERIFY(session.send(good));
        QVERIFY(!session.send(good, &failure)); // the same id again
        QCOMPARE(session.ledger()->size(), 1);
    }

    // Copies of one message are validated and serialized once (see CcsSession::send): a
    // copy whose other fields differ is checked again, and each copy goes with its own id.
    void copiesAreValidatedByTheirOwnFields()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        CCS_OPEN_SESSION(session, emu.clientSettings());

        DownstreamMessage copy = downstream(QStringLiteral("dev-1"));
        QStringList ids;
        for (const QString &id : {QString(), QStringLiteral("copy-\"<&>'-\u00e9"), QString()}) {
            copy.messageId = id;
            QVERIFY(session.send(copy));
            ids.append(session.ledger()->at(session.ledger()->size() - 1).message.messageId);
        }
        ValidationFailure failure;
        DownstreamMessage changed = copy;
        changed.messageId.clear();
        changed.data = QJsonObject {{QStringLiteral("from"), QStringLiteral("reserved")}};
        QVERIFY(!session.send(changed, &failure));
        QCOMPARE(failure.rule, ValidationRule::DataReservedKey);
        changed = copy;
        changed.messageId.clear();
        changed.timeToLive = -1;
        QVERIFY(!session.send(changed, &failure));
        copy.messageId = ids.constFirst();
        QVERIFY(!session.send(copy, &failure)); // an id already used
        QCOMPARE(session.ledger()->size(), 3);

        // Each copy reached the server as JSON it could read, under its own id.
        QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 3, 10000);
        const auto record = recordById(emu.server());
        for (const QString &id : std::as_const(ids)) {
            QCOMPARE(record.value(id).verdict, QStringLiteral("ack"));
            QCOMPARE(record.value(id).to, QStringLiteral("dev-1"));
        }
    }

    void emptyIdGetsAGeneratedOne()
    {
        CcsSession session;
        DownstreamMessage m = downstream();
        m.messageId.clear();
        QVERIFY(session.send(m));
        QVERIFY(MessageIdGenerator::looksGenerated(session.ledger()->at(0).message.messageId));
    }

    void cancelWhileQueued()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        const DownstreamMessage keep = downstream();
        const DownstreamMessage drop = downstream();
        QVERIFY(session.send(keep));
        QVERIFY(session.send(drop));
        QCOMPARE(session.queueLength(), 2);
        QVERIFY(session.cancel(drop.messageId));
        QVERIFY(!session.cancel(drop.messageId));
        QCOMPARE(session.queueLength(), 1);
        CCS_OPEN_SESSION(session, emu.clientSettings());
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->find(keep.messageId)->state, MessageState::Acked, 5000);
        QVERIFY(!session.cancel(keep.messageId)); // too late
        QCOMPARE(session.ledger()->find(drop.messageId)->state, MessageState::Cancelled);
        QVERIFY(!recordById(emu.server()).contains(drop.messageId));
    }

    void wrongApiKeyStopsAndReports()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        QSignalSpy errors(&session, &CcsSession::errorOccurred);
        ConnectionSettings settings = emu.clientSettings();
        settings.apiKey = QStringLiteral("wrong-key-zzzz");
        session.setSettings(settings);
        session.open();
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Error, 10000);
        QCOMPARE(session.lastError(), SessionError::AuthenticationFailed);
        QVERIFY(session.lastErrorString().contains(QString::fromLatin1(TestEmulator::kSenderId)));
        QVERIFY(!session.lastErrorString().contains(settings.apiKey));
        QCOMPARE(errors.count(), 1);
        // Stopped: no new attempts.
        QTest::qWait(1500);
        QCOMPARE(emu.server()->counters().authFailures, 1);
        QCOMPARE(emu.server()->counters().connectionsAccepted, 1);
    }

    void untrustedCertificateStopsWithTlsError()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        TestEmulator other; // another certificate: pinning it must not trust emu's
        CCS_START_EMULATOR(other);
        ConnectionSettings settings = emu.clientSettings();
        settings.pinnedCertificates = {other.certificate()};
        CcsSession session;
        QSignalSpy traffic(&session, &CcsSession::trafficLogged);
        session.setSettings(settings);
        session.open();
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Error, 10000);
        QCOMPARE(session.lastError(), SessionError::TlsError);
        QVERIFY2(session.lastErrorString().contains(QStringLiteral("not trusted")),
            qPrintable(session.lastErrorString()));
        // Nothing of XMPP went out, let alone SASL.
        for (const auto &args : traffic)
            QVERIFY(!args.at(2).toString().contains(QStringLiteral("<auth")));
        QCOMPARE(emu.server()->counters().authFailures, 0);
    }

    void systemCasDoNotTrustTheEmulator()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        ConnectionSettings settings = emu.clientSettings();
        settings.pinnedCertificates.clear();
        CcsSession session;
        session.setSettings(settings);
        session.open();
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Error, 10000);
        QCOMPARE(session.lastError(), SessionError::TlsError);
        QVERIFY2(session.lastErrorString().contains(QStringLiteral("not trusted")),
            qPrintable(session.lastErrorString()));
    }

    void wrongHostNameIsNamed()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        ConnectionSettings settings = emu.clientSettings();
        settings.domain = QStringLiteral("wrong.example.org");
        CcsSession session;
        session.setSettings(settings);
        session.open();
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Error, 10000);
        QCOMPARE(session.lastError(), SessionError::TlsError);
        QVERIFY2(session.lastErrorString().contains(QStringLiteral("wrong host name")),
            qPrintable(session.lastErrorString()));
        QVERIFY(session.lastErrorString().contains(QStringLiteral("wrong.example.org")));
    }

    void refusedConnectionBacksOff()
    {
        // A port that refuses for the whole test: bound to a socket that never listens, so
        // no other process (tests run in parallel) can take it, as one could a just-freed port.
        const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
        QVERIFY(holder >= 0);
        const auto closeHolder = qScopeGuard([holder] { ::close(holder); });
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = 0;
        QCOMPARE(::bind(holder, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
        socklen_t length = sizeof address;
        QCOMPARE(::getsockname(holder, reinterpret_cast<sockaddr *>(&address), &length), 0);
        const quint16 port = ntohs(address.sin_port);
        QVERIFY(port != 0);
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        ConnectionSettings settings = emu.clientSettings();
        settings.port = port;
        CcsSession session;
        QSignalSpy errors(&session, &CcsSession::errorOccurred);
        session.setSettings(settings);
        QElapsedTimer clock;
        clock.start();
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(errors.count() >= 2, 10000);
        // Two failures: the second attempt came after a back-off of 0.5..1 s, not at once.
        QVERIFY2(clock.elapsed() >= 450, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(errors.at(0).at(0).value<SessionError>(), SessionError::ConnectionRefused);
        QCOMPARE(session.state(), SessionState::Reconnecting);
        session.close();
        QCOMPARE(session.state(), SessionState::Disconnected);
    }

    void trafficLogRedactsCredentials()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        QStringList lines;
        connect(&session, &CcsSession::trafficLogged, this,
            [&lines](TrafficDirection, int, const QString &xml) { lines.append(xml); });
        CCS_OPEN_SESSION(session, emu.clientSettings());
        const DownstreamMessage m = downstream();
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->find(m.messageId)->state, MessageState::Acked, 5000);
        const QString all = lines.join(u'\n');
        QVERIFY(all.contains(QStringLiteral("<auth")));
        QVERIFY(all.contains(QStringLiteral("[redacted]")));
        QVERIFY(!all.contains(QString::fromLatin1(TestEmulator::kApiKey)));
        const QByteArray plain = QByteArray(1, '\0') + QByteArray(TestEmulator::kSenderId)
            + "@gcm.googleapis.com" + QByteArray(1, '\0') + QByteArray(TestEmulator::kApiKey);
        QVERIFY(!all.contains(QString::fromLatin1(plain.toBase64())));
        QVERIFY(all.contains(m.messageId)); // the stanzas themselves are there
    }

    void trafficLogCanBeJoinedLater()
    {
        TestEmulator emu;
        CCS_START_EMULATOR(emu);
        CcsSession session;
        CCS_OPEN_SESSION(session, emu.clientSettings());
        QSignalSpy traffic(&session, &CcsSession::trafficLogged); // after authentication
        const DownstreamMessage m = downstream();
        QVERIFY(session.send(m));
        QTRY_COMPARE_WITH_TIMEOUT(session.ledger()->find(m.messageId)->state, MessageState::Acked, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(traffic.count() >= 2, 2000);
        bool out = false, in = false;
        for (const auto &args : traffic) {
            const bool mentions = args.at(2).toString().contains(m.messageId);
            out = out || (mentions && args.at(0).value<TrafficDirection>() == TrafficDirection::Out);
            in = in || (mentions && args.at(0).value<TrafficDirection>() == TrafficDirection::In);
            QCOMPARE(args.at(1).toInt(), session.connections().first().id);
        }
        QVERIFY(out);
        QVERIFY(in);
    }
};

QTEST_GUILESS_MAIN(TestSessionBasics)
#include "tst_session_basics.moc"
