// Secrets: the API key never reaches the traffic log, the application log,
// an error message, the settings file or a ledger export; SASL PLAIN is never
// sent before TLS; the emulator's admin API refuses requests without its
// token and listens on loopback only.

#include "HostileServer.h"
#include "SessionTestSupport.h"
#include "client/ClientLog_p.h"
#include "server/EmulatorAdminApi.h"
#include "server/EmulatorStream_p.h"
#include "storage/HistoryExport.h"
#include "storage/ProfileStore.h"
#include "storage/SecretStore.h"
#include "storage/StorageLog_p.h"

#include <QDirIterator>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkInterface>
#include <QNetworkReply>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <optional>

using namespace ccs;
using namespace ccs::test;

namespace {

QtMessageHandler g_previousHandler = nullptr;
QStringList g_log;
constexpr auto kPlanted = "planted-line-7c41";

QString levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return QStringLiteral("debug");
    case QtInfoMsg:
        return QStringLiteral("info");
    case QtWarningMsg:
        return QStringLiteral("warning");
    case QtCriticalMsg:
        return QStringLiteral("critical");
    case QtFatalMsg:
        return QStringLiteral("fatal");
    }
    return {};
}

// Every message of every category and level, as "category level text".
void captureMessages(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    g_log.append(QString::fromLatin1(context.category ? context.category : "") + QLatin1Char(' ')
        + levelName(type) + QLatin1Char(' ') + message);
    if (type != QtDebugMsg && type != QtInfoMsg && g_previousHandler
        && !message.contains(QLatin1String(kPlanted)))
        g_previousHandler(type, context, message);
}

// The forms a key can leak in: itself, and the base64 SASL PLAIN blob.
QList<QByteArray> secretForms(const QString &senderId, const QString &key)
{
    const QByteArray blob = QByteArray(1, '\0') + senderId.toUtf8() + "@gcm.googleapis.com"
        + QByteArray(1, '\0') + key.toUtf8();
    const QByteArray blobNoAuthcidDomain
        = QByteArray(1, '\0') + senderId.toUtf8() + QByteArray(1, '\0') + key.toUtf8();
    return {key.toUtf8(), blob.toBase64(), blobNoAuthcidDomain.toBase64(), key.toUtf8().toBase64()};
}

QString leakIn(const QByteArray &haystack, const QList<QByteArray> &forms)
{
    for (const QByteArray &form : forms) {
        if (haystack.contains(form))
            return QString::fromLatin1(form.left(12)) + QStringLiteral("...");
    }
    return {};
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

} // namespace

class TestSecrets : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void captureSeesEveryCategoryAndLevel();
    void trafficAndLogsNeverHoldTheKey();
    void wrongKeyNeverEchoed();
    void settingsAndExportNeverHoldTheKey();
    void saslNeverBeforeTls_data();
    void saslNeverBeforeTls();
    void adminApiNeedsToken();
    void adminApiLoopbackOnly();
};

void TestSecrets::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QLoggingCategory::setFilterRules(QStringLiteral("ccs.*=true"));
    g_previousHandler = qInstallMessageHandler(captureMessages);
}

void TestSecrets::cleanupTestCase()
{
    qInstallMessageHandler(g_previousHandler);
}

