#include "CtlHistory.h"
#include "CtlOptions.h"
#include "CtlRunner.h"
#include "ccscore/Version.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <string_view>

namespace {
volatile std::sig_atomic_t s_interrupted = 0;
void onSignal(int)
{
    s_interrupted = 1;
}

// The keychain (libsecret, for --profile) answers through GLib's main loop, which is
// why Qt runs its event loop on GLib by default. Without --profile nothing needs GLib,
// and Qt's own loop wakes itself once per pass instead of once per posted event (a
// scripted send posts one every five answers it reads): half the kernel time.
bool needsGlibLoop(int argc, char *argv[])
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg(argv[i]);
        if (arg == "--")
            break;
        if (arg == "--profile" || arg.substr(0, 10) == "--profile=")
            return true;
    }
    return false;
}
} // namespace

int main(int argc, char *argv[])
{
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB") && !needsGlibLoop(argc, argv))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ccsctl"));
    QCoreApplication::setOrganizationName(QStringLiteral("ccs-admin"));
    QCoreApplication::setApplicationVersion(QStringLiteral(CCS_VERSION_STRING));

    // The terminal is for events; the library's chatter stays off unless asked for with QT_LOGGING_RULES.
    if (qEnvironmentVariableIsEmpty("QT_LOGGING_RULES"))
        QLoggingCategory::setFilterRules(QStringLiteral("ccs.*.debug=false\nccs.*.info=false"));

    ccs::ctl::CtlOptions options;
    QString error;
    bool helpShown = false;
    if (!ccs::ctl::parseOptions(QCoreApplication::arguments(), &options, &error, &helpShown)) {
        std::fprintf(stderr, "ccsctl: %s\nTry 'ccsctl --help'.\n", qPrintable(error));
        return ccs::ctl::ExitUsage;
    }
    if (helpShown)
        return ccs::ctl::ExitOk;
    if (options.command == ccs::ctl::Command::History)
        return ccs::ctl::runHistory(options);

    ccs::ctl::CtlRunner runner(std::move(options));
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    // A signal handler may only set a flag; the event loop looks at it.
    QTimer signalPoll;
    QObject::connect(&signalPoll, &QTimer::timeout, &runner, [&runner] {
        if (s_interrupted) {
            s_interrupted = 0;
            runner.interrupt();
        }
    });
    signalPoll.start(200);
    runner.start();
    return QCoreApplication::exec();
}
