#include "ProfileStore.h"

#include "StorageLog_p.h"

#include <QFile>
#include <QSettings>
#include <QSslCertificate>

#include <algorithm>

Q_LOGGING_CATEGORY(lcStorage, "ccs.storage")

namespace ccs::storage {

namespace {

constexpr auto kProfilesArray = "profiles";
constexpr auto kLastProfileKey = "window/lastProfile";

QString trustName(TrustMode mode)
{
    return mode == TrustMode::PinnedCertificate ? QStringLiteral("pinned") : QStringLiteral("system");
}

} // namespace

bool Profile::toConnectionSettings(ConnectionSettings *out, QString *error) const
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    if (localEmulator)
        return fail(
            QStringLiteral("The profile \"%1\" runs the emulator in-process: start it first.").arg(name));
    ConnectionSettings settings;
    settings.host = host;
    settings.port = port;
    settings.domain = domain.isEmpty() ? QString::fromLatin1(kGcmDomain) : domain;
    settings.senderId = senderId;
    settings.windowSize = std::clamp(windowSize, 1, kMaxPendingPerConnection);
    settings.connectionCount = std::max(1, connectionCount);
    if (trust == TrustMode::PinnedCertificate) {
        QFile file(pinnedCertificatePath);
        if (!file.open(QIODevice::ReadOnly))
            return fail(QStringLiteral("Cannot read the pinned certificate %1: %2")
                            .arg(pinnedCertificatePath, file.errorString()));
        auto certificates = QSslCertificate::fromData(file.readAll(), QSsl::Pem);
        if (certificates.isEmpty()) {
            file.seek(0);
            certificates = QSslCertificate::fromData(file.readAll(), QSsl::Der);
        }
        if (certificates.isEmpty())
            return fail(
                QStringLiteral("%1 holds no PEM or DER certificate to pin.").arg(pinnedCertificatePath));
        settings.pinnedCertificates = certificates;
    }
    *out = settings;
    return true;
}

ProfileStore::ProfileStore(QObject *parent)
    : QObject(parent)
    , m_settings(std::make_unique<QSettings>(QSettings::IniFormat, QSettings::UserScope,
          QStringLiteral("ccs-admin"), QStringLiteral("ccs-admin")))
{ }

ProfileStore::ProfileStore(const QString &iniFile, QObject *parent)
    : QObject(parent)
    , m_settings(std::make_unique<QSettings>(iniFile, QSettings::IniFormat))
{ }

ProfileStore::~ProfileStore() = default;

QList<Profile> ProfileStore::builtInProfiles()
{
    Profile local;
    local.name = QString::fromLatin1(kLocalEmulator);
    local.host = QStringLiteral("127.0.0.1");
    local.port = 0; // chosen when the emulator starts
    local.trust = TrustMode::PinnedCertificate;
    local.builtIn = true;
    local.localEmulator = true;

    Profile production;
    production.name = QString::fromLatin1(kGcmProduction);
    production.host = QStringLiteral("gcm.googleapis.com");
    production.port = 5235;
    production.builtIn = true;

    Profile preProduction;
    preProduction.name = QString::fromLatin1(kGcmPreProduction);
    preProduction.host = QStringLiteral("gcm-preprod.googleapis.com");
    preProduction.port = 5236;
    preProduction.builtIn = true;

    return {local, production, preProduction};
}

bool ProfileStore::isBuiltInName(const QString &name)
{
    const auto builtIns = builtInProfiles();
    return std::any_of(builtIns.begin(), builtIns.end(),
        [&](const Profile &p) { return p.name.compare(name, Qt::CaseInsensitive) == 0; });
}

QList<Profile> ProfileStore::userProfiles() const
{
    QList<Profile> result;
    const int count = m_settings->beginReadArray(QLatin1String(kProfilesArray));
    for (int i = 0; i < count; ++i) {
        m_settings->setArrayIndex(i);
        Profile p;
        p.name = m_settings->value(QStringLiteral("name")).toString();
        p.host = m_settings->value(QStringLiteral("host"), p.host).toString();
        const int port = m_settings->value(QStringLiteral("port"), p.port).toInt();
        p.port = port > 0 && port <= 65535 ? quint16(port) : 5235;
        p.domain = m_settings->value(QStringLiteral("domain"), p.domain).toString();
        p.senderId = m_settings->value(QStringLiteral("senderId")).toString();
        p.trust = m_settings->value(QStringLiteral("trust")).toString() == QLatin1String("pinned")
            ? TrustMode::PinnedCertificate
            : TrustMode::SystemCas;
        p.pinnedCertificatePath = m_settings->value(QStringLiteral("pinnedCertificate")).toString();
        p.windowSize = std::clamp(m_settings->value(QStringLiteral("windowSize"), p.windowSize).toInt(), 1,
            kMaxPendingPerConnection);
        p.connectionCount = std::clamp(
            m_settings->value(QStringLiteral("connections"), p.connectionCount).toInt(), 1, 1000);
        if (p.name.isEmpty() || isBuiltInName(p.name)) {
            qCWarning(lcStorage) << "Ignoring a stored profile without a usable name at index" << i;
            continue;
        }
        result.append(p);
    }
    m_settings->endArray();
    std::sort(result.begin(), result.end(),
        [](const Profile &a, const Profile &b) { return a.name.localeAwareCompare(b.name) < 0; });
    return result;
}

