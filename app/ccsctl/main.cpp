#include "CtlHistory.h"
#include "CtlOptions.h"
#include "CtlRunner.h"
#include "ccscore/Version.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QTimer>

#include <csignal>
#include <cstdio>

namespace {
volatile std::sig_atomic_t s_interrupted = 0;
void onSignal(int)
{
    s_interrupted = 1;
}
} // namespace

int main(int argc, char *argv[])
{
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
