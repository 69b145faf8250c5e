#include "LocalEmulator.h"

#include "common/UiLog.h"
#include "server/EmulatorSetup.h"

namespace ccs::ui {

LocalEmulator::LocalEmulator(QObject *parent)
    : QObject(parent)
{ }

LocalEmulator::~LocalEmulator()
{
    stop();
}

bool LocalEmulator::start(QString *error)
{
    if (isRunning())
        return true;
    emulator::CertificateFiles files;
    QString why;
    if (!emulator::loadOrCreateEmulatorCertificate(&files, &why)) {
        if (error)
            *error = QStringLiteral("The local emulator has no certificate: %1").arg(why);
        return false;
    }
    m_config = emulator::defaultEmulatorConfig();
    m_config.certificate = files.certificate;
    m_config.privateKey = files.privateKey;
    m_config.upstreamRatePerSecond = kGentleUpstreamRate;
    m_server = std::make_unique<emulator::EmulatorServer>();
    if (!m_server->start(m_config, &why)) {
        m_server.reset();
        if (error)
            *error = QStringLiteral("The local emulator did not start: %1").arg(why);
        return false;
    }
    m_admin = std::make_unique<emulator::EmulatorAdminApi>(m_server.get());
    if (!m_admin->listen(QHostAddress::LocalHost, 0, &why)) {
        qCWarning(lcUi) << "The local emulator has no admin API:" << why;
        m_admin.reset();
    }
    qCInfo(lcUi) << "Local emulator listening on port" << m_server->port();
    return true;
}

void LocalEmulator::stop()
{
    m_admin.reset();
    if (m_server) {
        m_server->stop();
        m_server.reset();
    }
}

bool LocalEmulator::isRunning() const
{
    return m_server && m_server->isListening();
}

ConnectionSettings LocalEmulator::connectionSettings() const
{
    ConnectionSettings s;
    s.host = QStringLiteral("127.0.0.1");
    s.port = m_server ? m_server->port() : 0;
    s.domain = QString::fromLatin1(kGcmDomain);
    if (!m_config.senders.isEmpty()) {
        s.senderId = m_config.senders.first().senderId;
        s.apiKey = m_config.senders.first().apiKey;
    }
    s.pinnedCertificates = {m_config.certificate};
    return s;
}

} // namespace ccs::ui