void ProfileStore::writeUserProfiles(const QList<Profile> &profiles)
{
    m_settings->remove(QLatin1String(kProfilesArray));
    m_settings->beginWriteArray(QLatin1String(kProfilesArray), int(profiles.size()));
    for (int i = 0; i < profiles.size(); ++i) {
        const Profile &p = profiles.at(i);
        m_settings->setArrayIndex(i);
        // Deliberately no API key here: it lives in the keychain only.
        m_settings->setValue(QStringLiteral("name"), p.name);
        m_settings->setValue(QStringLiteral("host"), p.host);
        m_settings->setValue(QStringLiteral("port"), int(p.port));
        m_settings->setValue(QStringLiteral("domain"), p.domain);
        m_settings->setValue(QStringLiteral("senderId"), p.senderId);
        m_settings->setValue(QStringLiteral("trust"), trustName(p.trust));
        m_settings->setValue(QStringLiteral("pinnedCertificate"), p.pinnedCertificatePath);
        m_settings->setValue(QStringLiteral("windowSize"), p.windowSize);
        m_settings->setValue(QStringLiteral("connections"), p.connectionCount);
    }
    m_settings->endArray();
    m_settings->sync();
}

QList<Profile> ProfileStore::profiles() const
{
    return builtInProfiles() + userProfiles();
}

QStringList ProfileStore::names() const
{
    QStringList result;
    for (const Profile &p : profiles())
        result.append(p.name);
    return result;
}

std::optional<Profile> ProfileStore::profile(const QString &name) const
{
    for (const Profile &p : profiles()) {
        if (p.name == name)
            return p;
    }
    return std::nullopt;
}

bool ProfileStore::save(const Profile &profile, QString *error)
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    const QString name = profile.name.trimmed();
    if (name.isEmpty())
        return fail(QStringLiteral("A profile needs a name."));
    if (isBuiltInName(name))
        return fail(QStringLiteral("\"%1\" is a built-in profile: save yours under another name.").arg(name));
    if (profile.host.trimmed().isEmpty())
        return fail(QStringLiteral("The profile \"%1\" needs a host.").arg(name));
    if (profile.port == 0)
        return fail(QStringLiteral("The profile \"%1\" needs a port between 1 and 65535.").arg(name));
    if (profile.trust == TrustMode::PinnedCertificate && profile.pinnedCertificatePath.isEmpty())
        return fail(QStringLiteral("Choose the certificate file to pin for \"%1\".").arg(name));

    Profile stored = profile;
    stored.name = name;
    stored.host = profile.host.trimmed();
    stored.builtIn = false;
    stored.localEmulator = false;
    stored.windowSize = std::clamp(profile.windowSize, 1, kMaxPendingPerConnection);
    stored.connectionCount = std::clamp(profile.connectionCount, 1, 1000);

    auto list = userProfiles();
    auto it = std::find_if(list.begin(), list.end(), [&](const Profile &p) { return p.name == name; });
    if (it != list.end())
        *it = stored;
    else
        list.append(stored);
    writeUserProfiles(list);
    if (m_settings->status() != QSettings::NoError)
        return fail(QStringLiteral("Could not write the profiles to %1.").arg(m_settings->fileName()));
    Q_EMIT profilesChanged();
    return true;
}

bool ProfileStore::remove(const QString &name, QString *error)
{
    if (isBuiltInName(name)) {
        if (error)
            *error = QStringLiteral("\"%1\" is a built-in profile and cannot be removed.").arg(name);
        return false;
    }
    auto list = userProfiles();
    const auto removed = list.removeIf([&](const Profile &p) { return p.name == name; });
    if (removed == 0) {
        if (error)
            *error = QStringLiteral("There is no profile named \"%1\".").arg(name);
        return false;
    }
    writeUserProfiles(list);
    Q_EMIT profilesChanged();
    return true;
}

QString ProfileStore::lastProfile() const
{
    const QString name = m_settings->value(QLatin1String(kLastProfileKey)).toString();
    if (name.isEmpty() || !profile(name))
        return QString::fromLatin1(kLocalEmulator);
    return name;
}

void ProfileStore::setLastProfile(const QString &name)
{
    m_settings->setValue(QLatin1String(kLastProfileKey), name);
    m_settings->sync();
}

QString ProfileStore::fileName() const
{
    return m_settings->fileName();
}

} // namespace ccs::storage