// The capture is only as good as what reaches it: a filter rule from the
// environment (QT_LOGGING_RULES overrides setFilterRules) or a disabled level
// would hide lines from the leak checks below. A line planted in every
// category the product logs to, at every level, must come back.
void TestSecrets::captureSeesEveryCategoryAndLevel()
{
    g_log.clear();
    const QList<const QLoggingCategory *> categories {
        &lcCcsCore(), &lcCcsXmpp(), &lcCcsServer(), &lcStorage()};
    for (const QLoggingCategory *category : categories) {
        QVERIFY2(category->isDebugEnabled(), category->categoryName());
        const QString tag = QString::fromLatin1(category->categoryName());
        QMessageLogger(nullptr, 0, nullptr, category->categoryName())
            .debug("%s %s debug", kPlanted, category->categoryName());
        QMessageLogger(nullptr, 0, nullptr, category->categoryName())
            .info("%s %s info", kPlanted, category->categoryName());
        QMessageLogger(nullptr, 0, nullptr, category->categoryName())
            .warning("%s %s warning", kPlanted, category->categoryName());
        QMessageLogger(nullptr, 0, nullptr, category->categoryName())
            .critical("%s %s critical", kPlanted, category->categoryName());
        // Through the product's own macros too (they test isXxxEnabled() first).
        qCDebug(*category) << kPlanted << "macro" << tag << "debug";
        qCInfo(*category) << kPlanted << "macro" << tag << "info";
        qCWarning(*category) << kPlanted << "macro" << tag << "warning";
    }
    for (const QLoggingCategory *category : categories) {
        const QString name = QString::fromLatin1(category->categoryName());
        for (const QString &level : {QStringLiteral("debug"), QStringLiteral("info"),
                 QStringLiteral("warning"), QStringLiteral("critical")}) {
            const QString planted
                = QStringLiteral("%1 %2 %3 %4").arg(name, level, QLatin1String(kPlanted), name);
            QVERIFY2(g_log.contains(planted + QLatin1Char(' ') + level), qPrintable(planted));
        }
        for (const QString &level :
            {QStringLiteral("debug"), QStringLiteral("info"), QStringLiteral("warning")}) {
            const QString planted
                = QStringLiteral("%1 %2 %3 macro \"%1\" %2").arg(name, level, QLatin1String(kPlanted));
            QVERIFY2(g_log.contains(planted),
                qPrintable(planted + QStringLiteral(" | ") + g_log.join(QLatin1Char('\n'))));
        }
    }
}

void TestSecrets::trafficAndLogsNeverHoldTheKey()
{
    g_log.clear();
    TestEmulator emu;
    CCS_START_EMULATOR(emu);
    CcsSession session;
    QStringList traffic;
    connect(&session, &CcsSession::trafficLogged, this,
        [&](TrafficDirection, int, const QString &xml) { traffic.append(xml); });
    QSignalSpy upstream(&session, &CcsSession::upstreamReceived);
    CCS_OPEN_SESSION(session, emu.clientSettings());
    for (int i = 0; i < 5; ++i)
        QVERIFY(session.send(downstream()));
    QVERIFY(!emu.server()
                 ->sendUpstream(QStringLiteral("dev-1"), QJsonObject {{QStringLiteral("k"), 1}})
                 .isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), 5, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(upstream.count(), 1, 10000);
    // A drop and a reconnect log more (errors, a second SASL exchange).
    emu.server()->dropConnections();
    QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Connected, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(emu.server()->counters().connectionsAccepted >= 2, 10000);
    session.close();
    QTRY_VERIFY_WITH_TIMEOUT(emu.server()->openConnections() == 0, 10000);

    const auto forms = secretForms(
        QString::fromLatin1(TestEmulator::kSenderId), QString::fromLatin1(TestEmulator::kApiKey));
    // The test could fail: SASL did go by, redacted.
    const auto auth = std::find_if(traffic.cbegin(), traffic.cend(),
        [](const QString &x) { return x.contains(QLatin1String("<auth")); });
    QVERIFY2(auth != traffic.cend(), "no <auth> in the traffic log");
    QVERIFY2(auth->contains(QLatin1String("[redacted]")), qPrintable(*auth));
    for (const QString &line : std::as_const(traffic))
        QVERIFY2(leakIn(line.toUtf8(), forms).isEmpty(), qPrintable(line));
    QVERIFY(g_log.size() > 5); // the log did run
    // ...at debug level too, in the session and in the connection: the lines a
    // filter would hide first.
    QVERIFY2(g_log.contains(QStringLiteral("ccs.core debug opening connection 1")),
        qPrintable(g_log.join(QLatin1Char('\n'))));
    QVERIFY(std::any_of(g_log.cbegin(), g_log.cend(), [](const QString &line) {
        return line.startsWith(QLatin1String("ccs.xmpp debug connection"))
            && line.endsWith(QLatin1String(" authenticated"));
    }));
    for (const QString &line : std::as_const(g_log))
        QVERIFY2(leakIn(line.toUtf8(), forms).isEmpty(), qPrintable(line));
    QVERIFY(leakIn(session.lastErrorString().toUtf8(), forms).isEmpty());
}

