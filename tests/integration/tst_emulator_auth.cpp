// Connection set-up on the emulator over real TLS: stream features, SASL PLAIN
// with both domains, wrong credentials, bind and session, presence and iq
// handling, and stream errors for traffic before authentication.
#include "RawCcsClient.h"
#include "TestEmulator.h"

#include <QSignalSpy>
#include <QTest>

using namespace ccs;
using namespace ccs::test;

namespace {
const QString kHost = QStringLiteral("127.0.0.1");
const QString kSender = QString::fromLatin1(TestEmulator::kSenderId);
const QString kKey = QString::fromLatin1(TestEmulator::kApiKey);
} // namespace

class TestEmulatorAuth : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void featuresOfferCcsMechanisms();
    void plainAccepted_data();
    void plainAccepted();
    void wrongCredentialsRefused_data();
    void wrongCredentialsRefused();
    void oauthMechanismsRefused();
    void bindSessionPresenceAndIq();
    void messageBeforeAuthIsStreamError();
    void untrustedCertificateFailsTls();
    void clientCloseIsAnswered();

private:
    std::unique_ptr<TestEmulator> m_emu;
};

void TestEmulatorAuth::init()
{
    m_emu = std::make_unique<TestEmulator>();
    QVERIFY2(m_emu->isRunning(), qPrintable(m_emu->error()));
}

void TestEmulatorAuth::cleanup()
{
    m_emu.reset();
}

void TestEmulatorAuth::featuresOfferCcsMechanisms()
{
    RawCcsClient c;
    c.setPinnedCertificate(m_emu->certificate());
    QVERIFY(c.connectTls(kHost, m_emu->port()));
    QVERIFY(c.sslErrors().isEmpty());
    QVERIFY(c.openStream());
    QCOMPARE(c.mechanisms(), (QStringList {"X-OAUTH2", "X-GOOGLE-TOKEN", "PLAIN"}));
}

void TestEmulatorAuth::plainAccepted_data()
{
    QTest::addColumn<QString>("authcid");
    QTest::newRow("gcm") << kSender + "@gcm.googleapis.com";
    QTest::newRow("fcm") << kSender + "@fcm.googleapis.com";
}

void TestEmulatorAuth::plainAccepted()
{
    QFETCH(QString, authcid);
    RawCcsClient c;
    c.setPinnedCertificate(m_emu->certificate());
    QSignalSpy authenticated(m_emu->server(), &emulator::EmulatorServer::clientAuthenticated);
    QVERIFY(c.connectTls(kHost, m_emu->port()));
    QVERIFY(c.openStream());
    QVERIFY(c.authenticate(authcid, kKey));
    QVERIFY(c.bind(QStringLiteral("res-1")));
    QCOMPARE(c.boundJid(), authcid + "/res-1");
    QCOMPARE(authenticated.size(), 1);
    QCOMPARE(authenticated.at(0).at(1).toString(), kSender);
    QVERIFY(c.features().contains("bind"));
    QVERIFY(c.features().contains("session"));
    QCOMPARE(m_emu->server()->counters().authFailures, 0);
}

void TestEmulatorAuth::wrongCredentialsRefused_data()
{
    QTest::addColumn<QString>("authcid");
    QTest::addColumn<QString>("password");
    QTest::newRow("wrong key") << kSender + "@gcm.googleapis.com"
                               << "not-the-key";
    QTest::newRow("empty key") << kSender + "@gcm.googleapis.com"
                               << "";
    QTest::newRow("bare sender id") << kSender << kKey;
    QTest::newRow("unknown sender") << "999999999999@gcm.googleapis.com" << kKey;
    QTest::newRow("other domain") << kSender + "@example.com" << kKey;
    QTest::newRow("old projects name") << kSender + "@projects.gcm.android.com" << kKey;
}

void TestEmulatorAuth::wrongCredentialsRefused()
{
    QFETCH(QString, authcid);
    QFETCH(QString, password);
    RawCcsClient c;
    c.setPinnedCertificate(m_emu->certificate());
    QVERIFY(c.connectTls(kHost, m_emu->port()));
    QVERIFY(c.openStream());
    QVERIFY(!c.authenticate(authcid, password));
    QCOMPARE(c.saslFailure(), QStringLiteral("not-authorized"));
    QCOMPARE(m_emu->server()->counters().authFailures, 1);
    // Still no CCS traffic allowed on this stream.
    c.sendJson({{"to", "dev-1"}, {"message_id", "x"}});
    QVERIFY(c.waitForDisconnected());
    QCOMPARE(c.streamError(), QStringLiteral("not-authorized"));
    QCOMPARE(m_emu->server()->counters().downstreamReceived, 0);
}

