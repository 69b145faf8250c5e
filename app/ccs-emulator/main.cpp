// ccs-emulator: the CCS emulator from the command line, for people testing
// their own app servers (and for the interoperability test).
#include "ccscore/Version.h"
#include "protocol/NackCatalogue.h"
#include "server/EmulatorAdminApi.h"
#include "server/EmulatorServer.h"
#include "server/EmulatorSetup.h"
#include "server/conformance/ConformanceGrader.h"
#include "server/conformance/ConformanceReport.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QSocketNotifier>
#include <QTextStream>
#include <QThread>
#include <QTimer>
#include <QUrl>

#include <csignal>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#include <unistd.h>
#endif

using namespace ccs;
using namespace ccs::emulator;

namespace {

#ifdef Q_OS_UNIX
int s_signalFds[2] = {-1, -1};
void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(s_signalFds[0], &c, 1);
}
#endif

int fail(const QString &message)
{
    QTextStream(stderr) << "ccs-emulator: " << message << Qt::endl;
    return 2;
}

int usageError(const QString &message)
{
    QTextStream(stderr) << "ccs-emulator: " << message << "\nTry 'ccs-emulator --help'." << Qt::endl;
    return 2;
}

// The admin token file's first line, trimmed. The token itself never appears
// in a message: only the file's path.
bool readTokenFile(const QString &path, QString *token, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read the admin token file %1: %2").arg(path, file.errorString());
        return false;
    }
    *token = QString::fromUtf8(file.readLine(4096)).trimmed();
    if (token->size() < 16) {
        *error = QStringLiteral("the admin token file %1 must hold a token of at least 16 characters on "
                                "its first line")
                     .arg(path);
        return false;
    }
    for (const QChar c : std::as_const(*token)) {
        if (c.unicode() <= 0x20 || c.unicode() >= 0x7f) {
            *error = QStringLiteral("the admin token in %1 must be printable ASCII without spaces").arg(path);
            return false;
        }
    }
    return true;
}

// Reads the token file; when there is none yet, makes it (readable by its
// owner only) with a random token, so a service or a container can name a
// file in its data directory and never see the token in its log.
bool loadOrCreateTokenFile(const QString &path, QString *token, QString *error)
{
    if (!QFile::exists(path)) {
        QByteArray raw(32, Qt::Uninitialized);
        for (char &c : raw)
            c = static_cast<char>(QRandomGenerator::system()->bounded(256));
        const QByteArray text
            = raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals) + '\n';
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly, QFile::ReadOwner | QFile::WriteOwner)
            || file.write(text) != text.size() || !file.flush()) {
            *error
                = QStringLiteral("cannot create the admin token file %1: %2").arg(path, file.errorString());
            return false;
        }
    }
    return readTokenFile(path, token, error);
}

// --health URL: 0 when the admin API's status answers, 1 otherwise. With a
// token, only 200 counts; without one, the API's own 401 (Bearer) proves it
// is up and answering too.
int runHealth(const QString &urlText, const QString &tokenFile)
{
    QUrl url(urlText, QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != QLatin1String("http") || url.host().isEmpty() || url.port() <= 0)
        return usageError(QStringLiteral("--health wants the admin API's URL, e.g. http://127.0.0.1:5237"));
    QString path = url.path();
    if (!path.endsWith(QLatin1String("/status"))) {
        while (path.endsWith(QLatin1Char('/')))
            path.chop(1);
        if (!path.endsWith(QLatin1String("/api/v1")))
            path += QLatin1String("/api/v1");
        path += QLatin1String("/status");
    }
    url.setPath(path);
    QString token;
    QString error;
    if (!tokenFile.isEmpty() && !readTokenFile(tokenFile, &token, &error))
        return fail(error);

    QNetworkAccessManager manager;
    manager.setProxy(QNetworkProxy::NoProxy); // the admin API is never behind a proxy
    QNetworkRequest request(url);
    request.setTransferTimeout(5000);
    if (!token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + token.toLatin1());
    std::unique_ptr<QNetworkReply> reply(manager.get(request));
    QEventLoop loop;
    QObject::connect(reply.get(), &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const bool healthy = status == 200
        || (token.isEmpty() && status == 401 && reply->rawHeader("WWW-Authenticate").startsWith("Bearer"));
    if (healthy) {
        QTextStream(stdout) << "healthy: " << url.toString() << " answered " << status << Qt::endl;
        return 0;
    }
    QTextStream(stderr) << "ccs-emulator: unhealthy: " << url.toString() << ' '
                        << (status ? QStringLiteral("answered %1").arg(status) : reply->errorString())
                        << Qt::endl;
    return 1;
}

bool parseHostPort(const QString &text, QHostAddress *address, quint16 *port)
{
    const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0)
        return false;
    QString host = text.left(colon);
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    if (host == QLatin1String("localhost"))
        host = QStringLiteral("127.0.0.1");
    bool ok = false;
    const uint p = text.mid(colon + 1).toUInt(&ok);
    if (!ok || p > 65535 || !address->setAddress(host))
        return false;
    *port = static_cast<quint16>(p);
    return true;
}

