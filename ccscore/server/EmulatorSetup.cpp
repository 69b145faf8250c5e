#include "EmulatorSetup.h"

#include "EmulatorStream_p.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QStandardPaths>

#include <memory>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace ccs::emulator {

namespace {
constexpr int kValidityDays = 825; // the longest some TLS stacks accept for a server certificate
constexpr int kRenewDays = 30;

template<typename T, void (*F)(T *)> struct Deleter {
    void operator()(T *p) const { F(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PKeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

bool setError(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

QByteArray bioContents(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? QByteArray(data, static_cast<qsizetype>(size)) : QByteArray();
}

bool addExtension(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
    return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

QString randomDigits(int n)
{
    QString s;
    s.append(QChar(u'1' + QRandomGenerator::system()->bounded(9)));
    while (s.size() < n)
        s.append(QChar(u'0' + QRandomGenerator::system()->bounded(10)));
    return s;
}

QString randomKey()
{
    QByteArray raw(30, Qt::Uninitialized);
    for (char &c : raw)
        c = static_cast<char>(QRandomGenerator::system()->bounded(256));
    return QStringLiteral("AIza")
        + QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QString dirOrDefault(const QString &directory)
{
    return directory.isEmpty() ? emulatorDataDirectory() : directory;
}
} // namespace

QStringList emulatorCertificateNames()
{
    return {QStringLiteral("localhost"), QStringLiteral("127.0.0.1"), QStringLiteral("gcm.googleapis.com"),
        QStringLiteral("gcm-preprod.googleapis.com"), QStringLiteral("fcm.googleapis.com"),
        QStringLiteral("fcm-xmpp.googleapis.com")};
}

bool generateSelfSignedCertificate(QSslCertificate *certificate, QSslKey *privateKey, QString *error)
{
    PKeyCtxPtr keyCtx(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
    EVP_PKEY *rawKey = nullptr;
    if (!keyCtx || EVP_PKEY_keygen_init(keyCtx.get()) != 1
        || EVP_PKEY_CTX_set_ec_paramgen_curve_nid(keyCtx.get(), NID_X9_62_prime256v1) != 1
        || EVP_PKEY_keygen(keyCtx.get(), &rawKey) != 1)
        return setError(error, QObject::tr("OpenSSL could not generate an EC P-256 key."));
    PKeyPtr key(rawKey);

    X509Ptr cert(X509_new());
    if (!cert)
        return setError(error, QObject::tr("OpenSSL could not allocate a certificate."));
    X509_set_version(cert.get(), 2); // X509v3
    {
        unsigned char serial[16];
        for (unsigned char &b : serial)
            b = static_cast<unsigned char>(QRandomGenerator::system()->bounded(256));
        serial[0] &= 0x7f; // positive
        BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
        if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())))
            return setError(error, QObject::tr("OpenSSL could not set the certificate serial number."));
    }
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600L);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(kValidityDays) * 86400L);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME *name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(
        name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("CCS Admin"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("CCS Admin emulator"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);

    QByteArray san;
    for (const QString &n : emulatorCertificateNames()) {
        if (!san.isEmpty())
            san += ',';
        san += (n.front().isDigit() ? "IP:" : "DNS:") + n.toLatin1();
    }
    // No keyUsage: without keyCertSign, OpenSSL would not see the certificate
    // as its own issuer, and a pinned self-signed certificate is exactly that.
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    if (!addExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE")
        || !addExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth")
        || !addExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash")
        || !addExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always")
        || !addExtension(cert.get(), &ctx, NID_subject_alt_name, san.constData()))
        return setError(error, QObject::tr("OpenSSL could not add the certificate extensions."));
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
        return setError(error, QObject::tr("OpenSSL could not sign the certificate."));

    BioPtr certBio(BIO_new(BIO_s_mem()));
    BioPtr keyBio(BIO_new(BIO_s_mem()));
    if (!certBio || !keyBio || PEM_write_bio_X509(certBio.get(), cert.get()) != 1
        || PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return setError(error, QObject::tr("OpenSSL could not encode the certificate as PEM."));
    const QSslCertificate qtCert(bioContents(certBio.get()), QSsl::Pem);
    const QSslKey qtKey(bioContents(keyBio.get()), QSsl::Ec, QSsl::Pem, QSsl::PrivateKey);
    if (qtCert.isNull() || qtKey.isNull())
        return setError(error, QObject::tr("Qt could not read the generated certificate."));
    *certificate = qtCert;
    *privateKey = qtKey;
    return true;
}

bool writePemFile(const QString &path, const QByteArray &pem, bool ownerOnly, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return setError(error, QObject::tr("Cannot write %1: %2").arg(path, file.errorString()));
    if (ownerOnly)
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(pem);
    if (!file.commit())
        return setError(error, QObject::tr("Cannot write %1: %2").arg(path, file.errorString()));
    if (ownerOnly)
        QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return true;
}

bool loadCertificateFiles(
    const QString &certPath, const QString &keyPath, CertificateFiles *out, QString *error)
{
    QFile certFile(certPath);
    if (!certFile.open(QIODevice::ReadOnly))
        return setError(
            error, QObject::tr("Cannot read the certificate %1: %2").arg(certPath, certFile.errorString()));
    const QList<QSslCertificate> certs = QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
    if (certs.isEmpty() || certs.first().isNull())
        return setError(error, QObject::tr("%1 holds no PEM certificate.").arg(certPath));
    QFile keyFile(keyPath);
    if (!keyFile.open(QIODevice::ReadOnly))
        return setError(
            error, QObject::tr("Cannot read the private key %1: %2").arg(keyPath, keyFile.errorString()));
    const QByteArray keyPem = keyFile.readAll();
    QSslKey key;
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Ec, QSsl::Rsa}) {
        key = QSslKey(keyPem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull())
            break;
    }
    if (key.isNull())
        return setError(error, QObject::tr("%1 holds no unencrypted EC or RSA private key.").arg(keyPath));
    out->certificate = certs.first();
    out->privateKey = key;
    out->certificatePath = certPath;
    out->privateKeyPath = keyPath;
    out->created = false;
    return true;
}

bool loadOrCreateEmulatorCertificate(CertificateFiles *out, QString *error, const QString &directory)
{
    const QString dir = dirOrDefault(directory);
    if (!QDir().mkpath(dir))
        return setError(error, QObject::tr("Cannot create the folder %1.").arg(dir));
    const QString certPath = QDir(dir).filePath(QStringLiteral("cert.pem"));
    const QString keyPath = QDir(dir).filePath(QStringLiteral("key.pem"));
    if (QFile::exists(certPath) && QFile::exists(keyPath)) {
        CertificateFiles loaded;
        if (loadCertificateFiles(certPath, keyPath, &loaded)
            && loaded.certificate.expiryDate() > QDateTime::currentDateTimeUtc().addDays(kRenewDays)) {
            *out = loaded;
            return true;
        }
        qCInfo(lcCcsServer) << "replacing the emulator certificate in" << dir << "(unreadable or expiring)";
    }
    QSslCertificate cert;
    QSslKey key;
    if (!generateSelfSignedCertificate(&cert, &key, error))
        return false;
    if (!writePemFile(keyPath, key.toPem(), true, error)
        || !writePemFile(certPath, cert.toPem(), false, error))
        return false;
    out->certificate = cert;
    out->privateKey = key;
    out->certificatePath = certPath;
    out->privateKeyPath = keyPath;
    out->created = true;
    qCInfo(lcCcsServer) << "created the emulator certificate" << certPath;
    return true;
}

QString certificateFingerprint(const QSslCertificate &certificate)
{
    const QByteArray digest = certificate.digest(QCryptographicHash::Sha256).toHex().toUpper();
    QStringList pairs;
    for (qsizetype i = 0; i < digest.size(); i += 2)
        pairs.append(QString::fromLatin1(digest.mid(i, 2)));
    return pairs.join(QLatin1Char(':'));
}

SenderCredentials generateSenderCredentials()
{
    return SenderCredentials {randomDigits(12), randomKey()};
}

bool readApiKeyFile(const QString &path, QString *apiKey, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return setError(
            error, QObject::tr("Cannot read the API key file %1: %2").arg(path, file.errorString()));
    const QString key = QString::fromUtf8(file.readLine(4096)).trimmed();
    if (key.isEmpty())
        return setError(error, QObject::tr("The API key file %1 is empty.").arg(path));
    *apiKey = key;
    return true;
}

bool loadOrCreateSenderCredentials(
    SenderCredentials *out, QString *apiKeyPath, QString *error, const QString &directory)
{
    const QString dir = dirOrDefault(directory);
    if (!QDir().mkpath(dir))
        return setError(error, QObject::tr("Cannot create the folder %1.").arg(dir));
    const QString idPath = QDir(dir).filePath(QStringLiteral("sender-id"));
    const QString keyPath = QDir(dir).filePath(QStringLiteral("api-key"));
    if (apiKeyPath)
        *apiKeyPath = keyPath;
    QFile idFile(idPath);
    QString key;
    if (idFile.open(QIODevice::ReadOnly) && readApiKeyFile(keyPath, &key)) {
        const QString id = QString::fromUtf8(idFile.readLine(64)).trimmed();
        if (!id.isEmpty()) {
            *out = SenderCredentials {id, key};
            return true;
        }
    }
    const SenderCredentials fresh = generateSenderCredentials();
    if (!writePemFile(keyPath, fresh.apiKey.toUtf8() + '\n', true, error)
        || !writePemFile(idPath, fresh.senderId.toUtf8() + '\n', false, error))
        return false;
    *out = fresh;
    return true;
}

QList<DeviceSpec> defaultDevices(int count)
{
    struct Template {
        const char *token;
        const char *name;
        DeviceKind kind;
    };
    static const Template templates[] = {
        {"emu-pixel-7-registered", "Pixel 7", DeviceKind::Registered},
        {"emu-galaxy-s23-registered", "Galaxy S23", DeviceKind::Registered},
        {"emu-tab-s8-idle", "Galaxy Tab S8 (idle)", DeviceKind::Idle},
        {"emu-nexus-5-unregistered", "Nexus 5 (app uninstalled)", DeviceKind::Unregistered},
        {"emu-watch-4-rate-limited", "Galaxy Watch 4 (rate limited)", DeviceKind::RateLimited},
    };
    QList<DeviceSpec> out;
    for (int i = 0; i < count; ++i) {
        DeviceSpec spec;
        if (i < static_cast<int>(std::size(templates))) {
            spec.token = QLatin1String(templates[i].token);
            spec.name = QLatin1String(templates[i].name);
            spec.kind = templates[i].kind;
            if (spec.kind == DeviceKind::RateLimited)
                spec.maxMessagesPerMinute = 10;
        } else {
            spec.token = QStringLiteral("emu-device-%1-registered").arg(i + 1);
            spec.name = QStringLiteral("Device %1").arg(i + 1);
        }
        out.append(spec);
    }
    return out;
}

EmulatorConfig defaultEmulatorConfig()
{
    EmulatorConfig config;
    config.address = QHostAddress::LocalHost;
    config.port = 0;
    config.senders = {generateSenderCredentials()};
    config.devices = defaultDevices(5);
    return config;
}

bool makeLocalEmulatorConfig(
    EmulatorConfig *config, QString *certificatePath, QString *error, const QString &directory)
{
    EmulatorConfig c = defaultEmulatorConfig();
    SenderCredentials sender;
    if (!loadOrCreateSenderCredentials(&sender, nullptr, error, directory))
        return false;
    CertificateFiles files;
    if (!loadOrCreateEmulatorCertificate(&files, error, directory))
        return false;
    c.senders = {sender};
    c.certificate = files.certificate;
    c.privateKey = files.privateKey;
    if (certificatePath)
        *certificatePath = files.certificatePath;
    *config = c;
    return true;
}

QString emulatorDataDirectory()
{
    const QString base = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    return QDir(base).filePath(QStringLiteral("emulator"));
}

} // namespace ccs::emulator
