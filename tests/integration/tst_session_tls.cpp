#include "SessionTestSupport.h"
#include "TestCertificates.h"
#include "server/EmulatorSetup.h"

#include <QSslKey>
#include <QTcpServer>
#include <QTcpSocket>

using namespace ccs;
using namespace ccs::test;

namespace {

QByteArray streamHeader()
{
    return "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
           "xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='gcm.googleapis.com' version='1.0'>";
}

} // namespace

// Certificates and the guarantee that SASL PLAIN never leaves without TLS.
class TestSessionTls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void expiredCertificateIsNamed()
    {
        emulator::EmulatorConfig config = TestEmulator::defaultConfig();
        // The emulator's names, expired yesterday.
        TestCertificate expired;
        QVERIFY(makeTestCertificate(
            emulator::emulatorCertificateNames(), -10L * 24 * 3600, -1L * 24 * 3600, &expired));
        config.certificate = expired.certificate;
        config.privateKey = expired.key;
        QVERIFY(config.certificate.expiryDate() < QDateTime::currentDateTimeUtc());
        TestEmulator emu(config);
        CCS_START_EMULATOR(emu);
        CcsSession session;
        session.setSettings(emu.clientSettings()); // pins the expired certificate
        session.open();
        QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Error, 10000);
        QCOMPARE(session.lastError(), SessionError::TlsError);
        QVERIFY2(session.lastErrorString().contains(QStringLiteral("expired")),
            qPrintable(session.lastErrorString()));
        QCOMPARE(emu.server()->counters().authFailures, 0);
    }

    void plainServerNeverSeesCredentials()
    {
        // A server that does not speak TLS: the handshake fails, nothing else is sent.
        QTcpServer plain;
        QVERIFY(plain.listen(QHostAddress::LocalHost));
        QByteArray received;
        connect(&plain, &QTcpServer::newConnection, this, [&] {
            QTcpSocket *s = plain.nextPendingConnection();
            connect(s, &QTcpSocket::readyRead, s, [s, &received] {
                received += s->readAll();
                s->write(streamHeader()); // not TLS: the client must give up
            });
        });
        TestEmulator emu;
        ConnectionSettings settings = emu.clientSettings();
        settings.port = plain.serverPort();
        CcsSession session;
        QSignalSpy errors(&session, &CcsSession::errorOccurred);
        session.setSettings(settings);
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(errors.count() >= 1, 10000);
        session.close();
        QVERIFY(!received.contains("<auth"));
        QVERIFY(!received.contains(QByteArray(TestEmulator::kApiKey).toBase64().left(8)));
        QVERIFY(!received.contains("<stream:stream")); // only a TLS ClientHello went out
    }
};

QTEST_GUILESS_MAIN(TestSessionTls)
#include "tst_session_tls.moc"
