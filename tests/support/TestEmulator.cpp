#include "TestEmulator.h"

#include "TestCertificates.h"
#include "server/EmulatorSetup.h"

#include <QDir>
#include <QTemporaryDir>

namespace ccs::test {

struct TestEmulator::Private {
    std::unique_ptr<emulator::EmulatorServer> server;
    QString error;
    QSslCertificate certificate;
    QTemporaryDir dir;
    QString pemPath;
};

TestEmulator::TestEmulator(emulator::EmulatorConfig config)
    : d(std::make_unique<Private>())
{
    if (config.certificate.isNull() || config.privateKey.isNull()) {
        TestCertificate fresh;
        if (!makeTestCertificate(
                emulator::emulatorCertificateNames(), kValidFrom, kValidUntil, &fresh, &d->error))
            return;
        config.certificate = fresh.certificate;
        config.privateKey = fresh.key;
    }
    if (config.senders.isEmpty())
        config.senders.append({QString::fromLatin1(kSenderId), QString::fromLatin1(kApiKey)});
    d->certificate = config.certificate;
    // CCS_TEST_EMULATOR_THREADS=N: the same tests with connections on N event
    // loops (ctest runs the emulator tests so as well: integration.threads2.*).
    if (config.threads == 1 && qEnvironmentVariableIntValue("CCS_TEST_EMULATOR_THREADS") > 1)
        config.threads = qEnvironmentVariableIntValue("CCS_TEST_EMULATOR_THREADS");
    d->server = std::make_unique<emulator::EmulatorServer>();
    if (!d->server->start(config, &d->error))
        return;
    d->pemPath = d->dir.filePath(QStringLiteral("emulator-cert.pem"));
    emulator::writePemFile(d->pemPath, config.certificate.toPem(), false, &d->error);
}

TestEmulator::~TestEmulator()
{
    if (d->server)
        d->server->stop();
}

bool TestEmulator::isRunning() const
{
    return d->server && d->server->isListening();
}

QString TestEmulator::error() const
{
    return d->error;
}

emulator::EmulatorServer *TestEmulator::server() const
{
    return d->server.get();
}

quint16 TestEmulator::port() const
{
    return d->server ? d->server->port() : 0;
}

QSslCertificate TestEmulator::certificate() const
{
    return d->certificate;
}

ConnectionSettings TestEmulator::clientSettings() const
{
    ConnectionSettings s;
    s.host = QStringLiteral("127.0.0.1");
    s.port = port();
    s.domain = QStringLiteral("gcm.googleapis.com");
    s.senderId = QString::fromLatin1(kSenderId);
    s.apiKey = QString::fromLatin1(kApiKey);
    s.pinnedCertificates = {d->certificate};
    return s;
}

QString TestEmulator::certificatePemPath() const
{
    return d->pemPath;
}

emulator::EmulatorConfig TestEmulator::defaultConfig()
{
    using emulator::DeviceKind;
    using emulator::DeviceSpec;
    emulator::EmulatorConfig config;
    config.address = QHostAddress::LocalHost;
    config.port = 0;
    config.senders = {{QString::fromLatin1(kSenderId), QString::fromLatin1(kApiKey)}};
    auto device = [](const char *token, const char *name, DeviceKind kind) {
        DeviceSpec spec;
        spec.token = QString::fromLatin1(token);
        spec.name = QString::fromLatin1(name);
        spec.kind = kind;
        return spec;
    };
    config.devices = {device("dev-1", "Test phone 1", DeviceKind::Registered),
        device("dev-2", "Test phone 2", DeviceKind::Registered),
        device("dev-3", "Test phone 3", DeviceKind::Registered),
        device("dev-idle", "Idle tablet", DeviceKind::Idle),
        device("dev-unregistered", "Unregistered phone", DeviceKind::Unregistered),
        device("dev-limited", "Rate-limited watch", DeviceKind::RateLimited)};
    config.devices.last().maxMessagesPerMinute = 5;
    config.receiptDelayMs = 50;
    return config;
}

} // namespace ccs::test
