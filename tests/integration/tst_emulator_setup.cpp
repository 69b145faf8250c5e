// What the GUI and ccs-emulator use to set the emulator up: the self-signed
// certificate made with libcrypto (names, key, fingerprint), kept once per
// installation, the sender credentials and the default configuration.
#include "TestEmulator.h"
#include "server/EmulatorServer.h"
#include "server/EmulatorSetup.h"

#include <QFile>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace ccs;
using namespace ccs::emulator;

class TestEmulatorSetup : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void certificateNamesAndKey();
    void certificateVerifiesForEveryName_data();
    void certificateVerifiesForEveryName();
    void createdOncePerInstallation();
    void expiringCertificateReplaced();
    void credentialsKeptAndPrivate();
    void defaultConfig();

private:
    std::unique_ptr<test::TestEmulator> m_emu; // one emulator for the rows of certificateVerifiesForEveryName
};

void TestEmulatorSetup::initTestCase()
{
    m_emu = std::make_unique<test::TestEmulator>();
    QVERIFY2(m_emu->isRunning(), qPrintable(m_emu->error()));
}

void TestEmulatorSetup::cleanupTestCase()
{
    m_emu.reset();
}

void TestEmulatorSetup::certificateNamesAndKey()
{
    QSslCertificate cert;
    QSslKey key;
    QString error;
    QVERIFY2(generateSelfSignedCertificate(&cert, &key, &error), qPrintable(error));
    QCOMPARE(key.algorithm(), QSsl::Ec);
    QCOMPARE(key.type(), QSsl::PrivateKey);
    QVERIFY(cert.isSelfSigned());
    QCOMPARE(cert.version(), QByteArray("3"));
    const auto alt = cert.subjectAlternativeNames();
    for (const char *dns : {"localhost", "gcm.googleapis.com", "gcm-preprod.googleapis.com",
             "fcm.googleapis.com", "fcm-xmpp.googleapis.com"})
        QVERIFY2(alt.values(QSsl::DnsEntry).contains(QString::fromLatin1(dns)), dns);
    QVERIFY(alt.values(QSsl::IpAddressEntry).contains(QStringLiteral("127.0.0.1")));
    QVERIFY(cert.expiryDate() > QDateTime::currentDateTimeUtc().addDays(800));
    QString fp = certificateFingerprint(cert);
    QCOMPARE(fp.size(), 32 * 3 - 1);
    QCOMPARE(
        fp.remove(QLatin1Char(':')).toLower().toLatin1(), cert.digest(QCryptographicHash::Sha256).toHex());
    QSslCertificate other;
    QSslKey otherKey;
    QVERIFY(generateSelfSignedCertificate(&other, &otherKey));
    QVERIFY(other.serialNumber() != cert.serialNumber());
}

void TestEmulatorSetup::certificateVerifiesForEveryName_data()
{
    QTest::addColumn<QString>("name");
    for (const QString &n : emulatorCertificateNames())
        QTest::newRow(qPrintable(n)) << n;
}

void TestEmulatorSetup::certificateVerifiesForEveryName()
{
    QFETCH(QString, name);
    const test::TestEmulator &emu = *m_emu;
    QSslSocket socket;
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setCaCertificates({emu.certificate()});
    socket.setSslConfiguration(config);
    socket.setPeerVerifyName(name);
    QList<QSslError> errors;
    connect(&socket, &QSslSocket::sslErrors, this, [&](const QList<QSslError> &e) { errors = e; });
    socket.connectToHostEncrypted(QStringLiteral("127.0.0.1"), emu.port());
    QTRY_VERIFY_WITH_TIMEOUT(socket.isEncrypted() || !errors.isEmpty(), 5000);
    QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).errorString()));
    socket.abort();
}

