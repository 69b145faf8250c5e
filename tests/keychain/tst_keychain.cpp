// The API key in a real Secret Service: KeychainSecretStore, the Profiles
// dialog and `ccsctl --profile` against a gnome-keyring daemon on a private
// D-Bus session bus, under a throwaway HOME (tests/keychain/run-with-keyring.sh
// sets that up; ctest runs this test only through it). What the keychain holds
// is read back independently with secret-tool. Also: a locked collection (a
// clear error, nothing written to disk) and a bus with no Secret Service (the
// window's fallback banner).
//
// This test never runs against the user's own session: it refuses to start
// unless the wrapper's private bus is the session bus.

#include "SessionTestSupport.h"
#include "common/MessageBanner.h"
#include "connection/ProfileDialog.h"
#include "mainwindow/MainWindow.h"
#include "storage/ProfileStore.h"
#include "storage/SecretStore.h"

#include <QApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace ccs;
using namespace ccs::test;
using storage::SecretResult;

namespace {

const QString kModeKeyring = QStringLiteral("keyring");
const QString kModeNone = QStringLiteral("none");

QString mode()
{
    return qEnvironmentVariable("CCS_KEYCHAIN_TEST_MODE");
}

// Runs a tool to its end; stdout, or a null QByteArray when it failed.
QByteArray runTool(const QString &program, const QStringList &args, int *exitCode = nullptr,
    const QByteArray &input = QByteArray())
{
    QProcess process;
    process.start(program, args);
    if (!process.waitForStarted(10000))
        return {};
    if (!input.isNull())
        process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished(2000);
        return {};
    }
    if (exitCode)
        *exitCode = process.exitCode();
    const QByteArray out = process.readAllStandardOutput();
    return process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0 ? out : QByteArray();
}

// What the Secret Service holds for a profile under the product's service
// name, read with secret-tool (QtKeychain's schema: attributes user, server).
QByteArray lookupInKeychain(const QString &profile, int *exitCode = nullptr)
{
    return runTool(QStringLiteral("secret-tool"),
        {QStringLiteral("lookup"), QStringLiteral("user"), storage::SecretStore::keyName(profile),
            QStringLiteral("server"), QString::fromLatin1(storage::SecretStore::kServiceName)},
        exitCode);
}

int itemsInKeychain(const QString &profile)
{
    QProcess process;
    process.start(QStringLiteral("secret-tool"),
        {QStringLiteral("search"), QStringLiteral("--all"), QStringLiteral("user"),
            storage::SecretStore::keyName(profile), QStringLiteral("server"),
            QString::fromLatin1(storage::SecretStore::kServiceName)});
    if (!process.waitForFinished(30000))
        return -1;
    // One "[/...]" header line per item (on stdout or stderr, depending on the libsecret version).
    const QByteArray all = process.readAllStandardOutput() + process.readAllStandardError();
    int items = 0;
    for (const QByteArray &line : all.split('\n'))
        items += line.startsWith("[/") ? 1 : 0;
    return items;
}

bool dbusSend(const QStringList &args, QByteArray *out = nullptr)
{
    int code = -1;
    const QByteArray reply = runTool(QStringLiteral("dbus-send"),
        QStringList {QStringLiteral("--session"), QStringLiteral("--print-reply=literal"),
            QStringLiteral("--dest=org.freedesktop.secrets")}
            + args,
        &code);
    if (out)
        *out = reply;
    return code == 0;
}

bool loginCollectionLocked()
{
    QByteArray out;
    if (!dbusSend(
            {QStringLiteral("/org/freedesktop/secrets/collection/login"),
                QStringLiteral("org.freedesktop.DBus.Properties.Get"),
                QStringLiteral("string:org.freedesktop.Secret.Collection"), QStringLiteral("string:Locked")},
            &out))
        return false;
    return out.contains("true");
}

QByteArray allFilesUnder(const QString &dir)
{
    QByteArray all;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        QFile file(it.next());
        if (file.open(QIODevice::ReadOnly))
            all += file.readAll();
    }
    return all;
}

// Waits for a store's callback.
template<typename Call> std::optional<SecretResult> await(QObject *context, Call call, int timeoutMs = 30000)
{
    std::optional<SecretResult> result;
    call(context, [&result](const SecretResult &r) { result = r; });
    (void)QTest::qWaitFor([&] { return result.has_value(); }, timeoutMs);
    return result;
}

