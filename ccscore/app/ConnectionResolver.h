#pragma once

#include "client/SessionTypes.h"
#include "storage/SecretStore.h"

#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QString>

#include <functional>
#include <optional>

namespace ccs::storage {
class ProfileStore;
}

namespace ccs::app {

// What a caller states explicitly (ccsctl's flags). A set field wins over the
// profile's value; an unset one keeps it.
struct ConnectionOverrides {
    std::optional<QString> host;
    std::optional<quint16> port;
    std::optional<QString> domain;
    std::optional<QString> senderId;
    std::optional<QList<QSslCertificate>> pinnedCertificates; // trust only these
    std::optional<int> windowSize;
    std::optional<int> connectionCount;

    void applyTo(ConnectionSettings *settings) const;
};

// A profile turned into what CcsSession needs: endpoint, trust, credentials.
struct ResolvedConnection {
    enum class Status {
        Ok,
        NoSuchProfile,
        LocalEmulator, // the profile runs the emulator in-process: its owner starts it
        InvalidProfile, // e.g. its pinned certificate cannot be read
        NoSenderId,
        NoApiKey, // neither the keychain nor the fallback had one; keyStatus says why
    };
    Status status = Status::Ok;
    QString profileName; // empty: no profile, the settings come from the overrides alone
    ConnectionSettings settings; // with the API key once Status::Ok is reached by resolve()
    storage::SecretResult::Status keyStatus = storage::SecretResult::Status::Ok;
    bool keySessionOnly = false; // the key was held in memory only (the keychain failed)
    QString error; // a sentence a person can act on; never holds the key

    bool ok() const { return status == Status::Ok; }
};

// The application layer between a front end (the window, ccsctl) and ccscore:
// resolves a profile name to connection settings, trust (the pinned
// certificate) and the API key (SecretStore) once, with one policy:
//   profile values  <  explicit overrides;
//   API key: the keychain entry of the profile, else the caller's fallback
//   (ccsctl: CCS_API_KEY), else Status::NoApiKey.
// Without a profile name the settings are the defaults plus the overrides and
// the key is the fallback.
// It lives in ccscore (not in a library of its own under app/): ccs-admin links
// ccsui and ccscore, ccsctl links ccscore only, and it needs neither Widgets nor
// anything of the window, so ccscore is the one place both already share.
class ConnectionResolver
{
public:
    using Callback = std::function<void(const ResolvedConnection &)>;

    ConnectionResolver(const storage::ProfileStore *profiles, storage::SecretStore *secrets);

    // The synchronous half: profile, overrides, trust and sender ID; no key yet.
    ResolvedConnection settingsFor(const QString &profile, const ConnectionOverrides &overrides = {}) const;
    // The asynchronous half: reads the key for an Ok result of settingsFor().
    // `done` runs once, after this returns, and not at all if `context` is destroyed first.
    void addApiKey(
        ResolvedConnection resolved, const QString &fallbackApiKey, QObject *context, Callback done) const;
    // Both halves. A failure of the first is also reported through `done`, after this returns.
    void resolve(const QString &profile, const ConnectionOverrides &overrides, const QString &fallbackApiKey,
        QObject *context, Callback done) const;

private:
    const storage::ProfileStore *m_profiles;
    storage::SecretStore *m_secrets;
};

} // namespace ccs::app
