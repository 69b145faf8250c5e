#include "CtlOptions.h"

#include "ccscore/Version.h"
#include "protocol/JsonCodec.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QFile>
#include <QRegularExpression>
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

// ISO 8601 (a date, or a date and time; UTC unless it says otherwise), milliseconds since
// 1970, or an age: 90s, 30m, 2h, 7d ago.
bool parseWhen(const QString &name, const QString &text, qint64 *out, QString *error)
{
    static const QRegularExpression age(QStringLiteral("^(\\d+)\\s*([smhd])$"));
    const QRegularExpressionMatch match = age.match(text.trimmed());
    if (match.hasMatch()) {
        const qint64 n = match.captured(1).toLongLong();
        const QChar unit = match.captured(2).at(0);
        const qint64 factor = unit == u's' ? 1000 : unit == u'm' ? 60000 : unit == u'h' ? 3600000 : 86400000;
        *out = QDateTime::currentMSecsSinceEpoch() - n * factor;
        return true;
    }
    bool isNumber = false;
    const qint64 ms = text.toLongLong(&isNumber);
    if (isNumber && ms >= 0) {
        *out = ms;
        return true;
    }
    QDateTime when = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!when.isValid()) {
        const QDate date = QDate::fromString(text, Qt::ISODate);
        if (date.isValid())
            when = date.startOfDay(Qt::UTC);
    }
    if (!when.isValid()) {
        *error = QStringLiteral("--%1 must be an ISO 8601 time (2026-11-30 or 2026-11-30T14:05:00Z), "
                                "milliseconds since 1970, or an age like 30m, 2h, 7d; not \"%2\"")
                     .arg(name, text);
        return false;
    }
    if (when.timeSpec() == Qt::LocalTime && !text.contains(u'+') && !text.endsWith(u'Z'))
        when.setTimeSpec(Qt::UTC);
    *out = when.toMSecsSinceEpoch();
    return true;
}