QString ccsctlBinary()
{
#ifdef CCSCTL_PATH
    if (QFileInfo::exists(QStringLiteral(CCSCTL_PATH)))
        return QStringLiteral(CCSCTL_PATH);
#endif
    return QDir(QCoreApplication::applicationDirPath()).absoluteFilePath(QStringLiteral("../../app/ccsctl"));
}

} // namespace

class TestKeychain : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_config; // XDG_CONFIG_HOME of the ccsctl runs

    // Fills and saves a profile in the dialog; returns the keySaved arguments' sessionOnly.
    static std::optional<bool> saveInDialog(
        ui::ProfileDialog &dialog, const QString &profile, const QString &key)
    {
        auto *newButton = dialog.findChild<QPushButton *>(QStringLiteral("newProfileButton"));
        auto *name = dialog.findChild<QLineEdit *>(QStringLiteral("profileName"));
        auto *host = dialog.findChild<QLineEdit *>(QStringLiteral("profileHost"));
        auto *sender = dialog.findChild<QLineEdit *>(QStringLiteral("profileSenderId"));
        auto *apiKey = dialog.findChild<QLineEdit *>(QStringLiteral("profileApiKey"));
        if (!newButton || !name || !host || !sender || !apiKey)
            return std::nullopt;
        QTest::mouseClick(newButton, Qt::LeftButton);
        name->clear();
        QTest::keyClicks(name, profile);
        host->clear();
        QTest::keyClicks(host, QStringLiteral("127.0.0.1"));
        sender->clear();
        QTest::keyClicks(sender, QStringLiteral("123456789012"));
        QTest::keyClicks(apiKey, key);
        QSignalSpy saved(&dialog, &ui::ProfileDialog::keySaved);
        if (!dialog.saveCurrent())
            return std::nullopt;
        if (!QTest::qWaitFor([&] { return saved.count() == 1; }, 30000))
            return std::nullopt;
        if (!apiKey->text().isEmpty())
            return std::nullopt;
        return saved.first().at(1).toBool();
    }

    struct CtlRun {
        bool finished = false;
        int exitCode = -1;
        QByteArray out, err;
        QJsonObject summary;
    };

    // ccsctl in its own process, while this one serves the emulator.
    CtlRun runCcsctl(const QStringList &args)
    {
        CtlRun r;
        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("CCS_API_KEY"));
        env.remove(QStringLiteral("CCS_SECRET_STORE"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_config.path());
        process.setProcessEnvironment(env);
        process.start(ccsctlBinary(), args);
        if (!process.waitForStarted(10000))
            return r;
        QDeadlineTimer deadline(60000);
        while (process.state() != QProcess::NotRunning && !deadline.hasExpired())
            QTest::qWait(10);
        if (process.state() != QProcess::NotRunning) {
            process.kill();
            process.waitForFinished(2000);
            return r;
        }
        r.finished = process.exitStatus() == QProcess::NormalExit;
        r.exitCode = process.exitCode();
        r.out = process.readAllStandardOutput();
        r.err = process.readAllStandardError();
        for (const QByteArray &line : r.out.split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.value(QStringLiteral("event")).toString() == QLatin1String("summary"))
                r.summary = o;
        }
        return r;
    }

private Q_SLOTS:
    void initTestCase();
    // With a Secret Service (run-with-keyring.sh):
    void storeReadReplaceDelete();
    void profilesDialogStoresInKeychain();
    void ccsctlProfileReadsKeyFromKeychain();
    void lockedCollectionRefusesClearly(); // locks the collection: keep it last of these
    // Without one (run-with-keyring.sh --no-keyring):
    void noSecretServiceFallsBackWithBanner();
};

void TestKeychain::initTestCase()
{
    // Never the user's own keychain: only the wrapper's private bus.
    const QString bus = qEnvironmentVariable("CCS_KEYCHAIN_TEST_BUS");
    QVERIFY2(!bus.isEmpty() && bus == qEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS"),
        "run this test through tests/keychain/run-with-keyring.sh (ctest -L keychain does)");
    QVERIFY2(mode() == kModeKeyring || mode() == kModeNone, qPrintable(mode()));
    const QString home = QDir::homePath();
    QVERIFY2(
        home.startsWith(qEnvironmentVariable("CCS_KEYCHAIN_TEST_DIR")) && !home.isEmpty(), qPrintable(home));
    QVERIFY(m_config.isValid());
}

