#pragma once

#include "client/SessionTypes.h"

#include <QList>
#include <QObject>
#include <QString>

#include <memory>
#include <optional>

class QSettings;

namespace ccs::storage {

enum class TrustMode {
    SystemCas, // verify the server against the system CAs
    PinnedCertificate, // trust only the certificate(s) in pinnedCertificatePath
};

// A named connection profile. Never holds the API key: that lives in a SecretStore.
struct Profile {
    QString name;
    QString host = QStringLiteral("gcm.googleapis.com");
    quint16 port = 5235;
    QString domain = QStringLiteral("gcm.googleapis.com");
    QString senderId;
    TrustMode trust = TrustMode::SystemCas;
    QString pinnedCertificatePath; // PEM file, used when trust == PinnedCertificate
    int windowSize = kMaxPendingPerConnection;
    int connectionCount = 1;
    bool builtIn = false; // one of the three built-in profiles: not editable, not removable
    bool localEmulator = false; // starts an EmulatorServer in-process and connects to it

    // Settings for CcsSession, without the API key (the caller adds it). With
    // PinnedCertificate, loads the PEM file; false and *error if it cannot.
    // A localEmulator profile cannot be turned into settings this way: the
    // emulator decides host, port and certificate when it starts.
    bool toConnectionSettings(ConnectionSettings *out, QString *error = nullptr) const;

    friend bool operator==(const Profile &, const Profile &) = default;
};

// Named profiles in QSettings: the three built-ins (not stored) plus the user's.
// Shared by ccs-admin and `ccsctl --profile NAME`.
class ProfileStore : public QObject
{
    Q_OBJECT
public:
    static constexpr auto kLocalEmulator = "Local emulator";
    static constexpr auto kGcmProduction = "GCM production";
    static constexpr auto kGcmPreProduction = "GCM pre-production";

    // The per-user settings of ccs-admin (INI, organisation and application "ccs-admin").
    explicit ProfileStore(QObject *parent = nullptr);
    // An explicit INI file (tests, portable installs).
    explicit ProfileStore(const QString &iniFile, QObject *parent = nullptr);
    ~ProfileStore() override;

    static QList<Profile> builtInProfiles();
    static bool isBuiltInName(const QString &name);

    // Built-ins first (local emulator, production, pre-production), then the user's by name.
    QList<Profile> profiles() const;
    QStringList names() const;
    std::optional<Profile> profile(const QString &name) const; // matches case-sensitively

    // Adds or replaces a user profile. Refuses an empty name, a built-in name,
    // an empty host, port 0 or a pinned trust without a path.
    bool save(const Profile &profile, QString *error = nullptr);
    bool remove(const QString &name, QString *error = nullptr);

    // The profile the window opened last ("Local emulator" when none).
    QString lastProfile() const;
    void setLastProfile(const QString &name);

    QString fileName() const; // where the settings live

Q_SIGNALS:
    void profilesChanged();

private:
    QList<Profile> userProfiles() const;
    void writeUserProfiles(const QList<Profile> &profiles);

    std::unique_ptr<QSettings> m_settings;
};

} // namespace ccs::storage