void TestSecrets::wrongKeyNeverEchoed()
{
    g_log.clear();
    TestEmulator emu;
    CCS_START_EMULATOR(emu);
    CcsSession session;
    QStringList traffic;
    connect(&session, &CcsSession::trafficLogged, this,
        [&](TrafficDirection, int, const QString &xml) { traffic.append(xml); });
    QSignalSpy errors(&session, &CcsSession::errorOccurred);
    ConnectionSettings settings = emu.clientSettings();
    settings.apiKey = QStringLiteral("wrong-key-5f3a9c0e7d21b84f");
    session.setSettings(settings);
    session.open();
    QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Error, 10000);
    QCOMPARE(session.lastError(), SessionError::AuthenticationFailed);
    session.close();
    QTest::qWait(100);

    const auto forms = secretForms(settings.senderId, settings.apiKey);
    QVERIFY(!errors.isEmpty());
    for (const auto &e : std::as_const(errors))
        QVERIFY2(leakIn(e.at(1).toString().toUtf8(), forms).isEmpty(), qPrintable(e.at(1).toString()));
    QVERIFY(leakIn(session.lastErrorString().toUtf8(), forms).isEmpty());
    for (const QString &line : std::as_const(traffic))
        QVERIFY2(leakIn(line.toUtf8(), forms).isEmpty(), qPrintable(line));
    for (const QString &line : std::as_const(g_log))
        QVERIFY2(leakIn(line.toUtf8(), forms).isEmpty(), qPrintable(line));
}

void TestSecrets::settingsAndExportNeverHoldTheKey()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString key = QStringLiteral("settings-key-8e1f2a3b4c5d6e7f");
    const QString ini = dir.filePath(QStringLiteral("ccs-admin.ini"));
    {
        storage::ProfileStore profiles(ini);
        storage::Profile p;
        p.name = QStringLiteral("Staging");
        p.host = QStringLiteral("127.0.0.1");
        p.senderId = QStringLiteral("123456789012");
        QString error;
        QVERIFY2(profiles.save(p, &error), qPrintable(error));
        profiles.setLastProfile(p.name);
        // The key goes to the secret store as the window's default does when no keychain
        // answers: a fallback that keeps it for the session. It may not reach a settings
        // file. (Never the real keychain here: that is tst_keychain's, in a private
        // D-Bus session, so no test touches the user's own keychain.)
        auto primary = std::make_unique<storage::MemorySecretStore>();
        primary->setSimulateUnavailable(true);
        storage::FallbackSecretStore secrets(std::move(primary));
        std::optional<storage::SecretResult> written;
        secrets.writeKey(p.name, key, this, [&](const storage::SecretResult &r) { written = r; });
        QTRY_VERIFY_WITH_TIMEOUT(written.has_value(), 30000);
        QVERIFY(written->ok());
        QVERIFY(written->sessionOnly);
        QVERIFY(!written->error.isEmpty());
        QVERIFY(!written->error.contains(key));
        std::optional<storage::SecretResult> read;
        secrets.readKey(p.name, this, [&](const storage::SecretResult &r) { read = r; });
        QTRY_VERIFY_WITH_TIMEOUT(read.has_value(), 30000);
        QCOMPARE(read->secret, key); // it was stored, just not on disk
    }
    const QByteArray files = allFilesUnder(dir.path())
        + allFilesUnder(QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation))
        + allFilesUnder(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation));
    QVERIFY(files.contains("Staging")); // the profile was written
    QVERIFY(!files.contains(key.toUtf8()));
    QVERIFY(!files.contains(key.toUtf8().toBase64()));

    // A ledger export of a session that used the key.
    TestEmulator emu;
    CCS_START_EMULATOR(emu);
    CcsSession session;
    CCS_OPEN_SESSION(session, emu.clientSettings());
    for (int i = 0; i < 3; ++i)
        QVERIFY(session.send(downstream()));
    QVERIFY(session.send(downstream(QStringLiteral("dev-unregistered"))));
    QTRY_COMPARE_WITH_TIMEOUT(terminalCount(session.ledger()), 4, 10000);
    for (const auto format : {storage::ExportFormat::JsonLines, storage::ExportFormat::Csv}) {
        const QString path = dir.filePath(
            format == storage::ExportFormat::Csv ? QStringLiteral("out.csv") : QStringLiteral("out.jsonl"));
        storage::HistoryWriter writer;
        QString error;
        QVERIFY2(writer.open(path, format, storage::ledgerCsvColumns(), &error), qPrintable(error));
        for (int i = 0; i < session.ledger()->size(); ++i)
            writer.write(storage::ledgerEntryToJson(session.ledger()->at(i)));
        QVERIFY2(writer.commit(&error), qPrintable(error));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        QVERIFY(bytes.contains(session.ledger()->at(0).message.messageId.toUtf8()));
        const auto forms = secretForms(
            QString::fromLatin1(TestEmulator::kSenderId), QString::fromLatin1(TestEmulator::kApiKey));
        QVERIFY2(leakIn(bytes, forms).isEmpty(), qPrintable(path));
    }
    session.close();
}