bool parseHistoryOptions(
    const QCommandLineParser &parser, CtlOptions *options, QString *error, const QList<QCommandLineOption> &o)
{
    const QCommandLineOption &to = o[0], &id = o[1], &text = o[2], &state = o[3], &nack = o[4], &since = o[5],
                             &until = o[6], &connection = o[7], &limit = o[8], &kind = o[9], &file = o[10],
                             &csv = o[11];
    for (const QString &name :
        {QStringLiteral("data"), QStringLiteral("notification"), QStringLiteral("collapse-key"),
            QStringLiteral("ttl"), QStringLiteral("priority"), QStringLiteral("delay-while-idle"),
            QStringLiteral("receipt"), QStringLiteral("dry-run"), QStringLiteral("count"),
            QStringLiteral("wait-receipts"), QStringLiteral("timeout"), QStringLiteral("host"),
            QStringLiteral("port"), QStringLiteral("sender-id"), QStringLiteral("domain"),
            QStringLiteral("ca-cert"), QStringLiteral("connections"), QStringLiteral("window")}) {
        if (parser.isSet(name)) {
            *error = QStringLiteral("--%1 is not an option of history").arg(name);
            return false;
        }
    }
    history::HistoryQuery &q = options->historyQuery;
    q.token = parser.value(to);
    q.messageId = parser.value(id);
    q.text = parser.value(text);
    if (parser.isSet(text) && history::ftsQueryForWords(q.text).isEmpty()) {
        *error = QStringLiteral("--text needs at least one word (letters or digits)");
        return false;
    }
    if (parser.isSet(state)) {
        static const QStringList states {QStringLiteral("Queued"), QStringLiteral("InFlight"),
            QStringLiteral("Acked"), QStringLiteral("Delivered"), QStringLiteral("RetryWaiting"),
            QStringLiteral("Nacked"), QStringLiteral("Expired"), QStringLiteral("Failed"),
            QStringLiteral("Cancelled"), QStringLiteral("Received"),
            QStringLiteral("MESSAGE_SENT_TO_DEVICE")};
        const QString value = parser.value(state);
        const auto it = std::find_if(states.begin(), states.end(),
            [&](const QString &s) { return s.compare(value, Qt::CaseInsensitive) == 0; });
        if (it == states.end()) {
            *error = QStringLiteral("--state must be one of %1; not \"%2\"").arg(states.join(u','), value);
            return false;
        }
        q.state = *it;
    }
    q.nackCode = parser.value(nack).toUpper();
    qint64 ms = 0;
    if (parser.isSet(since)) {
        if (!parseWhen(QStringLiteral("since"), parser.value(since), &ms, error))
            return false;
        q.sinceMs = ms;
    }
    if (parser.isSet(until)) {
        if (!parseWhen(QStringLiteral("until"), parser.value(until), &ms, error))
            return false;
        q.untilMs = ms;
    }
    double number = 0;
    if (parser.isSet(connection)) {
        if (!parseNumber(QStringLiteral("connection"), parser.value(connection), 0, 1e6, &number, error))
            return false;
        q.connection = int(number);
    }
    if (parser.isSet(limit)) {
        if (!parseNumber(QStringLiteral("limit"), parser.value(limit), 0, 1e12, &number, error))
            return false;
        options->historyLimit = qint64(number);
    }
    if (parser.isSet(kind)) {
        const QString value = parser.value(kind);
        q.downstream = value == QLatin1String("downstream");
        q.upstream = value == QLatin1String("upstream");
        q.receipts = value == QLatin1String("receipt");
        if (!q.downstream && !q.upstream && !q.receipts) {
            *error = QStringLiteral("--kind must be downstream, upstream or receipt; not \"%1\"").arg(value);
            return false;
        }
    }
    options->profile = parser.value(o[12]);
    options->historyFile = parser.value(file);
    options->csv = parser.isSet(csv);
    if (options->csv && options->json) {
        *error = QStringLiteral("--json and --csv: choose one");
        return false;
    }
    options->historyImport = parser.value(o[13]);
    if (parser.isSet(o[13])) {
        // An import makes a new history; searching it is a second command (--file PATH).
        for (int i = 0; i < 13; ++i) {
            if (i != 10 && parser.isSet(o[i])) {
                *error = QStringLiteral("--import makes a new history and takes no --%1; search it afterwards "
                                        "with history --file PATH")
                             .arg(o[i].names().constFirst());
                return false;
            }
        }
        if (options->historyImport.isEmpty()) {
            *error = QStringLiteral("--import needs a file");
            return false;
        }
    }
    return true;
}

