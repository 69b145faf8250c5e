#pragma once

#include <QSslCertificate>
#include <QSslKey>
#include <QStringList>

namespace ccs::test {

struct TestCertificate {
    QSslCertificate certificate;
    QSslKey key;
};

// The one way tests make certificates (the emulators of the tests, the hostile
// servers, the expired and not-yet-valid ones): a self-signed EC P-256
// certificate naming `names` (DNS names or IP addresses; the first is the CN),
// valid from now + notBeforeSeconds to now + notAfterSeconds (negative: in the past).
// The emulator's own generator (emulator::generateSelfSignedCertificate) is product
// code, tested in tst_emulator_setup.
bool makeTestCertificate(const QStringList &names, long notBeforeSeconds, long notAfterSeconds,
    TestCertificate *out, QString *error = nullptr);

// gcm.googleapis.com, localhost and 127.0.0.1: what a client that connects to 127.0.0.1
// with the CCS domain verifies.
QStringList goodCertificateNames();

// Valid from an hour ago for a day.
constexpr long kValidFrom = -3600;
constexpr long kValidUntil = 86400;

} // namespace ccs::test
