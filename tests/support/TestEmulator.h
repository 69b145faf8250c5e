#pragma once

#include "client/SessionTypes.h"
#include "server/EmulatorServer.h"

#include <memory>

namespace ccs::test {

// An emulator on a free loopback port with a freshly generated certificate
// (names: localhost, 127.0.0.1, gcm.googleapis.com), one sender and a few
// devices. Stopped and deleted with this object.
class TestEmulator
{
public:
    static constexpr auto kSenderId = "123456789012";
    static constexpr auto kApiKey = "test-api-key-0123456789abcdef";

    // Devices made by default: "dev-1" .. "dev-3" registered, "dev-idle" idle,
    // "dev-unregistered" unregistered, "dev-limited" rate limited.
    explicit TestEmulator(emulator::EmulatorConfig config = defaultConfig());
    ~TestEmulator();

    bool isRunning() const;
    QString error() const;
    emulator::EmulatorServer *server() const;
    quint16 port() const;
    QSslCertificate certificate() const;

    // Settings for CcsSession that pin this emulator's certificate.
    ConnectionSettings clientSettings() const;
    // The same certificate written to a PEM file (for ccsctl --ca-cert, slixmpp).
    QString certificatePemPath() const;

    static emulator::EmulatorConfig defaultConfig();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace ccs::test
