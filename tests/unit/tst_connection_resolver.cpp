#include "TestCertificates.h"
#include "app/ConnectionResolver.h"
#include "storage/ProfileStore.h"
#include "storage/SecretStore.h"

#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace ccs;
using app::ConnectionOverrides;
using app::ConnectionResolver;
using app::ResolvedConnection;
using Status = app::ResolvedConnection::Status;

// The application layer shared by the window and ccsctl: profile -> settings,
// trust and API key, resolved once; explicit overrides win over the profile.
class TestConnectionResolver : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<storage::ProfileStore> m_profiles;
    std::unique_ptr<storage::MemorySecretStore> m_secrets;
    QString m_pem;

    static std::optional<ResolvedConnection> wait(const ConnectionResolver &resolver, const QString &profile,
        const ConnectionOverrides &overrides, const QString &fallback)
    {
        std::optional<ResolvedConnection> result;
        QObject context;
        bool calledBack = false;
        resolver.resolve(profile, overrides, fallback, &context, [&](const ResolvedConnection &r) {
            QVERIFY(!calledBack); // once
            calledBack = true;
            result = r;
        });
        // Never synchronously: both front ends rely on resolve() returning first.
        if (calledBack)
            return std::nullopt;
        if (!QTest::qWaitFor([&] { return calledBack; }, 5000))
            return std::nullopt;
        return result;
    }

    void writeKey(const QString &profile, const QString &key)
    {
        bool done = false;
        m_secrets->writeKey(profile, key, this, [&](const storage::SecretResult &) { done = true; });
        QVERIFY(QTest::qWaitFor([&] { return done; }, 5000));
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(m_dir.isValid());
        m_profiles = std::make_unique<storage::ProfileStore>(m_dir.filePath(QStringLiteral("profiles.ini")));
        m_secrets = std::make_unique<storage::MemorySecretStore>();
        // A real PEM certificate to pin.
        m_pem = m_dir.filePath(QStringLiteral("pinned.pem"));
        QFile pem(m_pem);
        QVERIFY(pem.open(QIODevice::WriteOnly));
        test::TestCertificate pinned;
        QVERIFY(test::makeTestCertificate(
            test::goodCertificateNames(), test::kValidFrom, test::kValidUntil, &pinned));
        pem.write(pinned.certificate.toPem());
        pem.close();

        storage::Profile p;
        p.name = QStringLiteral("Staging");
        p.host = QStringLiteral("staging.example.org");
        p.port = 5236;
        p.domain = QStringLiteral("gcm.example.org");
        p.senderId = QStringLiteral("1111");
        p.trust = storage::TrustMode::PinnedCertificate;
        p.pinnedCertificatePath = m_pem;
        p.windowSize = 40;
        p.connectionCount = 3;
        QString error;
        QVERIFY2(m_profiles->save(p, &error), qPrintable(error));
        writeKey(QStringLiteral("Staging"), QStringLiteral("keychain-key"));
    }

    void profileAloneGivesItsValuesAndTheKeychainKey()
    {
        const ConnectionResolver resolver(m_profiles.get(), m_secrets.get());
        const auto r = wait(resolver, QStringLiteral("Staging"), {}, QStringLiteral("env-key"));
        QVERIFY(r);
        QVERIFY2(r->ok(), qPrintable(r->error));
        QCOMPARE(r->profileName, QStringLiteral("Staging"));
        QCOMPARE(r->settings.host, QStringLiteral("staging.example.org"));
        QCOMPARE(r->settings.port, quint16(5236));
        QCOMPARE(r->settings.domain, QStringLiteral("gcm.example.org"));
        QCOMPARE(r->settings.senderId, QStringLiteral("1111"));
        QCOMPARE(r->settings.windowSize, 40);
        QCOMPARE(r->settings.connectionCount, 3);
        QCOMPARE(r->settings.pinnedCertificates.size(), 1);
        QCOMPARE(r->settings.apiKey, QStringLiteral("keychain-key")); // the keychain wins over the fallback
    }

    void overridesWinFieldByField_data()
    {
        QTest::addColumn<QString>("field");
        QTest::newRow("host") << QStringLiteral("host");
        QTest::newRow("port") << QStringLiteral("port");
        QTest::newRow("domain") << QStringLiteral("domain");
        QTest::newRow("sender id") << QStringLiteral("senderId");
        QTest::newRow("trust") << QStringLiteral("trust");
        QTest::newRow("window") << QStringLiteral("window");
        QTest::newRow("connections") << QStringLiteral("connections");
    }

    void overridesWinFieldByField()
    {
        QFETCH(QString, field);
        ConnectionOverrides o;
        if (field == QLatin1String("host"))
            o.host = QStringLiteral("127.0.0.1");
        else if (field == QLatin1String("port"))
            o.port = quint16(40123);
        else if (field == QLatin1String("domain"))
            o.domain = QStringLiteral("other.example.org");
        else if (field == QLatin1String("senderId"))
            o.senderId = QStringLiteral("2222");
        else if (field == QLatin1String("trust"))
            o.pinnedCertificates = QList<QSslCertificate> {};
        else if (field == QLatin1String("window"))
            o.windowSize = 7;
        else
            o.connectionCount = 1;
        const ConnectionResolver resolver(m_profiles.get(), m_secrets.get());
        const auto r = wait(resolver, QStringLiteral("Staging"), o, {});
        QVERIFY(r);
        QVERIFY2(r->ok(), qPrintable(r->error));
        const ConnectionSettings &s = r->settings;
        // The overridden field changed; every other one is the profile's.
        QCOMPARE(s.host, o.host.value_or(QStringLiteral("staging.example.org")));
        QCOMPARE(s.port, o.port.value_or(quint16(5236)));
        QCOMPARE(s.domain, o.domain.value_or(QStringLiteral("gcm.example.org")));
        QCOMPARE(s.senderId, o.senderId.value_or(QStringLiteral("1111")));
        QCOMPARE(s.pinnedCertificates.size(), o.pinnedCertificates ? 0 : 1);
        QCOMPARE(s.windowSize, o.windowSize.value_or(40));
        QCOMPARE(s.connectionCount, o.connectionCount.value_or(3));
        QCOMPARE(s.apiKey, QStringLiteral("keychain-key"));
    }

    void noProfileTakesTheOverridesAndTheFallbackKey()
    {
        const ConnectionResolver resolver(m_profiles.get(), m_secrets.get());
        ConnectionOverrides o;
        o.host = QStringLiteral("127.0.0.1");
        o.port = quint16(5299);
        o.senderId = QStringLiteral("3333");
        o.windowSize = 500; // clamped like a profile's
        const auto r = wait(resolver, {}, o, QStringLiteral("env-key"));
        QVERIFY(r);
        QVERIFY2(r->ok(), qPrintable(r->error));
        QCOMPARE(r->settings.host, QStringLiteral("127.0.0.1"));
        QCOMPARE(r->settings.port, quint16(5299));
        QCOMPARE(r->settings.domain, ConnectionSettings {}.domain);
        QCOMPARE(r->settings.windowSize, kMaxPendingPerConnection);
        QCOMPARE(r->settings.apiKey, QStringLiteral("env-key"));
    }

    void fallbackKeyWhenTheKeychainHasNone()
    {
        storage::Profile p = *m_profiles->profile(QStringLiteral("Staging"));
        p.name = QStringLiteral("No key");
        QVERIFY(m_profiles->save(p));
        const ConnectionResolver resolver(m_profiles.get(), m_secrets.get());
        const auto withFallback = wait(resolver, QStringLiteral("No key"), {}, QStringLiteral("env-key"));
        QVERIFY(withFallback && withFallback->ok());
        QCOMPARE(withFallback->settings.apiKey, QStringLiteral("env-key"));

        const auto without = wait(resolver, QStringLiteral("No key"), {}, {});
        QVERIFY(without);
        QCOMPARE(without->status, Status::NoApiKey);
        QCOMPARE(without->keyStatus, storage::SecretResult::Status::NotFound);
        QVERIFY(without->settings.apiKey.isEmpty());
    }

    void keychainUnavailableIsReported()
    {
        m_secrets->setSimulateUnavailable(true);
        const ConnectionResolver resolver(m_profiles.get(), m_secrets.get());
        const auto r = wait(resolver, QStringLiteral("Staging"), {}, {});
        QVERIFY(r);
        QCOMPARE(r->status, Status::NoApiKey);
        QCOMPARE(r->keyStatus, storage::SecretResult::Status::Unavailable);
        QVERIFY(!r->error.isEmpty());
    }

    void failures_data()
    {
        QTest::addColumn<QString>("profile");
        QTest::addColumn<bool>("clearSender");
        QTest::addColumn<int>("status");
        QTest::newRow("unknown profile") << QStringLiteral("Nope") << false << int(Status::NoSuchProfile);
        QTest::newRow("local emulator") << QString::fromLatin1(storage::ProfileStore::kLocalEmulator) << false
                                        << int(Status::LocalEmulator);
        QTest::newRow("no sender id: built-in production")
            << QString::fromLatin1(storage::ProfileStore::kGcmProduction) << false << int(Status::NoSenderId);
        QTest::newRow("no sender id: cleared by an override")
            << QStringLiteral("Staging") << true << int(Status::NoSenderId);
        QTest::newRow("pinned certificate gone")
            << QStringLiteral("Broken") << false << int(Status::InvalidProfile);
    }

    void failures()
    {
        QFETCH(QString, profile);
        QFETCH(bool, clearSender);
        QFETCH(int, status);
        storage::Profile broken = *m_profiles->profile(QStringLiteral("Staging"));
        broken.name = QStringLiteral("Broken");
        broken.pinnedCertificatePath = m_dir.filePath(QStringLiteral("missing.pem"));
        QVERIFY(m_profiles->save(broken));
        ConnectionOverrides o;
        if (clearSender)
            o.senderId = QString();
        const ConnectionResolver resolver(m_profiles.get(), m_secrets.get());
        QCOMPARE(int(resolver.settingsFor(profile, o).status), status);
        const auto r = wait(resolver, profile, o, QStringLiteral("env-key"));
        QVERIFY(r);
        QCOMPARE(int(r->status), status);
        QVERIFY(!r->error.isEmpty());
        QVERIFY(r->settings.apiKey.isEmpty());
        QVERIFY(!r->error.contains(QStringLiteral("keychain-key")));
    }
};

QTEST_GUILESS_MAIN(TestConnectionResolver)
#include "tst_connection_resolver.moc"
