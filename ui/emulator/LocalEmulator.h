#pragma once

#include "client/SessionTypes.h"
#include "server/EmulatorAdminApi.h"
#include "server/EmulatorServer.h"

#include <QObject>

#include <memory>

namespace ccs::ui {

// The "Local emulator" profile: an EmulatorServer in this process on a free
// loopback port, with the installation's certificate (pinned by the session),
// a generated sender and key (no keychain involved) and five simulated devices.
class LocalEmulator : public QObject
{
    Q_OBJECT
public:
    explicit LocalEmulator(QObject *parent = nullptr);
    ~LocalEmulator() override;

    bool start(QString *error = nullptr);
    void stop();
    bool isRunning() const;
    emulator::EmulatorServer *server() const { return m_server.get(); }
    // Its admin API on loopback, with a random token that lives in memory
    // only, so that the console attaches to it as to any ccs-emulator.
    emulator::EmulatorAdminApi *adminApi() const { return m_admin.get(); }
    // Settings that reach this emulator, with the certificate pinned and the key filled in.
    ConnectionSettings connectionSettings() const;
    // A gentle stream of upstream traffic, so the inbox is never empty.
    static constexpr double kGentleUpstreamRate = 0.2;

private:
    std::unique_ptr<emulator::EmulatorServer> m_server;
    std::unique_ptr<emulator::EmulatorAdminApi> m_admin;
    emulator::EmulatorConfig m_config;
};

} // namespace ccs::ui
