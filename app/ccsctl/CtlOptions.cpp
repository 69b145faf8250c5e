#include "CtlOptions.h"

#include "ccscore/Version.h"
#include "protocol/JsonCodec.h"

#include <QCommandLineParser>
#include <QFile>
#include <QTextStream>

namespace ccs::ctl {

namespace {

bool parseJsonOption(
    const QString &name, const QString &text, std::optional<QJsonObject> *out, QString *error)
{
    QJsonObject object;
    ParseError parseError;
    if (!json::parseObject(text.toUtf8(), &object, &parseError)) {
        *error = QStringLiteral("--%1 is not a JSON object: %2").arg(name, parseError.message);
        return false;
    }
    *out = object;
    return true;
}

bool parseNumber(
    const QString &name, const QString &text, double min, double max, double *out, QString *error)
{
    bool ok = false;
    const double value = text.toDouble(&ok);
    if (!ok || value < min || value > max) {
        *error = QStringLiteral("--%1 must be a number from %2 to %3, not \"%4\"")
                     .arg(name)
                     .arg(min)
                     .arg(max)
                     .arg(text);
        return false;
    }
    *out = value;
    return true;
}

} // namespace

bool parseOptions(const QStringList &arguments, CtlOptions *options, QString *error, bool *helpShown)
{
    *helpShown = false;
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Sends to and listens on a GCM Cloud Connection Server (or the CCS Admin emulator).\n\n"
        "  ccsctl send --to TOKEN [--data JSON] ... [connection options]\n"
        "  ccsctl listen [--count N] [--timeout SECONDS] [connection options]\n\n"
        "The API key is read from the environment variable CCS_API_KEY (or, with --profile,\n"
        "from the keychain); it is never accepted as an argument.\n"
        "Exit codes: 0 success, 1 incomplete (not all ACKed / timeout first), 2 usage error,\n"
        "3 could not connect or authenticate."));
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("send or listen"));
    const QCommandLineOption help(
        {QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Shows this help."));
    const QCommandLineOption version(
        {QStringLiteral("v"), QStringLiteral("version")}, QStringLiteral("Shows the version."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("One JSON object per line."));
    const QCommandLineOption profile(
        QStringLiteral("profile"), QStringLiteral("A saved profile of CCS Admin."), QStringLiteral("NAME"));
    const QCommandLineOption host(
        QStringLiteral("host"), QStringLiteral("Server host (gcm.googleapis.com)."), QStringLiteral("HOST"));
    const QCommandLineOption port(
        QStringLiteral("port"), QStringLiteral("Server port (5235)."), QStringLiteral("PORT"));
    const QCommandLineOption senderId(
        QStringLiteral("sender-id"), QStringLiteral("Your sender ID."), QStringLiteral("ID"));
    const QCommandLineOption domain(QStringLiteral("domain"),
        QStringLiteral("XMPP domain the certificate must name (gcm.googleapis.com)."),
        QStringLiteral("DOMAIN"));
    const QCommandLineOption caCert(QStringLiteral("ca-cert"),
        QStringLiteral("Trust only this PEM certificate (pinning) instead of the system CAs."),
        QStringLiteral("PEM"));
    const QCommandLineOption connections(
        QStringLiteral("connections"), QStringLiteral("Parallel connections (1)."), QStringLiteral("N"));
    const QCommandLineOption window(QStringLiteral("window"),
        QStringLiteral("Un-answered messages per connection, 1..100 (100)."), QStringLiteral("N"));
    const QCommandLineOption to(QStringLiteral("to"),
        QStringLiteral("send: registration token or /topics/NAME."), QStringLiteral("TOKEN"));
    const QCommandLineOption data(
        QStringLiteral("data"), QStringLiteral("send: data payload, a JSON object."), QStringLiteral("JSON"));
    const QCommandLineOption notification(QStringLiteral("notification"),
        QStringLiteral("send: notification payload, a JSON object."), QStringLiteral("JSON"));
    const QCommandLineOption collapseKey(
        QStringLiteral("collapse-key"), QStringLiteral("send: collapse key."), QStringLiteral("K"));
    const QCommandLineOption ttl(QStringLiteral("ttl"),
        QStringLiteral("send: time_to_live, 0..2419200 seconds."), QStringLiteral("SECONDS"));
    const QCommandLineOption priority(
        QStringLiteral("priority"), QStringLiteral("send: high or normal."), QStringLiteral("P"));
    const QCommandLineOption delayWhileIdle(
        QStringLiteral("delay-while-idle"), QStringLiteral("send: delay_while_idle."));
    const QCommandLineOption receipt(
        QStringLiteral("receipt"), QStringLiteral("send: ask for delivery receipts."));
    const QCommandLineOption dryRun(
        QStringLiteral("dry-run"), QStringLiteral("send: dry_run (not delivered)."));
    const QCommandLineOption count(QStringLiteral("count"),
        QStringLiteral("send: how many messages (1); listen: stop after N upstream messages."),
        QStringLiteral("N"));
    const QCommandLineOption waitReceipts(QStringLiteral("wait-receipts"),
        QStringLiteral("send: after the ACKs, wait up to SECONDS for receipts."), QStringLiteral("SECONDS"));
    const QCommandLineOption timeout(QStringLiteral("timeout"),
        QStringLiteral("listen: stop after SECONDS; send: give up after SECONDS (120)."),
        QStringLiteral("SECONDS"));
    parser.addOptions({help, version, json, profile, host, port, senderId, domain, caCert, connections,
        window, to, data, notification, collapseKey, ttl, priority, delayWhileIdle, receipt, dryRun, count,
        waitReceipts, timeout});

    if (!parser.parse(arguments)) {
        *error = parser.errorText();
        return false;
    }
    if (parser.isSet(help)) {
        QTextStream(stdout) << parser.helpText();
        *helpShown = true;
        return true;
    }
    if (parser.isSet(version)) {
        QTextStream(stdout) << "ccsctl " << CCS_VERSION_STRING << "\n";
        *helpShown = true;
        return true;
    }
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 1) {
        *error = positional.isEmpty()
            ? QStringLiteral("missing command: send or listen")
            : QStringLiteral("one command expected, got: %1").arg(positional.join(u' '));
        return false;
    }
    if (positional.first() == QLatin1String("send"))
        options->command = Command::Send;
    else if (positional.first() == QLatin1String("listen"))
        options->command = Command::Listen;
    else {
        *error = QStringLiteral("unknown command \"%1\": send or listen").arg(positional.first());
        return false;
    }
    options->json = parser.isSet(json);

    // Connection
    options->profile = parser.value(profile);
    ConnectionSettings &s = options->settings;
    if (parser.isSet(host))
        s.host = parser.value(host);
    if (parser.isSet(domain))
        s.domain = parser.value(domain);
    if (parser.isSet(port)) {
        bool ok = false;
        const uint value = parser.value(port).toUInt(&ok);
        if (!ok || value == 0 || value > 65535) {
            *error = QStringLiteral("--port must be 1..65535, not \"%1\"").arg(parser.value(port));
            return false;
        }
        s.port = quint16(value);
    }
    s.senderId = parser.value(senderId);
    options->caCertPath = parser.value(caCert);
    if (!options->caCertPath.isEmpty()) {
        QFile file(options->caCertPath);
        if (!file.open(QIODevice::ReadOnly)) {
            *error
                = QStringLiteral("cannot read --ca-cert %1: %2").arg(options->caCertPath, file.errorString());
            return false;
        }
        s.pinnedCertificates = QSslCertificate::fromData(file.readAll(), QSsl::Pem);
        if (s.pinnedCertificates.isEmpty()) {
            *error = QStringLiteral("--ca-cert %1 holds no PEM certificate").arg(options->caCertPath);
            return false;
        }
    }
    double number = 0;
    if (parser.isSet(connections)) {
        if (!parseNumber(QStringLiteral("connections"), parser.value(connections), 1, 1000, &number, error))
            return false;
        s.connectionCount = int(number);
    }
    if (parser.isSet(window)) {
        if (!parseNumber(
                QStringLiteral("window"), parser.value(window), 1, kMaxPendingPerConnection, &number, error))
            return false;
        s.windowSize = int(number);
    }
    if (parser.isSet(timeout)) {
        if (!parseNumber(QStringLiteral("timeout"), parser.value(timeout), 0, 1e7, &number, error))
            return false;
        options->timeoutSeconds = number;
    }
    if (parser.isSet(count)) {
        if (!parseNumber(QStringLiteral("count"), parser.value(count), 1, 10000000, &number, error))
            return false;
        if (options->command == Command::Send)
            options->count = int(number);
        else
            options->listenCount = int(number);
    }

    const QList<QCommandLineOption> sendOnly {
        to, data, notification, collapseKey, ttl, priority, delayWhileIdle, receipt, dryRun, waitReceipts};
    if (options->command == Command::Listen) {
        for (const QCommandLineOption &option : sendOnly) {
            if (parser.isSet(option)) {
                *error = QStringLiteral("--%1 is an option of send, not listen")
                             .arg(option.names().constFirst());
                return false;
            }
        }
        return true;
    }

    DownstreamMessage &m = options->message;
    m.to = parser.value(to);
    if (m.to.isEmpty()) {
        *error = QStringLiteral("send needs --to TOKEN");
        return false;
    }
    if (parser.isSet(data) && !parseJsonOption(QStringLiteral("data"), parser.value(data), &m.data, error))
        return false;
    if (parser.isSet(notification)
        && !parseJsonOption(
            QStringLiteral("notification"), parser.value(notification), &m.notification, error))
        return false;
    m.collapseKey = parser.value(collapseKey);
    if (parser.isSet(ttl)) {
        bool ok = false;
        const qint64 value = parser.value(ttl).toLongLong(&ok);
        if (!ok || value < 0 || value > kMaxTimeToLive) {
            *error = QStringLiteral("--ttl must be 0..%1 seconds, not \"%2\"")
                         .arg(kMaxTimeToLive)
                         .arg(parser.value(ttl));
            return false;
        }
        m.timeToLive = value;
    }
    if (parser.isSet(priority)) {
        m.priority = parser.value(priority);
        if (m.priority != QLatin1String("high") && m.priority != QLatin1String("normal")) {
            *error = QStringLiteral("--priority must be high or normal, not \"%1\"").arg(m.priority);
            return false;
        }
    }
    if (parser.isSet(delayWhileIdle))
        m.delayWhileIdle = true;
    if (parser.isSet(receipt))
        m.deliveryReceiptRequested = true;
    if (parser.isSet(dryRun))
        m.dryRun = true;
    if (parser.isSet(waitReceipts)
        && !parseNumber(QStringLiteral("wait-receipts"), parser.value(waitReceipts), 0, 1e7,
            &options->waitReceiptsSeconds, error))
        return false;
    return true;
}

} // namespace ccs::ctl
