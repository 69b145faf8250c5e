#pragma once

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <memory>

namespace ccs::storage {

struct SecretResult {
    enum class Status {
        Ok,
        NotFound, // nothing stored for this profile
        Unavailable, // no keychain answered (headless machine, no Secret Service, locked, timed out)
        Error, // the keychain answered with an error
    };
    Status status = Status::Ok;
    QString secret; // read: the key; empty otherwise
    bool sessionOnly = false; // the key is held in memory only, lost when the program ends
    QString error; // a sentence a person can act on; never holds the secret

    bool ok() const { return status == Status::Ok; }
};

// API keys per profile, asynchronous. Implementations: the OS keychain
// (QtKeychain, service "ccs-admin") and an in-memory one for tests and for
// when no keychain answers. Callbacks run on the store's thread, after the
// call returns, and not at all if `context` is destroyed first.
class SecretStore : public QObject
{
    Q_OBJECT
public:
    using Callback = std::function<void(const SecretResult &)>;

    explicit SecretStore(QObject *parent = nullptr)
        : QObject(parent)
    { }

    virtual void readKey(const QString &profile, QObject *context, Callback done) = 0;
    virtual void writeKey(const QString &profile, const QString &key, QObject *context, Callback done) = 0;
    virtual void removeKey(const QString &profile, QObject *context, Callback done) = 0;
    // False when keys survive only this session (in-memory, or the keychain failed).
    virtual bool isPersistent() const = 0;

    static constexpr auto kServiceName = "ccs-admin";
    static QString keyName(const QString &profile) { return QStringLiteral("api-key:") + profile; }

    // The OS keychain behind a session-only fallback; the in-memory store alone
    // when CCS_SECRET_STORE=memory (tests, CI).
    static std::unique_ptr<SecretStore> createDefault(QObject *parent = nullptr);

Q_SIGNALS:
    // The keychain failed and keys are now kept for this session only.
    void fellBackToMemory(const QString &reason);
};

// Keys in memory only: for tests, and behind KeychainSecretStore as its fallback.
class MemorySecretStore : public SecretStore
{
    Q_OBJECT
public:
    explicit MemorySecretStore(QObject *parent = nullptr);
    ~MemorySecretStore() override;

    void readKey(const QString &profile, QObject *context, Callback done) override;
    void writeKey(const QString &profile, const QString &key, QObject *context, Callback done) override;
    void removeKey(const QString &profile, QObject *context, Callback done) override;
    bool isPersistent() const override { return false; }

    // Tests: make every later call fail as a missing keychain would.
    void setSimulateUnavailable(bool unavailable) { m_unavailable = unavailable; }

private:
    QHash<QString, QString> m_keys;
    bool m_unavailable = false;
};

// QtKeychain, never with insecureFallback. A keychain that does not answer
// (no backend, D-Bus error, or no answer within the timeout) gives
// SecretResult::Status::Unavailable; FallbackSecretStore decides what then.
class KeychainSecretStore : public SecretStore
{
    Q_OBJECT
public:
    explicit KeychainSecretStore(QObject *parent = nullptr);
    ~KeychainSecretStore() override;

    void readKey(const QString &profile, QObject *context, Callback done) override;
    void writeKey(const QString &profile, const QString &key, QObject *context, Callback done) override;
    void removeKey(const QString &profile, QObject *context, Callback done) override;
    bool isPersistent() const override { return true; }

    void setTimeoutMs(int ms) { m_timeoutMs = ms; }

private:
    int m_timeoutMs = 5000;
};

// A persistent store (the keychain) with a memory fallback: once the primary
// is unavailable, a write keeps the key in memory for the session and says so
// (SecretResult::sessionOnly and error, fellBackToMemory); reads find it there.
// A key kept for the session wins over the primary's.
class FallbackSecretStore : public SecretStore
{
    Q_OBJECT
public:
    explicit FallbackSecretStore(std::unique_ptr<SecretStore> primary, QObject *parent = nullptr);
    ~FallbackSecretStore() override;

    void readKey(const QString &profile, QObject *context, Callback done) override;
    void writeKey(const QString &profile, const QString &key, QObject *context, Callback done) override;
    void removeKey(const QString &profile, QObject *context, Callback done) override;
    bool isPersistent() const override { return !m_fellBack && m_primary->isPersistent(); }
    bool hasFallenBack() const { return m_fellBack; }
    QString fallbackReason() const { return m_reason; }

private:
    void fallBack(const QString &reason);

    std::unique_ptr<SecretStore> m_primary;
    MemorySecretStore m_memory;
    bool m_fellBack = false;
    QString m_reason;
};

} // namespace ccs::storage
