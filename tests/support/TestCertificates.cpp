#include "TestCertificates.h"

#include <QDateTime>

#include <atomic>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace ccs::test {

namespace {
template<typename Write> QByteArray pem(Write write)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return {};
    write(bio);
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    QByteArray bytes(data, int(size));
    BIO_free(bio);
    return bytes;
}
} // namespace

bool makeTestCertificate(const QStringList &names, long notBeforeSeconds, long notAfterSeconds,
    TestCertificate *out, QString *error)
{
    // Distinct serial numbers, also for certificates made within the same second.
    static std::atomic<long> serial {long(QDateTime::currentSecsSinceEpoch() & 0x3fffffff)};
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    bool ok = key && cert && !names.isEmpty();
    if (ok) {
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
        X509_gmtime_adj(X509_getm_notBefore(cert), notBeforeSeconds);
        X509_gmtime_adj(X509_getm_notAfter(cert), notAfterSeconds);
        X509_set_pubkey(cert, key);
        X509_NAME *subject = X509_get_subject_name(cert);
        const QByteArray cn = names.constFirst().toLatin1();
        X509_NAME_add_entry_by_txt(
            subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>(cn.constData()), -1, -1, 0);
        X509_set_issuer_name(cert, subject);
        QByteArray san;
        for (const QString &n : names) {
            if (!san.isEmpty())
                san += ',';
            san += (n.front().isDigit() ? "IP:" : "DNS:") + n.toLatin1();
        }
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.constData());
        ok = ext && X509_add_ext(cert, ext, -1) == 1;
        X509_EXTENSION_free(ext);
        ok = ok && X509_sign(cert, key, EVP_sha256()) != 0;
    }
    if (ok) {
        out->certificate = QSslCertificate(pem([cert](BIO *b) { PEM_write_bio_X509(b, cert); }), QSsl::Pem);
        out->key = QSslKey(
            pem([key](BIO *b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); }),
            QSsl::Ec, QSsl::Pem, QSsl::PrivateKey);
        ok = !out->certificate.isNull() && !out->key.isNull();
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok && error)
        *error = QStringLiteral("could not make a test certificate for %1").arg(names.join(u','));
    return ok;
}

QStringList goodCertificateNames()
{
    return {QStringLiteral("gcm.googleapis.com"), QStringLiteral("localhost"), QStringLiteral("127.0.0.1")};
}

} // namespace ccs::test
