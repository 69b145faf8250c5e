#include "SecretStore.h"

#include "StorageLog_p.h"

#include <QTimer>
#include <qt6keychain/keychain.h>

namespace ccs::storage {

namespace {

// Runs `done` later on the event loop, unless `context` is gone by then.
void deliver(QObject *receiver, QObject *context, SecretStore::Callback done, SecretResult result)
{
    QPointer<QObject> guard(context);
    const bool hadContext = context != nullptr;
    QTimer::singleShot(0, receiver, [guard, hadContext, done = std::move(done), result = std::move(result)] {
        if (hadContext && !guard)
            return;
        if (done)
            done(result);
    });
}

bool isUnavailable(QKeychain::Error error)
{
    // Everything that means "no keychain to talk to", as opposed to "it said no".
    return error == QKeychain::NoBackendAvailable || error == QKeychain::NotImplemented
        || error == QKeychain::OtherError || error == QKeychain::AccessDenied;
}

SecretResult unavailableResult(const QString &reason)
{
    SecretResult result;
    result.status = SecretResult::Status::Unavailable;
    result.error = QStringLiteral("No keychain answered (%1).").arg(reason);
    return result;
}

} // namespace

std::unique_ptr<SecretStore> SecretStore::createDefault(QObject *parent)
{
    if (qEnvironmentVariable("CCS_SECRET_STORE") == QLatin1String("memory"))
        return std::make_unique<MemorySecretStore>(parent);
    return std::make_unique<FallbackSecretStore>(std::make_unique<KeychainSecretStore>(), parent);
}

// --- MemorySecretStore ---

MemorySecretStore::MemorySecretStore(QObject *parent)
    : SecretStore(parent)
{ }

MemorySecretStore::~MemorySecretStore() = default;

void MemorySecretStore::readKey(const QString &profile, QObject *context, Callback done)
{
    SecretResult result;
    if (m_unavailable) {
        result = unavailableResult(QStringLiteral("simulated"));
    } else if (const auto it = m_keys.constFind(profile); it != m_keys.constEnd()) {
        result.secret = *it;
        result.sessionOnly = true;
    } else {
        result.status = SecretResult::Status::NotFound;
        result.error = QStringLiteral("No API key is stored for \"%1\".").arg(profile);
    }
    deliver(this, context, std::move(done), result);
}

void MemorySecretStore::writeKey(const QString &profile, const QString &key, QObject *context, Callback done)
{
    SecretResult result;
    if (m_unavailable) {
        result = unavailableResult(QStringLiteral("simulated"));
    } else {
        m_keys.insert(profile, key);
        result.sessionOnly = true;
    }
    deliver(this, context, std::move(done), result);
}

void MemorySecretStore::removeKey(const QString &profile, QObject *context, Callback done)
{
    SecretResult result;
    if (m_unavailable)
        result = unavailableResult(QStringLiteral("simulated"));
    else
        m_keys.remove(profile);
    deliver(this, context, std::move(done), result);
}

// --- KeychainSecretStore ---

KeychainSecretStore::KeychainSecretStore(QObject *parent)
    : SecretStore(parent)
{ }

KeychainSecretStore::~KeychainSecretStore() = default;

namespace {

// Starts a keychain job and calls `finish` exactly once: with the job, or
// with nullptr when it did not answer in time.
void runJob(QObject *owner, QKeychain::Job *job, int timeoutMs, std::function<void(QKeychain::Job *)> finish)
{
    auto settled = std::make_shared<bool>(false);
    auto timer = new QTimer(owner);
    timer->setSingleShot(true);
    QObject::connect(job, &QKeychain::Job::finished, owner, [settled, finish, timer](QKeychain::Job *j) {
        timer->deleteLater();
        if (*settled)
            return;
        *settled = true;
        finish(j);
    });
    QObject::connect(timer, &QTimer::timeout, owner, [settled, finish, timer] {
        timer->deleteLater();
        if (*settled)
            return;
        *settled = true;
        finish(nullptr);
    });
    job->setAutoDelete(true);
    job->setInsecureFallback(false); // never: it would write the key in plain text
    timer->start(timeoutMs);
    job->start();
}

SecretResult resultOf(QKeychain::Job *j, int timeoutMs, const QString &profile, const QString &action)
{
    SecretResult result;
    if (!j) {
        result = unavailableResult(QStringLiteral("no answer within %1 s").arg(timeoutMs / 1000));
    } else if (j->error() == QKeychain::NoError) {
        if (auto read = qobject_cast<QKeychain::ReadPasswordJob *>(j))
            result.secret = read->textData();
    } else if (j->error() == QKeychain::EntryNotFound) {
        result.status = SecretResult::Status::NotFound;
        result.error = QStringLiteral("No API key is stored for \"%1\".").arg(profile);
    } else if (j->error() == QKeychain::AccessDenied) {
        // A locked collection (or a refused unlock prompt): no use to anyone this session.
        result.status = SecretResult::Status::Unavailable;
        result.error = QStringLiteral("The keychain is locked or refused access (%1).").arg(j->errorString());
    } else if (isUnavailable(j->error())) {
        result = unavailableResult(j->errorString());
    } else {
        result.status = SecretResult::Status::Error;
        result.error
            = QStringLiteral("The keychain refused to %1 the API key: %2").arg(action, j->errorString());
    }
    return result;
}

template<typename Job>
void runKeychain(KeychainSecretStore *store, Job *job, int timeoutMs, const QString &profile,
    const QString &action, QObject *context, SecretStore::Callback done)
{
    QPointer<QObject> guard(context);
    const bool hadContext = context != nullptr;
    job->setKey(SecretStore::keyName(profile));
    runJob(store, job, timeoutMs, [=](QKeychain::Job *j) {
        const SecretResult result = resultOf(j, timeoutMs, profile, action);
        if ((hadContext && !guard) || !done)
            return;
        done(result);
    });
}

} // namespace

void KeychainSecretStore::readKey(const QString &profile, QObject *context, Callback done)
{
    auto job = new QKeychain::ReadPasswordJob(QString::fromLatin1(kServiceName), this);
    runKeychain(this, job, m_timeoutMs, profile, QStringLiteral("read"), context, std::move(done));
}

void KeychainSecretStore::writeKey(
    const QString &profile, const QString &key, QObject *context, Callback done)
{
    auto job = new QKeychain::WritePasswordJob(QString::fromLatin1(kServiceName), this);
    job->setTextData(key);
    runKeychain(this, job, m_timeoutMs, profile, QStringLiteral("store"), context, std::move(done));
}

void KeychainSecretStore::removeKey(const QString &profile, QObject *context, Callback done)
{
    auto job = new QKeychain::DeletePasswordJob(QString::fromLatin1(kServiceName), this);
    runKeychain(
        this, job, m_timeoutMs, profile, QStringLiteral("remove"), context, [done](const SecretResult &r) {
            SecretResult result = r;
            if (result.status == SecretResult::Status::NotFound)
                result = SecretResult {}; // removing nothing is fine
            if (done)
                done(result);
        });
}

// --- FallbackSecretStore ---

FallbackSecretStore::FallbackSecretStore(std::unique_ptr<SecretStore> primary, QObject *parent)
    : SecretStore(parent)
    , m_primary(std::move(primary))
{
    m_primary->setParent(nullptr); // owned by the unique_ptr
}

FallbackSecretStore::~FallbackSecretStore() = default;

void FallbackSecretStore::fallBack(const QString &reason)
{
    if (m_fellBack)
        return;
    m_fellBack = true;
    m_reason = reason;
    qCWarning(lcStorage) << "Keychain unavailable, keeping API keys for this session only:" << reason;
    Q_EMIT fellBackToMemory(reason);
}

void FallbackSecretStore::readKey(const QString &profile, QObject *context, Callback done)
{
    m_memory.readKey(profile, context, [this, profile, context, done](const SecretResult &memory) {
        if (memory.ok() || m_fellBack) {
            done(memory);
            return;
        }
        m_primary->readKey(profile, context, [this, done](const SecretResult &primary) {
            if (primary.status == SecretResult::Status::Unavailable)
                fallBack(primary.error);
            done(primary);
        });
    });
}

void FallbackSecretStore::writeKey(
    const QString &profile, const QString &key, QObject *context, Callback done)
{
    auto toMemory = [this, profile, key, context, done](const QString &reason) {
        fallBack(reason);
        m_memory.writeKey(profile, key, context, [done, reason](const SecretResult &stored) {
            SecretResult result = stored;
            result.sessionOnly = true;
            result.error = reason + QStringLiteral(" The API key is kept for this session only.");
            done(result);
        });
    };
    if (m_fellBack) {
        toMemory(m_reason);
        return;
    }
    m_primary->writeKey(profile, key, context, [this, profile, done, toMemory](const SecretResult &primary) {
        if (primary.status == SecretResult::Status::Unavailable) {
            toMemory(primary.error);
            return;
        }
        if (primary.ok())
            m_memory.removeKey(profile, nullptr, {}); // the keychain copy is the one now
        done(primary);
    });
}

void FallbackSecretStore::removeKey(const QString &profile, QObject *context, Callback done)
{
    m_memory.removeKey(profile, nullptr, {});
    if (m_fellBack) {
        deliver(this, context, std::move(done), SecretResult {});
        return;
    }
    m_primary->removeKey(profile, context, std::move(done));
}

} // namespace ccs::storage