// Lines of `ccsctl history --json` (their downstream "request") or bare downstream
// requests. Other kinds are skipped; a broken line is reported by its number and the
// others are still replayed.
bool loadReplay(CtlOptions *options, QString *error)
{
    QFile file(options->replayFile);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(options->replayFile, file.errorString());
        return false;
    }
    int lineNumber = 0;
    bool anyReceipt = false;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        ++lineNumber;
        if (line.isEmpty())
            continue;
        QJsonObject object;
        ParseError parseError;
        if (!json::parseObject(line, &object, &parseError)) {
            options->replayProblems
                << QStringLiteral("line %1: not a JSON object: %2").arg(lineNumber).arg(parseError.message);
            continue;
        }
        const QString kind = object.value(QLatin1String("kind")).toString();
        if (!kind.isEmpty() && kind != QLatin1String("downstream"))
            continue; // upstream messages and receipts are not sent again
        const QJsonObject request = object.contains(QLatin1String("request"))
            ? object.value(QLatin1String("request")).toObject()
            : object;
        if (request.value(QLatin1String("to")).toString().isEmpty()) {
            options->replayProblems
                << QStringLiteral("line %1: no downstream request (\"to\" is missing)").arg(lineNumber);
            continue;
        }
        DownstreamMessage message = DownstreamMessage::fromJson(request);
        message.messageId.clear(); // a new id: the original may still be remembered by CCS
        anyReceipt = anyReceipt || message.deliveryReceiptRequested.value_or(false);
        options->replayMessages.append(message);
    }
    if (options->replayMessages.isEmpty()) {
        *error
            = QStringLiteral("%1 holds no downstream message to replay%2")
                  .arg(options->replayFile,
                      options->replayProblems.isEmpty()
                          ? QString()
                          : QStringLiteral(" (%1)").arg(options->replayProblems.join(QStringLiteral("; "))));
        return false;
    }
    options->count = int(options->replayMessages.size());
    options->message.deliveryReceiptRequested = anyReceipt;
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
        "  ccsctl listen [--count N] [--timeout SECONDS] [connection options]\n"
        "  ccsctl replay FILE.jsonl [--wait-receipts SECONDS] [connection options]\n"
        "  ccsctl history [--profile NAME] [--to TOKEN] [--id ID] [--text WORDS] [--state S] [--nack CODE]\n"
        "                 [--since WHEN] [--until WHEN] [--connection N] [--limit N] [--json | --csv]\n"
        "  ccsctl history --import FILE.jsonl [--file PATH] [--json]\n\n"
        "The API key is read from the environment variable CCS_API_KEY (or, with --profile,\n"
        "from the keychain); it is never accepted as an argument.\n"
        "Exit codes: 0 success, 1 incomplete (not all ACKed / timeout first), 2 usage error,\n"
        "3 could not connect or authenticate."));
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("send, listen or history"));
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
    const QCommandLineOption historyId(QStringLiteral("id"),
        QStringLiteral("history: a message id (also finds its receipt)."), QStringLiteral("ID"));
    const QCommandLineOption historyText(QStringLiteral("text"),
        QStringLiteral("history: words inside data or notification (all of them)."), QStringLiteral("WORDS"));
    const QCommandLineOption historyState(QStringLiteral("state"),
        QStringLiteral("history: Queued, InFlight, Acked, Delivered, Nacked, Expired, Failed..."),
        QStringLiteral("STATE"));
    const QCommandLineOption historyNack(
        QStringLiteral("nack"), QStringLiteral("history: a NACK code."), QStringLiteral("CODE"));
    const QCommandLineOption historySince(QStringLiteral("since"),
        QStringLiteral("history: from this time (ISO 8601, or 30m, 2h, 7d ago)."), QStringLiteral("WHEN"));
    const QCommandLineOption historyUntil(QStringLiteral("until"),
        QStringLiteral("history: before this time (ISO 8601, or 30m, 2h, 7d ago)."), QStringLiteral("WHEN"));
    const QCommandLineOption historyConnection(
        QStringLiteral("connection"), QStringLiteral("history: a connection number."), QStringLiteral("N"));
    const QCommandLineOption historyLimit(QStringLiteral("limit"),
        QStringLiteral("history: at most N messages, newest first (100; 0: all)."), QStringLiteral("N"));
    const QCommandLineOption historyKind(QStringLiteral("kind"),
        QStringLiteral("history: downstream, upstream or receipt (all)."), QStringLiteral("KIND"));
    const QCommandLineOption historyFile(QStringLiteral("file"),
        QStringLiteral("history: read this history file instead of the profile's."), QStringLiteral("PATH"));
    const QCommandLineOption csv(QStringLiteral("csv"), QStringLiteral("history: CSV with a header line."));
    const QCommandLineOption historyImport(QStringLiteral("import"),
        QStringLiteral("history: import a JSON Lines file (of history --json) into a new, read-only history "
                       "(at --file PATH, or under imported/ in the history folder)."),
        QStringLiteral("FILE"));
    parser.addOptions({historyId, historyText, historyState, historyNack, historySince, historyUntil,
        historyConnection, historyLimit, historyKind, historyFile, csv, historyImport});
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
    if (positional.size() == 2 && positional.first() == QLatin1String("replay")) {
        options->command = Command::Send;
        options->replayFile = positional.at(1);
    } else if (positional.size() != 1) {
        *error = positional.isEmpty()
            ? QStringLiteral("missing command: send, listen or history")
            : QStringLiteral("one command expected, got: %1").arg(positional.join(u' '));
        return false;
    }
    if (!options->replayFile.isEmpty())
        ; // replay: a send of the file's messages
    else if (positional.first() == QLatin1String("replay")) {
        *error = QStringLiteral("replay needs a file: ccsctl replay FILE.jsonl");
        return false;
    } else if (positional.first() == QLatin1String("send"))
        options->command = Command::Send;
    else if (positional.first() == QLatin1String("listen"))
        options->command = Command::Listen;
    else if (positional.first() == QLatin1String("history"))
        options->command = Command::History;
    else {
        *error = QStringLiteral("unknown command \"%1\": send, listen or history").arg(positional.first());
        return false;
    }
    options->json = parser.isSet(json);

    const QList<QCommandLineOption> historyOnly {historyId, historyText, historyState, historyNack,
        historySince, historyUntil, historyConnection, historyLimit, historyKind, historyFile, csv, historyImport};
    if (options->command != Command::History) {
        for (const QCommandLineOption &option : historyOnly) {
            if (parser.isSet(option)) {
                *error = QStringLiteral("--%1 is an option of history").arg(option.names().constFirst());
                return false;
            }
        }
    } else {
        return parseHistoryOptions(parser, options, error,
            {to, historyId, historyText, historyState, historyNack, historySince, historyUntil,
                historyConnection, historyLimit, historyKind, historyFile, csv, profile, historyImport});
    }

    // Connection
    options->profile = parser.value(profile);
    app::ConnectionOverrides &c = options->connection;
    if (parser.isSet(host))
        c.host = parser.value(host);
    if (parser.isSet(domain))
        c.domain = parser.value(domain);
    if (parser.isSet(port)) {
        bool ok = false;
        const uint value = parser.value(port).toUInt(&ok);
        if (!ok || value == 0 || value > 65535) {
            *error = QStringLiteral("--port must be 1..65535, not \"%1\"").arg(parser.value(port));
            return false;
        }
        c.port = quint16(value);
    }
    if (parser.isSet(senderId))
        c.senderId = parser.value(senderId);
    options->caCertPath = parser.value(caCert);
    if (!options->caCertPath.isEmpty()) {
        QFile file(options->caCertPath);
        if (!file.open(QIODevice::ReadOnly)) {
            *error
                = QStringLiteral("cannot read --ca-cert %1: %2").arg(options->caCertPath, file.errorString());
            return false;
        }
        c.pinnedCertificates = QSslCertificate::fromData(file.readAll(), QSsl::Pem);
        if (c.pinnedCertificates->isEmpty()) {
            *error = QStringLiteral("--ca-cert %1 holds no PEM certificate").arg(options->caCertPath);
            return false;
        }
    }
    double number = 0;
    if (parser.isSet(connections)) {
        if (!parseNumber(QStringLiteral("connections"), parser.value(connections), 1, 1000, &number, error))
            return false;
        c.connectionCount = int(number);
    }
    if (parser.isSet(window)) {
        if (!parseNumber(
                QStringLiteral("window"), parser.value(window), 1, kMaxPendingPerConnection, &number, error))
            return false;
        c.windowSize = int(number);
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

    if (!options->replayFile.isEmpty()) {
        for (const QCommandLineOption &option : sendOnly) {
            if (parser.isSet(option) && option.names().constFirst() != QLatin1String("wait-receipts")) {
                *error = QStringLiteral("--%1 is not an option of replay: the file says what to send")
                             .arg(option.names().constFirst());
                return false;
            }
        }
        if (parser.isSet(waitReceipts)
            && !parseNumber(QStringLiteral("wait-receipts"), parser.value(waitReceipts), 0, 1e7,
                &options->waitReceiptsSeconds, error))
            return false;
        return loadReplay(options, error);
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