void TestKeychain::storeReadReplaceDelete()
{
    QCOMPARE(mode(), kModeKeyring);
    const QString profile = QStringLiteral("Keychain store test");
    const QString first = QStringLiteral("kc-first-2b7d4e91a0c3");
    const QString second = QStringLiteral("kc-second-8f0a6c35d1e2");
    storage::KeychainSecretStore store;
    QVERIFY(store.isPersistent());

    // Nothing there yet.
    auto read = await(this, [&](QObject *c, auto done) { store.readKey(profile, c, done); });
    QVERIFY(read);
    QCOMPARE(read->status, SecretResult::Status::NotFound);

    // Store: in the Secret Service, as secret-tool sees it.
    auto written = await(this, [&](QObject *c, auto done) { store.writeKey(profile, first, c, done); });
    QVERIFY(written);
    QVERIFY2(written->ok(), qPrintable(written->error));
    QVERIFY(!written->sessionOnly);
    QCOMPARE(QString::fromUtf8(lookupInKeychain(profile)), first);
    read = await(this, [&](QObject *c, auto done) { store.readKey(profile, c, done); });
    QVERIFY(read && read->ok());
    QCOMPARE(read->secret, first);
    QVERIFY(!read->sessionOnly);

    // Replace: one item, with the new key.
    written = await(this, [&](QObject *c, auto done) { store.writeKey(profile, second, c, done); });
    QVERIFY(written && written->ok());
    QCOMPARE(QString::fromUtf8(lookupInKeychain(profile)), second);
    QCOMPARE(itemsInKeychain(profile), 1);
    read = await(this, [&](QObject *c, auto done) { store.readKey(profile, c, done); });
    QVERIFY(read && read->ok());
    QCOMPARE(read->secret, second);

    // The keyring on disk is encrypted: neither key in plain text under HOME.
    const QByteArray files = allFilesUnder(QDir::homePath())
        + allFilesUnder(qEnvironmentVariable("XDG_DATA_HOME"))
        + allFilesUnder(qEnvironmentVariable("XDG_CONFIG_HOME"));
    QVERIFY(
        QFileInfo::exists(qEnvironmentVariable("XDG_DATA_HOME") + QStringLiteral("/keyrings/login.keyring")));
    QVERIFY(!files.contains(first.toUtf8()));
    QVERIFY(!files.contains(second.toUtf8()));

    // Delete: gone for secret-tool and for the store; deleting again is fine.
    auto removed = await(this, [&](QObject *c, auto done) { store.removeKey(profile, c, done); });
    QVERIFY(removed && removed->ok());
    int code = 0;
    QVERIFY(lookupInKeychain(profile, &code).isEmpty());
    QCOMPARE(code, 1);
    QCOMPARE(itemsInKeychain(profile), 0);
    read = await(this, [&](QObject *c, auto done) { store.readKey(profile, c, done); });
    QVERIFY(read);
    QCOMPARE(read->status, SecretResult::Status::NotFound);
    removed = await(this, [&](QObject *c, auto done) { store.removeKey(profile, c, done); });
    QVERIFY(removed && removed->ok());
}

