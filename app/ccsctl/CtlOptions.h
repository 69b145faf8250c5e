#pragma once

#include "app/ConnectionResolver.h"
#include "client/SessionTypes.h"
#include "history/HistoryStore.h"

#include <QStringList>

#include <optional>

namespace ccs::ctl {

enum ExitCode {
    ExitOk = 0,
    ExitIncomplete = 1, // send: not every message ACKed; listen: the timeout came before --count
    ExitUsage = 2,
    ExitConnect = 3, // could not connect or authenticate (TLS included)
};

enum class Command { Send, Listen, History };

struct CtlOptions {
    Command command = Command::Send;
    bool json = false;
    // Connection
    QString profile;
    // The connection flags given; with --profile they override the profile's values
    // (app::ConnectionResolver turns both into settings).
    app::ConnectionOverrides connection;
    QString caCertPath;
    // send
    DownstreamMessage message;
    int count = 1;
    double waitReceiptsSeconds = 0;
    // listen (and an overall limit for send)
    int listenCount = 0; // 0: no count
    std::optional<double> timeoutSeconds;
    // history
    history::HistoryQuery historyQuery;
    QString historyFile; // a database file instead of the profile's
    qint64 historyLimit = 100; // 0: every match
    bool csv = false;
    QString historyImport; // history --import FILE: a JSON Lines file into a new history
    // replay: the downstream messages read from a JSON Lines file (sent with new ids)
    QString replayFile;
    QList<DownstreamMessage> replayMessages;
    QStringList replayProblems; // "line 7: ..." for lines that were not replayable
};

// Parses argv (without the API key: that comes from CCS_API_KEY or the keychain).
// false and *error (a usage message) on bad input.
bool parseOptions(const QStringList &arguments, CtlOptions *options, QString *error, bool *helpShown);

} // namespace ccs::ctl