bool parseDouble(const QCommandLineParser &parser, const QString &name, double min, double max, double *out,
    QString *error)
{
    if (!parser.isSet(name))
        return true;
    bool ok = false;
    const double v = parser.value(name).toDouble(&ok);
    if (!ok || v < min || v > max) {
        *error = QStringLiteral("--%1 must be a number from %2 to %3").arg(name).arg(min).arg(max);
        return false;
    }
    *out = v;
    return true;
}

bool parseInt(
    const QCommandLineParser &parser, const QString &name, int min, int max, int *out, QString *error)
{
    double v = *out;
    if (!parseDouble(parser, name, min, max, &v, error))
        return false;
    *out = static_cast<int>(v);
    return true;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("ccs-admin"));
    QCoreApplication::setApplicationName(QStringLiteral("ccs-emulator"));
    QCoreApplication::setApplicationVersion(QStringLiteral(CCS_VERSION_STRING));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("A local GCM Cloud Connection Server (CCS) emulator: direct TLS, SASL PLAIN, the CCS\n"
                       "JSON protocol, simulated devices, fault injection and an admin API on loopback."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        {QStringLiteral("listen"),
            QStringLiteral("Listen on HOST:PORT (default 127.0.0.1:5236; port 0: any free port)."),
            QStringLiteral("HOST:PORT"), QStringLiteral("127.0.0.1:5236")},
        {QStringLiteral("sender-id"),
            QStringLiteral("The sender ID clients authenticate as (needs --api-key-file)."),
            QStringLiteral("ID")},
        {QStringLiteral("api-key-file"),
            QStringLiteral("File whose first line is the API key for --sender-id."), QStringLiteral("PATH")},
        {QStringLiteral("cert"), QStringLiteral("PEM certificate (default: one made once per installation)."),
            QStringLiteral("PATH")},
        {QStringLiteral("key"), QStringLiteral("PEM private key for --cert."), QStringLiteral("PATH")},
        {QStringLiteral("data-dir"), QStringLiteral("Folder for the generated certificate and credentials."),
            QStringLiteral("PATH")},
        {QStringLiteral("devices"), QStringLiteral("Number of simulated devices (default 5)."),
            QStringLiteral("N")},
        {QStringLiteral("device"), QStringLiteral("Add a registered device with this token (repeatable)."),
            QStringLiteral("TOKEN")},
        {QStringLiteral("upstream-rate"),
            QStringLiteral("Spontaneous upstream messages per second (default 0)."), QStringLiteral("RATE")},
        {QStringLiteral("receipt-delay-ms"), QStringLiteral("Delay before a delivery receipt (default 200)."),
            QStringLiteral("MS")},
        {QStringLiteral("strict-window"),
            QStringLiteral("Disconnect a client that has more than 100 un-answered messages.")},
        {QStringLiteral("nack-share"),
            QStringLiteral("Share (0..1) of downstream messages NACKed as a fault."),
            QStringLiteral("SHARE")},
        {QStringLiteral("nack-code"),
            QStringLiteral("SERVICE_UNAVAILABLE (default) or INTERNAL_SERVER_ERROR."),
            QStringLiteral("CODE")},
        {QStringLiteral("ack-delay-ms"), QStringLiteral("Delay every ACK/NACK by this much."),
            QStringLiteral("MS")},
        {QStringLiteral("answer-jitter-ms"),
            QStringLiteral("Add 0..N ms drawn per message to every ACK/NACK, so answers come back out of\n"
                           "order, as CCS promised no order (default 4; 0: in send order)."),
            QStringLiteral("MS")},
        {QStringLiteral("drain-grace-ms"),
            QStringLiteral("After CONNECTION_DRAINING, close the connection after this long (default 2000;\n"
                           "0: as soon as nothing is pending on it)."),
            QStringLiteral("MS")},
        {QStringLiteral("plain-drain-stanza"),
            QStringLiteral(
                "Write CONNECTION_DRAINING as <message id=..><gcm xmlns=...> instead of the guide's\n"
                "<message><data:gcm xmlns:data=...> form.")},
        {QStringLiteral("topic-rate"),
            QStringLiteral(
                "Messages per minute to one topic before TOPICS_MESSAGE_RATE_EXCEEDED (default 600)."),
            QStringLiteral("N")},
        {QStringLiteral("max-connections-per-sender"),
            QStringLiteral("Authenticated connections per sender ID (default 1000, as CCS)."),
            QStringLiteral("N")},
        {QStringLiteral("max-unauthenticated"),
            QStringLiteral("Connections not yet authenticated, all together (default 100)."),
            QStringLiteral("N")},
        {QStringLiteral("threads"),
            QStringLiteral("Event loops serving connections (TLS and the XMPP stream), one per thread\n"
                           "(default: one per core; 1: everything on one thread). Devices, the\n"
                           "upstream queue and the record stay on the main thread either way."),
            QStringLiteral("N")},
        {QStringLiteral("seed"),
            QStringLiteral("Seed of every random choice (jitter, faults, upstream), to replay a run\n"
                           "exactly (default: random, printed at start)."),
            QStringLiteral("N")},
        {QStringLiteral("drop-every"), QStringLiteral("Drop a connection at every Nth stanza it sends."),
            QStringLiteral("N")},
        {QStringLiteral("drain-every"), QStringLiteral("Drain a connection after every Nth stanza it sends."),
            QStringLiteral("N")},
        {QStringLiteral("drop-every-ms"), QStringLiteral("Drop all connections on this period."),
            QStringLiteral("MS")},
        {QStringLiteral("drain-every-ms"), QStringLiteral("Drain all connections on this period."),
            QStringLiteral("MS")},
        {QStringLiteral("duplicate-upstream-share"),
            QStringLiteral("Share (0..1) of upstream messages delivered twice."), QStringLiteral("SHARE")},
        {QStringLiteral("admin-port"),
            QStringLiteral("Port of the admin API on 127.0.0.1 (default: any free port)."),
            QStringLiteral("PORT"), QStringLiteral("0")},
        {QStringLiteral("admin-listen"),
            QStringLiteral("Admin API address (default 127.0.0.1:PORT of --admin-port). An address that is "
                           "not loopback needs --admin-token-file."),
            QStringLiteral("HOST:PORT")},
        {QStringLiteral("admin-token-file"),
            QStringLiteral("File whose first line is the admin API's bearer token (at least 16 "
                           "characters) instead of a random one; made with a random token, readable by "
                           "you only, when it does not exist. The token is then never printed."),
            QStringLiteral("PATH")},
        {QStringLiteral("no-admin"), QStringLiteral("Do not start the admin API.")},
        {QStringLiteral("json"), QStringLiteral("Print the start-up information as one JSON object.")},
        {QStringLiteral("health"),
            QStringLiteral("Do not start: ask the admin API at URL (e.g. http://127.0.0.1:5237) for its "
                           "status and exit 0 when it answers, 1 when not (for container health checks; "
                           "with --admin-token-file, only an authorized answer counts)."),
            QStringLiteral("URL")},
        {QStringLiteral("conformance"),
            QStringLiteral(
                "Grade the app server that connects: play the conformance scenario and judge\n"
                "each rule (tls-plain, window, ack-upstream, ack-receipt, drain, resend, retry,\n"
                "final-nack, reconnect, valid-json, unique-ids). Exit code 0: no rule failed, 1: one did.")},
        {QStringLiteral("report-json"), QStringLiteral("With --conformance: write the report as JSON here."),
            QStringLiteral("FILE")},
        {QStringLiteral("report-junit"),
            QStringLiteral("With --conformance: write the report as JUnit XML here."),
            QStringLiteral("FILE")},
        {QStringLiteral("duration"), QStringLiteral("End the run after this many seconds."),
            QStringLiteral("SECONDS")},
        {QStringLiteral("until-settled"),
            QStringLiteral("With --conformance: end the run once every rule has settled.")},
        {QStringLiteral("conformance-drain-at"),
            QStringLiteral("CONNECTION_DRAINING after the app server's Nth message (default 250; 0: never)."),
            QStringLiteral("N")},
        {QStringLiteral("conformance-drop-at"),
            QStringLiteral("Cut the connection at the app server's Mth message (default 550; 0: never)."),
            QStringLiteral("N")},
        {QStringLiteral("conformance-retryable-every"),
            QStringLiteral("Every N messages, one NACKed SERVICE_UNAVAILABLE or INTERNAL_SERVER_ERROR,\n"
                           "twice (default 200; 0: never)."),
            QStringLiteral("N")},
        {QStringLiteral("conformance-bad-registration-at"),
            QStringLiteral("BAD_REGISTRATION on the Nth message (default 420; 0: never)."),
            QStringLiteral("N")},
        {QStringLiteral("conformance-unregister-at"),
            QStringLiteral("DEVICE_UNREGISTERED on the Nth message; its token stays unregistered\n"
                           "(default 800; 0: never)."),
            QStringLiteral("N")},
        {QStringLiteral("conformance-upstream-every"),
            QStringLiteral("Every N messages two devices send an upstream message (default 100; 0: never)."),
            QStringLiteral("N")},
        {QStringLiteral("conformance-ack-timeout-ms"),
            QStringLiteral("Upstream messages and receipts must be ACKed within this (default 1000)."),
            QStringLiteral("MS")},
    });
    if (!parser.parse(QCoreApplication::arguments()))
        return usageError(parser.errorText());
    if (parser.isSet(QStringLiteral("help")) || parser.isSet(QStringLiteral("help-all"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    if (parser.isSet(QStringLiteral("version"))) {
        QTextStream(stdout) << "ccs-emulator " << CCS_VERSION_STRING << Qt::endl;
        return 0;
    }
    if (!parser.positionalArguments().isEmpty())
        return usageError(
            QStringLiteral("unexpected argument: %1").arg(parser.positionalArguments().join(u' ')));
    if (parser.isSet(QStringLiteral("health")))
        return runHealth(
            parser.value(QStringLiteral("health")), parser.value(QStringLiteral("admin-token-file")));

    EmulatorConfig config = defaultEmulatorConfig();
    QString error;
    if (!parseHostPort(parser.value(QStringLiteral("listen")), &config.address, &config.port))
        return fail(QStringLiteral("--listen wants HOST:PORT, e.g. 127.0.0.1:5236"));

    const QString dataDir = parser.value(QStringLiteral("data-dir"));
    // Credentials: given, or made once per installation. The key itself never
    // appears on the command line or in the output: only its file.
    QString apiKeyPath;
    SenderCredentials sender;
    if (parser.isSet(QStringLiteral("sender-id")) || parser.isSet(QStringLiteral("api-key-file"))) {
        if (!parser.isSet(QStringLiteral("sender-id")) || !parser.isSet(QStringLiteral("api-key-file")))
            return fail(QStringLiteral("--sender-id and --api-key-file go together"));
        sender.senderId = parser.value(QStringLiteral("sender-id"));
        apiKeyPath = parser.value(QStringLiteral("api-key-file"));
        if (!readApiKeyFile(apiKeyPath, &sender.apiKey, &error))
            return fail(error);
    } else if (!loadOrCreateSenderCredentials(&sender, &apiKeyPath, &error, dataDir)) {
        return fail(error);
    }
    config.senders = {sender};

    CertificateFiles certFiles;
    if (parser.isSet(QStringLiteral("cert")) || parser.isSet(QStringLiteral("key"))) {
        if (!parser.isSet(QStringLiteral("cert")) || !parser.isSet(QStringLiteral("key")))
            return fail(QStringLiteral("--cert and --key go together"));
        if (!loadCertificateFiles(parser.value(QStringLiteral("cert")), parser.value(QStringLiteral("key")),
                &certFiles, &error))
            return fail(error);
    } else if (!loadOrCreateEmulatorCertificate(&certFiles, &error, dataDir)) {
        return fail(error);
    }
    config.certificate = certFiles.certificate;
    config.privateKey = certFiles.privateKey;

    int deviceCount = 5;
    if (!parseInt(parser, QStringLiteral("devices"), 0, 100000, &deviceCount, &error))
        return fail(error);
    config.devices = defaultDevices(deviceCount);
    for (const QString &token : parser.values(QStringLiteral("device"))) {
        DeviceSpec spec;
        spec.token = token.trimmed();
        spec.name = spec.token;
        if (spec.token.isEmpty())
            return fail(QStringLiteral("--device wants a non-empty token"));
        config.devices.append(spec);
    }
    if (!parseDouble(parser, QStringLiteral("upstream-rate"), 0, 10000, &config.upstreamRatePerSecond, &error)
        || !parseInt(parser, QStringLiteral("receipt-delay-ms"), 0, 86400000, &config.receiptDelayMs, &error)
        || !parseDouble(parser, QStringLiteral("nack-share"), 0, 1, &config.faults.nackShare, &error)
        || !parseInt(parser, QStringLiteral("ack-delay-ms"), 0, 86400000, &config.faults.ackDelayMs, &error)
        || !parseInt(
            parser, QStringLiteral("drop-every"), 0, 1 << 30, &config.faults.dropEveryStanzas, &error)
        || !parseInt(
            parser, QStringLiteral("drain-every"), 0, 1 << 30, &config.faults.drainEveryStanzas, &error)
        || !parseInt(parser, QStringLiteral("drop-every-ms"), 0, 86400000, &config.faults.dropEveryMs, &error)
        || !parseInt(
            parser, QStringLiteral("drain-every-ms"), 0, 86400000, &config.faults.drainEveryMs, &error)
        || !parseDouble(parser, QStringLiteral("duplicate-upstream-share"), 0, 1,
            &config.faults.duplicateUpstreamShare, &error))
        return fail(error);
    if (parser.isSet(QStringLiteral("nack-code"))) {
        bool known = false;
        config.faults.nackCode = NackCatalogue::fromName(parser.value(QStringLiteral("nack-code")), &known);
        if (!known
            || (config.faults.nackCode != NackCode::ServiceUnavailable
                && config.faults.nackCode != NackCode::InternalServerError))
            return fail(QStringLiteral("--nack-code must be SERVICE_UNAVAILABLE or INTERNAL_SERVER_ERROR"));
    }
    config.strictWindow = parser.isSet(QStringLiteral("strict-window"));
    config.guideDrainStanza = !parser.isSet(QStringLiteral("plain-drain-stanza"));
    if (!parseInt(parser, QStringLiteral("answer-jitter-ms"), 0, 60000, &config.faults.answerJitterMs, &error)
        || !parseInt(parser, QStringLiteral("drain-grace-ms"), 0, 86400000, &config.drainGraceMs, &error)
        || !parseInt(parser, QStringLiteral("topic-rate"), 0, 1 << 30, &config.topicMessagesPerMinute, &error)
        || !parseInt(parser, QStringLiteral("max-connections-per-sender"), 1, 1 << 20,
            &config.maxConnectionsPerSender, &error)
        || !parseInt(parser, QStringLiteral("max-unauthenticated"), 1, 1 << 20,
            &config.maxUnauthenticatedConnections, &error))
        return fail(error);
    config.threads = std::max(1, QThread::idealThreadCount());
    if (!parseInt(parser, QStringLiteral("threads"), 1, 256, &config.threads, &error))
        return fail(error);
    if (parser.isSet(QStringLiteral("seed"))) {
        bool ok = false;
        config.seed = parser.value(QStringLiteral("seed")).toULongLong(&ok);
        if (!ok || config.seed == 0)
            return fail(QStringLiteral("--seed wants a whole number from 1 to 18446744073709551615"));
    }
    int adminPort = 0;
    if (!parseInt(parser, QStringLiteral("admin-port"), 0, 65535, &adminPort, &error))
        return fail(error);
    QHostAddress adminAddress = QHostAddress::LocalHost;
    quint16 adminListenPort = static_cast<quint16>(adminPort);
    const QString adminTokenFile = parser.value(QStringLiteral("admin-token-file"));
    QString adminToken;
    const bool noAdmin = parser.isSet(QStringLiteral("no-admin"));
    if (noAdmin
        && (parser.isSet(QStringLiteral("admin-listen")) || parser.isSet(QStringLiteral("admin-port"))))
        return fail(QStringLiteral("--no-admin goes with neither --admin-listen nor --admin-port"));
    if (parser.isSet(QStringLiteral("admin-listen"))) {
        if (parser.isSet(QStringLiteral("admin-port")))
            return fail(QStringLiteral("--admin-listen and --admin-port: give one of them"));
        if (!parseHostPort(parser.value(QStringLiteral("admin-listen")), &adminAddress, &adminListenPort))
            return fail(QStringLiteral("--admin-listen wants HOST:PORT, e.g. 127.0.0.1:5237"));
        if (!adminAddress.isLoopback() && adminTokenFile.isEmpty())
            return fail(QStringLiteral("--admin-listen %1 is not a loopback address: the admin API leaves "
                                       "loopback only with --admin-token-file PATH")
                            .arg(parser.value(QStringLiteral("admin-listen"))));
    }
    if (!noAdmin && !adminTokenFile.isEmpty() && !loadOrCreateTokenFile(adminTokenFile, &adminToken, &error))
        return fail(error);
    const bool grading = parser.isSet(QStringLiteral("conformance"));
    ConformanceScenario scenario;
    if (!parseInt(parser, QStringLiteral("conformance-drain-at"), 0, 1 << 30, &scenario.drainAt, &error)
        || !parseInt(parser, QStringLiteral("conformance-drop-at"), 0, 1 << 30, &scenario.dropAt, &error)
        || !parseInt(parser, QStringLiteral("conformance-retryable-every"), 0, 1 << 30,
            &scenario.retryableEvery, &error)
        || !parseInt(parser, QStringLiteral("conformance-bad-registration-at"), 0, 1 << 30,
            &scenario.badRegistrationAt, &error)
        || !parseInt(
            parser, QStringLiteral("conformance-unregister-at"), 0, 1 << 30, &scenario.unregisterAt, &error)
        || !parseInt(
            parser, QStringLiteral("conformance-upstream-every"), 0, 1 << 30, &scenario.upstreamEvery, &error)
        || !parseInt(
            parser, QStringLiteral("conformance-ack-timeout-ms"), 1, 3600000, &scenario.ackTimeoutMs, &error))
        return fail(error);
    double durationSeconds = 0;
    if (!parseDouble(parser, QStringLiteral("duration"), 0.001, 1e9, &durationSeconds, &error))
        return fail(error);
    for (const char *name : {"report-json", "report-junit", "until-settled", "conformance-drain-at",
             "conformance-drop-at", "conformance-retryable-every", "conformance-bad-registration-at",
             "conformance-unregister-at", "conformance-upstream-every", "conformance-ack-timeout-ms"}) {
        if (!grading && parser.isSet(QString::fromLatin1(name)))
            return fail(QStringLiteral("--%1 needs --conformance").arg(QString::fromLatin1(name)));
    }
    for (const char *name : {"report-json", "report-junit"}) {
        if (parser.isSet(QString::fromLatin1(name)) && parser.value(QString::fromLatin1(name)).isEmpty())
            return fail(QStringLiteral("--%1 wants a file name").arg(QString::fromLatin1(name)));
    }

    EmulatorServer server;
    if (!server.start(config, &error))
        return fail(error);
    std::unique_ptr<EmulatorAdminApi> admin;
    if (!noAdmin) {
        admin = std::make_unique<EmulatorAdminApi>(&server);
        admin->setToken(adminToken);
        if (!admin->listen(adminAddress, adminListenPort, &error))
            return fail(error);
    }

    const QString fingerprint = certificateFingerprint(config.certificate);
    QTextStream out(stdout);
    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray devices;
        for (const DeviceStatus &dev : server.devices())
            devices.append(toJson(dev));
        QJsonObject info {{QStringLiteral("version"), QStringLiteral(CCS_VERSION_STRING)},
            {QStringLiteral("host"), config.address.toString()}, {QStringLiteral("port"), server.port()},
            {QStringLiteral("sender_id"), sender.senderId}, {QStringLiteral("api_key_file"), apiKeyPath},
            {QStringLiteral("certificate"), certFiles.certificatePath},
            {QStringLiteral("private_key"), certFiles.privateKeyPath},
            {QStringLiteral("certificate_sha256"), fingerprint},
            {QStringLiteral("certificate_names"), QJsonArray::fromStringList(emulatorCertificateNames())},
            {QStringLiteral("strict_window"), config.strictWindow}, {QStringLiteral("devices"), devices},
            {QStringLiteral("seed"), QString::number(server.seed())},
            {QStringLiteral("threads"), config.threads}};
        if (admin) {
            info.insert(QStringLiteral("admin_url"), admin->baseUrl());
            info.insert(QStringLiteral("admin_port"), admin->port());
            if (adminTokenFile.isEmpty())
                info.insert(QStringLiteral("admin_token"), admin->token());
            else
                info.insert(QStringLiteral("admin_token_file"), adminTokenFile);
        }
        out << QJsonDocument(info).toJson(QJsonDocument::Compact) << Qt::endl;
    } else {
        out << "CCS emulator " << CCS_VERSION_STRING << " listening on " << config.address.toString() << ':'
            << server.port() << " (direct TLS)\n"
            << "  Sender ID:     " << sender.senderId << '\n'
            << "  API key file:  " << apiKeyPath << "  (the key itself is not printed)\n"
            << "  Certificate:   " << certFiles.certificatePath << (certFiles.created ? "  (new)" : "")
            << '\n'
            << "  SHA-256:       " << fingerprint << '\n'
            << "  Seed:          " << server.seed() << "  (--seed " << server.seed()
            << " replays this run)\n"
            << "  Threads:       " << config.threads << "  (--threads)\n";
        if (admin)
            out << "  Admin API:     " << admin->baseUrl() << "/api/v1  (Authorization: Bearer "
                << (adminTokenFile.isEmpty() ? admin->token()
                                             : QStringLiteral("<the token in %1>").arg(adminTokenFile))
                << ")\n";
        out << "  Devices:\n";
        for (const DeviceStatus &dev : server.devices())
            out << "    " << dev.spec.token.leftJustified(30) << ' '
                << deviceKindName(dev.spec.kind).leftJustified(13) << ' ' << dev.spec.name << '\n';
        out.flush();
    }

    // SIGINT/SIGTERM: close every stream with </stream:stream>, then quit.
    auto stopServer = [&server, &app] {
        server.stop();
        QTimer::singleShot(0, &app, [&server, &app] {
            if (server.openConnections() == 0)
                QCoreApplication::quit();
        });
        QObject::connect(&server, &EmulatorServer::clientDisconnected, &app, [&server] {
            if (server.openConnections() == 0)
                QCoreApplication::quit();
        });
        QTimer::singleShot(3000, &app, &QCoreApplication::quit);
    };

    // The conformance run: live lines as rules settle, the table and the
    // report files at the end, whatever ends it.
    std::unique_ptr<ConformanceGrader> grader;
    int exitCode = 0;
    QElapsedTimer runClock;
    runClock.start();
    if (grading) {
        grader = std::make_unique<ConformanceGrader>(&server, scenario);
        if (admin)
            admin->setConformanceGrader(grader.get()); // behind the admin API's event stream
        else
            server.setObserver(grader.get());
        QObject::connect(grader.get(), &ConformanceGrader::ruleSettled, &app,
            [](const QString &rule, const QString &status, const QString &summary) {
                QTextStream(stdout) << "[conformance] " << status.toUpper().replace(u'_', u' ') << ' ' << rule
                                    << ": " << summary << Qt::endl;
            });
        QTextStream(stdout) << "[conformance] grading the app server that connects (scenario sized for about "
                               "1000 downstream messages with delivery receipts)"
                            << Qt::endl;
    }
    bool ended = false;
    auto shutdown = [&] {
        if (ended)
            return;
        ended = true;
        if (grader) {
            grader->finish();
            server.setObserver(nullptr);
            QTextStream(stdout) << '\n' << conformance::textReport(*grader) << Qt::flush;
            exitCode = grader->passed() ? 0 : 1;
            const double seconds = double(runClock.elapsed()) / 1000.0;
            QString writeError;
            if (parser.isSet(QStringLiteral("report-json"))
                && !conformance::writeReport(parser.value(QStringLiteral("report-json")),
                    conformance::jsonReport(*grader, seconds), &writeError)) {
                QTextStream(stderr) << "ccs-emulator: " << writeError << Qt::endl;
                exitCode = 1;
            }
            if (parser.isSet(QStringLiteral("report-junit"))
                && !conformance::writeReport(parser.value(QStringLiteral("report-junit")),
                    conformance::junitReport(*grader, seconds), &writeError)) {
                QTextStream(stderr) << "ccs-emulator: " << writeError << Qt::endl;
                exitCode = 1;
            }
        }
        stopServer();
    };
    if (grader && parser.isSet(QStringLiteral("until-settled")))
        QObject::connect(grader.get(), &ConformanceGrader::allRulesSettled, &app,
            [&shutdown] { QTimer::singleShot(0, qApp, [&shutdown] { shutdown(); }); });
    if (durationSeconds > 0)
        QTimer::singleShot(qint64(durationSeconds * 1000), &app, [&shutdown] { shutdown(); });
#ifdef Q_OS_UNIX
    std::unique_ptr<QSocketNotifier> notifier;
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, s_signalFds) == 0) {
        notifier = std::make_unique<QSocketNotifier>(s_signalFds[1], QSocketNotifier::Read);
        QObject::connect(notifier.get(), &QSocketNotifier::activated, &app, [&notifier, &shutdown] {
            char c = 0;
            [[maybe_unused]] const auto n = ::read(s_signalFds[1], &c, 1);
            notifier->setEnabled(false);
            shutdown();
        });
        struct sigaction action = {};
        action.sa_handler = onSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        sigaction(SIGINT, &action, nullptr);
        sigaction(SIGTERM, &action, nullptr);
    }
#else
    std::signal(
        SIGINT, [](int) { QMetaObject::invokeMethod(qApp, &QCoreApplication::quit, Qt::QueuedConnection); });
    std::signal(
        SIGTERM, [](int) { QMetaObject::invokeMethod(qApp, &QCoreApplication::quit, Qt::QueuedConnection); });
#endif
    const int rc = app.exec();
    if (!ended)
        shutdown(); // the event loop ended some other way: the report is still written
    server.setObserver(nullptr);
    return rc != 0 ? rc : exitCode;
}
