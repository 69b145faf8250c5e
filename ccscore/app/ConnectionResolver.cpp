#include "ConnectionResolver.h"

#include "storage/ProfileStore.h"

#include <QPointer>

#include <algorithm>

namespace ccs::app {

void ConnectionOverrides::applyTo(ConnectionSettings *settings) const
{
    if (host)
        settings->host = *host;
    if (port)
        settings->port = *port;
    if (domain)
        settings->domain = *domain;
    if (senderId)
        settings->senderId = *senderId;
    if (pinnedCertificates)
        settings->pinnedCertificates = *pinnedCertificates;
    if (windowSize)
        settings->windowSize = std::clamp(*windowSize, 1, kMaxPendingPerConnection);
    if (connectionCount)
        settings->connectionCount = std::max(1, *connectionCount);
}

ConnectionResolver::ConnectionResolver(const storage::ProfileStore *profiles, storage::SecretStore *secrets)
    : m_profiles(profiles)
    , m_secrets(secrets)
{ }

ResolvedConnection ConnectionResolver::settingsFor(
    const QString &profileName, const ConnectionOverrides &overrides) const
{
    using Status = ResolvedConnection::Status;
    ResolvedConnection r;
    r.profileName = profileName;
    auto fail = [&r](Status status, const QString &error) {
        r.status = status;
        r.error = error;
        return r;
    };
    if (!profileName.isEmpty()) {
        const auto profile = m_profiles ? m_profiles->profile(profileName) : std::nullopt;
        if (!profile) {
            return fail(Status::NoSuchProfile,
                QStringLiteral("There is no profile named \"%1\" (known: %2).")
                    .arg(profileName,
                        m_profiles ? m_profiles->names().join(QStringLiteral(", "))
                                   : QStringLiteral("none")));
        }
        if (profile->localEmulator) {
            return fail(Status::LocalEmulator,
                QStringLiteral("The profile \"%1\" runs the emulator in-process.").arg(profile->name));
        }
        QString error;
        if (!profile->toConnectionSettings(&r.settings, &error))
            return fail(Status::InvalidProfile, error);
    }
    overrides.applyTo(&r.settings);
    r.settings.apiKey.clear();
    if (r.settings.senderId.isEmpty()) {
        return fail(Status::NoSenderId,
            profileName.isEmpty() ? QStringLiteral("No sender ID was given.")
                                  : QStringLiteral("\"%1\" has no sender ID.").arg(profileName));
    }
    return r;
}

void ConnectionResolver::addApiKey(
    ResolvedConnection resolved, const QString &fallbackApiKey, QObject *context, Callback done) const
{
    using Status = ResolvedConnection::Status;
    auto finish = [fallbackApiKey, done](ResolvedConnection r, const storage::SecretResult &key) {
        if (key.ok() && !key.secret.isEmpty()) {
            r.settings.apiKey = key.secret;
            r.keySessionOnly = key.sessionOnly;
        } else if (!fallbackApiKey.isEmpty()) {
            r.settings.apiKey = fallbackApiKey;
        } else {
            r.status = Status::NoApiKey;
            r.keyStatus = key.ok() ? storage::SecretResult::Status::NotFound : key.status;
            if (r.profileName.isEmpty())
                r.error = QStringLiteral("No API key was given.");
            else if (r.keyStatus == storage::SecretResult::Status::NotFound || key.error.isEmpty())
                r.error = QStringLiteral("No API key is stored for \"%1\".").arg(r.profileName);
            else
                r.error = key.error;
        }
        done(r);
    };
    if (!resolved.ok()) {
        QMetaObject::invokeMethod(
            context, [done, resolved] { done(resolved); }, Qt::QueuedConnection);
        return;
    }
    if (resolved.profileName.isEmpty() || !m_secrets) {
        storage::SecretResult none;
        none.status = storage::SecretResult::Status::NotFound;
        QMetaObject::invokeMethod(
            context, [finish, resolved, none] { finish(resolved, none); }, Qt::QueuedConnection);
        return;
    }
    m_secrets->readKey(resolved.profileName, context,
        [finish, resolved](const storage::SecretResult &key) { finish(resolved, key); });
}

void ConnectionResolver::resolve(const QString &profile, const ConnectionOverrides &overrides,
    const QString &fallbackApiKey, QObject *context, Callback done) const
{
    ResolvedConnection r = settingsFor(profile, overrides);
    if (!r.ok()) {
        QMetaObject::invokeMethod(
            context, [done, r] { done(r); }, Qt::QueuedConnection);
        return;
    }
    addApiKey(std::move(r), fallbackApiKey, context, std::move(done));
}

} // namespace ccs::app
