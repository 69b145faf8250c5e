#pragma once

#include "EmulatorTypes.h"

#include <QSslCertificate>
#include <QSslKey>
#include <QString>
#include <QStringList>

namespace ccs::emulator {

// The names every emulator certificate carries.
QStringList emulatorCertificateNames(); // localhost, 127.0.0.1, gcm.googleapis.com, ...

// A new self-signed certificate (EC P-256, X509v3, subjectAltName for
// emulatorCertificateNames(), valid 825 days) made with OpenSSL's libcrypto.
bool generateSelfSignedCertificate(
    QSslCertificate *certificate, QSslKey *privateKey, QString *error = nullptr);

struct CertificateFiles {
    QSslCertificate certificate;
    QSslKey privateKey;
    QString certificatePath; // PEM
    QString privateKeyPath; // PEM, owner-only permissions
    bool created = false; // made by this call
};

// The installation's certificate under QStandardPaths::AppDataLocation
// ("emulator/cert.pem", "emulator/key.pem"): loaded, or made and saved once.
// A certificate that expires within 30 days is replaced. `directory` overrides
// the location (tests).
bool loadOrCreateEmulatorCertificate(
    CertificateFiles *out, QString *error = nullptr, const QString &directory = {});
// Loads a PEM certificate and key (ccs-emulator --cert/--key).
bool loadCertificateFiles(
    const QString &certPath, const QString &keyPath, CertificateFiles *out, QString *error = nullptr);
// Writes a PEM file; with ownerOnly the file is readable by its owner only.
bool writePemFile(const QString &path, const QByteArray &pem, bool ownerOnly, QString *error = nullptr);

// "AB:CD:..." SHA-256 of the DER certificate.
QString certificateFingerprint(const QSslCertificate &certificate);

// A random 12-digit sender ID and a random API key.
SenderCredentials generateSenderCredentials();
// The installation's sender ID and API key under AppDataLocation
// ("emulator/sender-id", "emulator/api-key", owner-only): loaded, or made once.
bool loadOrCreateSenderCredentials(SenderCredentials *out, QString *apiKeyPath = nullptr,
    QString *error = nullptr, const QString &directory = {});
// Reads an API key from a file (first line, trimmed); never echoes it in *error.
bool readApiKeyFile(const QString &path, QString *apiKey, QString *error = nullptr);

// The five simulated devices with readable names: two registered phones, an
// idle tablet, an unregistered old phone and a rate-limited watch. `count`
// other than 5 trims the list or adds more registered devices.
QList<DeviceSpec> defaultDevices(int count = 5);

// Listening on 127.0.0.1, any free port (set .port = 5236 for the standard
// one), a freshly generated sender and API key, defaultDevices(). The
// certificate is left empty: fill it from loadOrCreateEmulatorCertificate().
EmulatorConfig defaultEmulatorConfig();

// For the GUI's in-process "Local emulator": defaultEmulatorConfig() with the
// installation's sender credentials and certificate (made once, then loaded).
// *certificatePath gets the PEM path to pin; the port stays 0 unless set.
bool makeLocalEmulatorConfig(EmulatorConfig *config, QString *certificatePath = nullptr,
    QString *error = nullptr, const QString &directory = {});

// The directory the emulator keeps its files in (AppDataLocation/emulator).
QString emulatorDataDirectory();

} // namespace ccs::emulator