void TestEmulatorAuth::oauthMechanismsRefused()
{
    RawCcsClient c;
    c.setPinnedCertificate(m_emu->certificate());
    QVERIFY(c.connectTls(kHost, m_emu->port()));
    QVERIFY(c.openStream());
    c.sendRaw("<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"X-OAUTH2\">AGZvbwBiYXI=</auth>");
    QVERIFY(c.waitFor([&] { return !c.saslFailure().isEmpty(); }));
    QCOMPARE(c.saslFailure(), QStringLiteral("not-authorized"));
    // A malformed PLAIN blob is a malformed request, not a crash.
    c.sendRaw("<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"PLAIN\">!!!notbase64</auth>");
    QVERIFY(c.waitFor([&] { return c.saslFailure() == QLatin1String("malformed-request"); }));
    // Third failure: the emulator gives up on this stream.
    c.sendRaw("<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"DIGEST-MD5\"/>");
    QVERIFY(c.waitForDisconnected());
    QCOMPARE(c.saslFailure(), QStringLiteral("invalid-mechanism"));
}

void TestEmulatorAuth::bindSessionPresenceAndIq()
{
    RawCcsClient c;
    QString error;
    QVERIFY2(c.loginTo(*m_emu, &error), qPrintable(error));
    c.sendRaw("<iq type=\"set\" id=\"sess-1\"><session xmlns=\"urn:ietf:params:xml:ns:xmpp-session\"/></iq>");
    c.sendRaw("<presence/>"); // what QXmpp sends first: ignored
    c.sendRaw("<iq type=\"get\" id=\"ping-1\"><ping xmlns=\"urn:xmpp:ping\"/></iq>");
    c.sendRaw(
        "<iq type=\"get\" id=\"disco-1\"><query xmlns=\"http://jabber.org/protocol/disco#info\"/></iq>");
    c.sendRaw("<iq type=\"set\" id=\"roster-1\"><query xmlns=\"jabber:iq:roster\"/></iq>");
    auto iq = [&](const QString &id) -> RawCcsClient::Stanza {
        for (const auto &s : c.received()) {
            if (s.name == QLatin1String("iq") && s.id == id)
                return s;
        }
        return {};
    };
    QVERIFY(c.waitFor([&] { return !iq("roster-1").name.isEmpty(); }));
    QCOMPARE(iq("sess-1").type, QStringLiteral("result"));
    QCOMPARE(iq("ping-1").type, QStringLiteral("result"));
    QCOMPARE(iq("disco-1").type, QStringLiteral("error"));
    QCOMPARE(iq("disco-1").errorCondition, QStringLiteral("service-unavailable"));
    QCOMPARE(iq("roster-1").errorCondition, QStringLiteral("service-unavailable"));
    // The stream still works after all that.
    c.sendJson({{"to", "dev-1"}, {"message_id", "after-iq"}});
    QVERIFY(c.waitForGcm([](const QJsonObject &o) { return o.value("message_id") == "after-iq"; }));
    QVERIFY(c.isConnected());
    QVERIFY(c.streamError().isEmpty());
}

void TestEmulatorAuth::messageBeforeAuthIsStreamError()
{
    RawCcsClient c;
    c.setPinnedCertificate(m_emu->certificate());
    QVERIFY(c.connectTls(kHost, m_emu->port()));
    QVERIFY(c.openStream());
    c.sendGcmText(QStringLiteral("{\"to\":\"dev-1\",\"message_id\":\"early\"}"));
    QVERIFY(c.waitForDisconnected());
    QCOMPARE(c.streamError(), QStringLiteral("not-authorized"));
    QVERIFY(c.streamClosedByServer());
    QCOMPARE(m_emu->server()->counters().downstreamReceived, 0);
}

void TestEmulatorAuth::untrustedCertificateFailsTls()
{
    // Pinning another certificate: the client must refuse the emulator's.
    TestEmulator second;
    QVERIFY(second.isRunning());
    RawCcsClient c;
    c.setPinnedCertificate(second.certificate());
    QVERIFY(!c.connectTls(kHost, m_emu->port()));
    QVERIFY(!c.sslErrors().isEmpty());
    // And a name the certificate does not carry fails too.
    RawCcsClient wrongName;
    wrongName.setPinnedCertificate(m_emu->certificate());
    wrongName.setPeerVerifyName(QStringLiteral("example.com"));
    QVERIFY(!wrongName.connectTls(kHost, m_emu->port()));
    bool hostNameMismatch = false;
    for (const QSslError &e : wrongName.sslErrors())
        hostNameMismatch = hostNameMismatch || e.error() == QSslError::HostNameMismatch;
    QVERIFY(hostNameMismatch);
    QTRY_COMPARE_WITH_TIMEOUT(m_emu->server()->counters().downstreamReceived, 0, 1000);
}

void TestEmulatorAuth::clientCloseIsAnswered()
{
    RawCcsClient c;
    QVERIFY(c.loginTo(*m_emu));
    QSignalSpy disconnected(m_emu->server(), &emulator::EmulatorServer::clientDisconnected);
    c.closeStream();
    QVERIFY(c.waitForDisconnected());
    QVERIFY(c.streamClosedByServer());
    QVERIFY(c.streamError().isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(m_emu->server()->openConnections(), 0, 5000);
}

QTEST_GUILESS_MAIN(TestEmulatorAuth)
#include "tst_emulator_auth.moc"
