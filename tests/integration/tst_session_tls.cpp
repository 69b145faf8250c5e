#include "SessionTestSupport.h"

#include <QSslKey>
#include <QTcpServer>
#include <QTcpSocket>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

using namespace ccs;
using namespace ccs::test;

namespace {

// A certificate for the emulator's names that expired yesterday.
bool makeExpiredCertificate(QSslCertificate *certificate, QSslKey *key)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x509 = X509_new();
    bool ok = pkey && x509;
    if (ok) {
        X509_set_version(x509, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x509), 7);
        X509_gmtime_adj(X509_getm_notBefore(x509), -10L * 24 * 3600);
        X509_gmtime_adj(X509_getm_notAfter(x509), -1L * 24 * 3600);
        X509_set_pubkey(x509, pkey);
        X509_NAME *name = X509_get_subject_name(x509);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
            reinterpret_cast<const unsigned char *>("gcm.googleapis.com"), -1, -1, 0);
        X509_set_issuer_name(x509, name);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x509, x509, nullptr, nullptr, 0);
        X509_EXTENSION *san = X509V3_EXT_conf_nid(
            nullptr, &ctx, NID_subject_alt_name, "DNS:gcm.googleapis.com,DNS:localhost,IP:127.0.0.1");
        ok = san && X509_add_ext(x509, san, -1) == 1;
        X509_EXTENSION_free(san);
        ok = ok && X509_sign(x509, pkey, EVP_sha256()) > 0;
    }
    if (ok) {
        BIO *certBio = BIO_new(BIO_s_mem());
        BIO *keyBio = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(certBio, x509);
        PEM_write_bio_PrivateKey(keyBio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
        char *data = nullptr;
        const long certLen = BIO_get_mem_data(certBio, &data);
        *certificate = QSslCertificate(QByteArray(data, certLen), QSsl::Pem);
        const long keyLen = BIO_get_mem_data(keyBio, &data);
        *key = QSslKey(QByteArray(data, keyLen), QSsl::Ec, QSsl::Pem);
        BIO_free(certBio);
        BIO_free(keyBio);
    }
    X509_free(x509);
    EVP_PKEY_free(pkey);
    return ok && !certificate->isNull() && !key->isNull();
}

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
        QVERIFY(makeExpiredCertificate(&config.certificate, &config.privateKey));
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