void TestEmulatorSetup::createdOncePerInstallation()
{
    QTemporaryDir dir;
    CertificateFiles first;
    QString error;
    QVERIFY2(loadOrCreateEmulatorCertificate(&first, &error, dir.path()), qPrintable(error));
    QVERIFY(first.created);
    QVERIFY(QFile::exists(first.certificatePath));
    QCOMPARE(QFile::permissions(first.privateKeyPath) & (QFile::ReadGroup | QFile::ReadOther),
        QFile::Permissions());
    CertificateFiles second;
    QVERIFY(loadOrCreateEmulatorCertificate(&second, &error, dir.path()));
    QVERIFY(!second.created);
    QCOMPARE(second.certificate, first.certificate);
    QCOMPARE(second.privateKey.toPem(), first.privateKey.toPem());
    CertificateFiles loaded;
    QVERIFY(loadCertificateFiles(first.certificatePath, first.privateKeyPath, &loaded, &error));
    QCOMPARE(loaded.certificate, first.certificate);
    QVERIFY(!loadCertificateFiles(first.privateKeyPath, first.privateKeyPath, &loaded, &error));
    QVERIFY(error.contains(first.privateKeyPath));
}

void TestEmulatorSetup::expiringCertificateReplaced()
{
    QTemporaryDir dir;
    // A corrupt certificate on disk is replaced, not fatal.
    QFile f(dir.filePath(QStringLiteral("cert.pem")));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a certificate");
    f.close();
    QFile k(dir.filePath(QStringLiteral("key.pem")));
    QVERIFY(k.open(QIODevice::WriteOnly));
    k.write("not a key");
    k.close();
    CertificateFiles files;
    QString error;
    QVERIFY2(loadOrCreateEmulatorCertificate(&files, &error, dir.path()), qPrintable(error));
    QVERIFY(files.created);
    QVERIFY(!files.certificate.isNull());
}

void TestEmulatorSetup::credentialsKeptAndPrivate()
{
    QTemporaryDir dir;
    SenderCredentials first;
    QString keyPath;
    QString error;
    QVERIFY2(loadOrCreateSenderCredentials(&first, &keyPath, &error, dir.path()), qPrintable(error));
    QCOMPARE(first.senderId.size(), 12);
    QVERIFY(first.apiKey.size() >= 30);
    QCOMPARE(QFile::permissions(keyPath) & (QFile::ReadGroup | QFile::ReadOther), QFile::Permissions());
    SenderCredentials second;
    QVERIFY(loadOrCreateSenderCredentials(&second, nullptr, &error, dir.path()));
    QCOMPARE(second.senderId, first.senderId);
    QCOMPARE(second.apiKey, first.apiKey);
    QString key;
    QVERIFY(readApiKeyFile(keyPath, &key));
    QCOMPARE(key, first.apiKey);
    QVERIFY(!readApiKeyFile(dir.filePath(QStringLiteral("missing")), &key, &error));
    QVERIFY(!error.contains(first.apiKey));
}

void TestEmulatorSetup::defaultConfig()
{
    const EmulatorConfig a = defaultEmulatorConfig();
    const EmulatorConfig b = defaultEmulatorConfig();
    QCOMPARE(a.senders.size(), 1);
    QVERIFY(a.senders.first().senderId != b.senders.first().senderId);
    QCOMPARE(a.devices.size(), 5);
    QSet<DeviceKind> kinds;
    QSet<QString> tokens;
    for (const DeviceSpec &d : a.devices) {
        kinds.insert(d.kind);
        tokens.insert(d.token);
        QVERIFY(!d.name.isEmpty());
    }
    QCOMPARE(kinds.size(), 4);
    QCOMPARE(tokens.size(), 5);
    QCOMPARE(defaultDevices(8).size(), 8);
    QCOMPARE(defaultDevices(2).size(), 2);
    QVERIFY(a.address.isLoopback());

    // The GUI's local profile: the same installation files every time, and it starts.
    QTemporaryDir dir;
    EmulatorConfig local;
    QString certPath;
    QString error;
    QVERIFY2(makeLocalEmulatorConfig(&local, &certPath, &error, dir.path()), qPrintable(error));
    EmulatorConfig again;
    QVERIFY(makeLocalEmulatorConfig(&again, nullptr, &error, dir.path()));
    QCOMPARE(again.senders.first().senderId, local.senders.first().senderId);
    QCOMPARE(again.certificate, local.certificate);
    QVERIFY(QFile::exists(certPath));
    EmulatorServer server;
    QVERIFY2(server.start(local, &error), qPrintable(error));
    QVERIFY(server.port() != 0);
    QCOMPARE(server.devices().size(), 5);
}

QTEST_GUILESS_MAIN(TestEmulatorSetup)
#include "tst_emulator_setup.moc"