void TestSecrets::saslNeverBeforeTls_data()
{
    QTest::addColumn<QByteArray>("greeting");
    const QByteArray header
        = "<?xml version='1.0'?><stream:stream from='gcm.googleapis.com' id='p' version='1.0' "
          "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    QTest::newRow("silent-plain-tcp") << QByteArray();
    QTest::newRow("plain-xmpp-offering-plain") << header
            + "<stream:features><mechanisms "
              "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></"
              "stream:features>";
    QTest::newRow("plain-xmpp-sasl-success") << header
            + "<stream:features><mechanisms "
              "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></"
              "stream:features><success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
    QTest::newRow("plain-starttls-offer") << header
            + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><mechanisms "
              "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></"
              "stream:features>";
}

// A plain TCP server that records every byte: the client must refuse before any credentials.
void TestSecrets::saslNeverBeforeTls()
{
    QFETCH(QByteArray, greeting);
    TestCertificate cert;
    QVERIFY(makeTestCertificate(goodCertificateNames(), -3600, 86400, &cert));
    HostileServer server(false);
    HostileScript script;
    script.stage = HostileStage::SilentAfterTls; // nothing past the greeting
    script.onlyFirstConnection = false;
    script.onConnect = greeting;
    server.setScript(script);
    QVERIFY(server.listen());

    CcsSession session;
    QSignalSpy errors(&session, &CcsSession::errorOccurred);
    QVERIFY(session.send(downstream()));
    ConnectionSettings s;
    s.host = QStringLiteral("127.0.0.1");
    s.port = server.port();
    s.senderId = QString::fromLatin1(TestEmulator::kSenderId);
    s.apiKey = QString::fromLatin1(TestEmulator::kApiKey);
    s.pinnedCertificates = {cert.certificate};
    s.connectTimeoutMs = 2000;
    session.setSettings(s);
    session.open();
    QTRY_VERIFY_WITH_TIMEOUT(!errors.isEmpty(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(server.connections() >= 1, 5000);
    QVERIFY(session.state() != SessionState::Connected);
    const auto error = errors.first().at(0).value<SessionError>();
    QVERIFY2(error == SessionError::TlsError || error == SessionError::Timeout,
        qPrintable(sessionErrorName(error)));
    session.close();
    QTest::qWait(50);

    const auto forms = secretForms(s.senderId, s.apiKey);
    for (const QByteArray &bytes : server.received()) {
        QVERIFY(!bytes.contains("<auth"));
        QVERIFY(!bytes.contains("<stream:stream")); // TLS first: no XMPP in clear at all
        QVERIFY2(leakIn(bytes, forms).isEmpty(), qPrintable(leakIn(bytes, forms)));
    }
    QCOMPARE(session.ledger()->find(session.ledger()->at(0).message.messageId)->state, MessageState::Queued);
}

void TestSecrets::adminApiNeedsToken()
{
    TestEmulator emu;
    CCS_START_EMULATOR(emu);
    emulator::EmulatorAdminApi api(emu.server());
    QString error;
    QVERIFY2(api.listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
    QVERIFY(api.token().size() >= 32);

    QNetworkAccessManager nam;
    auto get = [&](const QByteArray &authorization, const QString &path = QStringLiteral("/api/v1/status"),
                   const QByteArray &verb = "GET") {
        QNetworkRequest request(QUrl(api.baseUrl() + path));
        if (!authorization.isNull())
            request.setRawHeader("Authorization", authorization);
        QNetworkReply *reply = nam.sendCustomRequest(request, verb);
        QSignalSpy done(reply, &QNetworkReply::finished);
        const bool finished = done.wait(5000);
        const int status = finished ? reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() : -1;
        reply->deleteLater();
        return status;
    };
    const QByteArray token = api.token().toLatin1();
    QCOMPARE(get("Bearer " + token), 200);
    QCOMPARE(get(QByteArray()), 401);
    QCOMPARE(get("Bearer "), 401);
    QCOMPARE(get("Bearer wrong"), 401);
    QCOMPARE(get("Bearer " + token.left(token.size() - 1)), 401);
    QCOMPARE(get("Bearer " + token + "x"), 401);
    QCOMPARE(get("Basic " + token), 401);
    QCOMPARE(get(token), 401);
    QCOMPARE(get(QByteArray(), QStringLiteral("/api/v1/status?token=") + api.token()), 401);
    // Changes need the token too.
    QCOMPARE(get(QByteArray(), QStringLiteral("/api/v1/connections/drop"), "POST"), 401);
    QCOMPARE(get(QByteArray(), QStringLiteral("/api/v1/record"), "DELETE"), 401);
    QCOMPARE(get(QByteArray(), QStringLiteral("/api/v1/devices/dev-1"), "DELETE"), 401);
    QCOMPARE(emu.server()->devices().size(), 6);
    // A second instance has another token.
    emulator::EmulatorAdminApi other(emu.server());
    QVERIFY(other.token() != api.token());
}

void TestSecrets::adminApiLoopbackOnly()
{
    TestEmulator emu;
    CCS_START_EMULATOR(emu);
    for (const QHostAddress &address : {QHostAddress(QHostAddress::Any), QHostAddress(QHostAddress::AnyIPv4),
             QHostAddress(QHostAddress::AnyIPv6), QHostAddress(QStringLiteral("192.0.2.1"))}) {
        emulator::EmulatorAdminApi api(emu.server());
        QString error;
        QVERIFY2(!api.listen(address, 0, &error), qPrintable(address.toString()));
        QVERIFY(error.contains(QLatin1String("loopback")));
    }
    emulator::EmulatorAdminApi api(emu.server());
    QVERIFY(api.listen());
    QVERIFY(QUrl(api.baseUrl()).host() == QLatin1String("127.0.0.1"));
    // Not reachable on this machine's other addresses.
    for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
        if (address.isLoopback() || address.protocol() != QAbstractSocket::IPv4Protocol)
            continue;
        QTcpSocket socket;
        socket.connectToHost(address, api.port());
        QVERIFY2(!socket.waitForConnected(2000), qPrintable(address.toString()));
    }
}

QTEST_GUILESS_MAIN(TestSecrets)
#include "tst_secrets.moc"