void TestKeychain::profilesDialogStoresInKeychain()
{
    QCOMPARE(mode(), kModeKeyring);
    const QString profile = QStringLiteral("Keychain dialog test");
    const QString key = QStringLiteral("kc-dialog-5e2f90b7c14a");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    ui::MainWindow::Options options;
    options.secrets = storage::SecretStore::createDefault(); // the product's own: keychain + fallback
    options.profilesIni = dir.filePath(QStringLiteral("ccs-admin.ini"));
    options.autoConnect = false;
    options.restoreLayout = false;
    ui::MainWindow window(std::move(options));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    ui::ProfileDialog dialog(window.profiles(), window.secrets(), &window);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    const auto sessionOnly = saveInDialog(dialog, profile, key);
    QVERIFY(sessionOnly.has_value());
    QVERIFY(!*sessionOnly); // in the keychain, not just for this session
    QVERIFY2(
        dialog.banner()->text().contains(QLatin1String("keychain")), qPrintable(dialog.banner()->text()));
    QVERIFY(window.secrets()->isPersistent());
    QVERIFY(window.banner()->text().isEmpty()
        || !window.banner()->text().contains(QLatin1String("session only")));

    // In the Secret Service under the product's name (this is the private session).
    QCOMPARE(QString::fromUtf8(lookupInKeychain(profile)), key);
    // In the settings file: the profile, never the key.
    QFile ini(dir.filePath(QStringLiteral("ccs-admin.ini")));
    QVERIFY(ini.open(QIODevice::ReadOnly));
    const QByteArray settings = ini.readAll();
    QVERIFY(settings.contains("Keychain dialog test"));
    QVERIFY(!settings.contains(key.toUtf8()));
    QVERIFY(!settings.contains(key.toUtf8().toBase64()));

    // Showing the profile again says a key is stored in the keychain, and never shows it.
    auto *apiKey = dialog.findChild<QLineEdit *>(QStringLiteral("profileApiKey"));
    QVERIFY(apiKey);
    dialog.selectProfile(QStringLiteral("Local emulator"));
    dialog.selectProfile(profile);
    QTRY_VERIFY_WITH_TIMEOUT(apiKey->placeholderText().contains(QLatin1String("keychain")), 30000);
    QVERIFY(apiKey->text().isEmpty());

    // Deleting the profile deletes its key from the keychain.
    auto *remove = dialog.findChild<QPushButton *>(QStringLiteral("removeProfileButton"));
    if (remove) {
        dialog.selectProfile(profile);
        QTest::mouseClick(remove, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(itemsInKeychain(profile) == 0, 30000);
    } else {
        auto removed
            = await(this, [&](QObject *c, auto done) { window.secrets()->removeKey(profile, c, done); });
        QVERIFY(removed && removed->ok());
    }
    dialog.close();
}

void TestKeychain::ccsctlProfileReadsKeyFromKeychain()
{
    QCOMPARE(mode(), kModeKeyring);
    TestEmulator emu;
    CCS_START_EMULATOR(emu);
    const QString profileName = QStringLiteral("Keychain ccsctl test");
    // The profile store ccsctl reads: XDG_CONFIG_HOME/ccs-admin/ccs-admin.ini.
    storage::ProfileStore profiles(m_config.filePath(QStringLiteral("ccs-admin/ccs-admin.ini")));
    storage::Profile profile;
    profile.name = profileName;
    profile.host = QStringLiteral("127.0.0.1");
    profile.port = emu.port();
    profile.senderId = QString::fromLatin1(TestEmulator::kSenderId);
    profile.trust = storage::TrustMode::PinnedCertificate;
    profile.pinnedCertificatePath = emu.certificatePemPath();
    QString error;
    QVERIFY2(profiles.save(profile, &error), qPrintable(error));

    storage::KeychainSecretStore store;
    const QStringList args {QStringLiteral("send"), QStringLiteral("--json"), QStringLiteral("--profile"),
        profileName, QStringLiteral("--to"), QStringLiteral("dev-1"), QStringLiteral("--timeout"),
        QStringLiteral("30")};

    // Without a key in the keychain (and no CCS_API_KEY): a usage error naming the profile.
    CtlRun r = runCcsctl(args);
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("no API key for profile"), r.err.constData());

    // A wrong key in the keychain: the server refuses it (so the key does come from there).
    auto written = await(this, [&](QObject *c, auto done) {
        store.writeKey(profileName, QStringLiteral("wrong-kc-key-1a2b"), c, done);
    });
    QVERIFY(written && written->ok());
    r = runCcsctl(args);
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 3);

    // The right key: sent and ACKed.
    written = await(this, [&](QObject *c, auto done) {
        store.writeKey(profileName, QString::fromLatin1(TestEmulator::kApiKey), c, done);
    });
    QVERIFY(written && written->ok());
    r = runCcsctl(args);
    QVERIFY2(r.finished, r.err.constData());
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.summary.value(QStringLiteral("acked")).toInt(), 1);
    QVERIFY(!r.out.contains(TestEmulator::kApiKey));
    QVERIFY(!r.err.contains(TestEmulator::kApiKey));
    QCOMPARE(emu.server()->counters().authFailures >= 1, true);

    auto removed = await(this, [&](QObject *c, auto done) { store.removeKey(profileName, c, done); });
    QVERIFY(removed && removed->ok());
}

void TestKeychain::lockedCollectionRefusesClearly()
{
    QCOMPARE(mode(), kModeKeyring);
    QVERIFY(!loginCollectionLocked());
    QByteArray reply;
    QVERIFY(dbusSend(
        {QStringLiteral("/org/freedesktop/secrets"), QStringLiteral("org.freedesktop.Secret.Service.Lock"),
            QStringLiteral("array:objpath:/org/freedesktop/secrets/collection/login")},
        &reply));
    QVERIFY(loginCollectionLocked());

    const QString profile = QStringLiteral("Keychain locked test");
    const QString key = QStringLiteral("kc-locked-77c0e5a9d3b1");
    const QString keyrings = qEnvironmentVariable("XDG_DATA_HOME") + QStringLiteral("/keyrings");
    const QByteArray keyringsBefore = allFilesUnder(keyrings);
    QVERIFY(!keyringsBefore.isEmpty());

    // The store itself: an error that says the keychain is locked, not a success.
    storage::KeychainSecretStore store;
    auto written = await(this, [&](QObject *c, auto done) { store.writeKey(profile, key, c, done); });
    QVERIFY(written);
    QVERIFY(!written->ok());
    QVERIFY2(
        written->error.contains(QLatin1String("locked"), Qt::CaseInsensitive), qPrintable(written->error));
    QVERIFY(!written->error.contains(key));

    // The window: the key is kept for the session, and the dialog says why.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    ui::MainWindow::Options options;
    options.secrets = storage::SecretStore::createDefault();
    options.profilesIni = dir.filePath(QStringLiteral("ccs-admin.ini"));
    options.autoConnect = false;
    options.restoreLayout = false;
    ui::MainWindow window(std::move(options));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    ui::ProfileDialog dialog(window.profiles(), window.secrets(), &window);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    const auto sessionOnly = saveInDialog(dialog, profile, key);
    QVERIFY(sessionOnly.has_value());
    QVERIFY(*sessionOnly);
    const QString banner = dialog.banner()->text();
    QVERIFY2(banner.contains(QLatin1String("locked"), Qt::CaseInsensitive), qPrintable(banner));
    QVERIFY2(banner.contains(QLatin1String("session only")), qPrintable(banner));
    QCOMPARE(dialog.banner()->kind(), ui::MessageBanner::Kind::Warning);
    QVERIFY(!banner.contains(key));
    QVERIFY(!window.secrets()->isPersistent());

    // Nothing reached the keychain or the disk: the keyring files are as they were.
    QCOMPARE(allFilesUnder(keyrings), keyringsBefore);
    const QByteArray files = allFilesUnder(QDir::homePath()) + allFilesUnder(dir.path())
        + allFilesUnder(qEnvironmentVariable("XDG_DATA_HOME"))
        + allFilesUnder(qEnvironmentVariable("XDG_CONFIG_HOME"));
    QVERIFY(files.contains("Keychain locked test")); // the profile itself was saved
    QVERIFY(!files.contains(key.toUtf8()));
    QVERIFY(!files.contains(key.toUtf8().toBase64()));
    dialog.close();
}

void TestKeychain::noSecretServiceFallsBackWithBanner()
{
    QCOMPARE(mode(), kModeNone);
    const QString profile = QStringLiteral("No keychain test");
    const QString key = QStringLiteral("kc-none-3a8e61f0b2d9");

    storage::KeychainSecretStore store;
    auto written = await(this, [&](QObject *c, auto done) { store.writeKey(profile, key, c, done); });
    QVERIFY(written);
    QCOMPARE(written->status, SecretResult::Status::Unavailable);
    QVERIFY(!written->error.contains(key));

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    ui::MainWindow::Options options;
    options.secrets = storage::SecretStore::createDefault();
    options.profilesIni = dir.filePath(QStringLiteral("ccs-admin.ini"));
    options.autoConnect = false;
    options.restoreLayout = false;
    ui::MainWindow window(std::move(options));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.banner()->text().isEmpty()); // nothing said before the keychain was asked
    ui::ProfileDialog dialog(window.profiles(), window.secrets(), &window);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    const auto sessionOnly = saveInDialog(dialog, profile, key);
    QVERIFY(sessionOnly.has_value());
    QVERIFY(*sessionOnly);
    // The window's banner: keys are kept for this session only.
    QTRY_VERIFY_WITH_TIMEOUT(window.banner()->text().contains(QLatin1String("session only")), 10000);
    QCOMPARE(window.banner()->kind(), ui::MessageBanner::Kind::Warning);
    QVERIFY(!window.banner()->text().contains(key));
    QVERIFY(dialog.banner()->text().contains(QLatin1String("session only")));
    QVERIFY(!window.secrets()->isPersistent());
    // The key is usable for the session...
    auto read = await(this, [&](QObject *c, auto done) { window.secrets()->readKey(profile, c, done); });
    QVERIFY(read && read->ok());
    QCOMPARE(read->secret, key);
    QVERIFY(read->sessionOnly);
    // ...and on disk nowhere.
    const QByteArray files = allFilesUnder(QDir::homePath()) + allFilesUnder(dir.path())
        + allFilesUnder(qEnvironmentVariable("XDG_CONFIG_HOME"));
    QVERIFY(files.contains("No keychain test"));
    QVERIFY(!files.contains(key.toUtf8()));
    dialog.close();
}

QTEST_MAIN(TestKeychain)
#include "tst_keychain.moc"
