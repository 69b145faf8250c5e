#include "ccscore/Version.h"
#include "common/ColorScheme.h"
#include "console/EmulatorConsole.h"
#include "mainwindow/MainWindow.h"
#include "mainwindow/ScreenshotRunner.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFile>
#include <QUrl>
#include <QTextStream>

namespace {

int usageError(const QString &message)
{
    QTextStream(stderr) << "ccs-admin: " << message << "\nTry 'ccs-admin --help'." << Qt::endl;
    return 2;
}

} // namespace

int main(int argc, char *argv[])
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "CCS Admin: send test pushes through the GCM Cloud Connection Server (or its emulator) and "
        "watch what happens to them."));
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
        QStringLiteral("Displays help on commandline options."));
    const QCommandLineOption version(
        {QStringLiteral("v"), QStringLiteral("version")}, QStringLiteral("Displays version information."));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
        QStringLiteral(
            "Connect to the local emulator, send a demo message, wait for its receipt and an upstream "
            "message, save the window as PNG to FILE and exit."),
        QStringLiteral("FILE"));
    const QCommandLineOption colorScheme(QStringLiteral("color-scheme"),
        QStringLiteral("system (default), light or dark."), QStringLiteral("SCHEME"),
        QStringLiteral("system"));
    const QCommandLineOption size(QStringLiteral("size"),
        QStringLiteral("Window size for --screenshot, WxH (default: the size of a first start on this "
                       "screen)."),
        QStringLiteral("WxH"));
    const QCommandLineOption tab(QStringLiteral("tab"),
        QStringLiteral("The tab --screenshot shows: outbox (default), inbox, timeline, traffic or history."),
        QStringLiteral("TAB"), QStringLiteral("outbox"));
    const QCommandLineOption attach(QStringLiteral("attach"),
        QStringLiteral("Open the emulator console attached to the ccs-emulator whose admin API is at URL "
                       "(e.g. http://127.0.0.1:5237), with the token of --admin-token-file."),
        QStringLiteral("URL"));
    const QCommandLineOption tokenFile(QStringLiteral("admin-token-file"),
        QStringLiteral("File whose first line is the admin token for --attach (default: "
                       "$CCS_EMULATOR_ADMIN_TOKEN_FILE). The token is not stored."),
        QStringLiteral("FILE"));
    parser.addOptions({help, version, screenshot, tab, colorScheme, size, attach, tokenFile});
    // Qt's own options (-platform, -style, ...) are taken out of argv by
    // QApplication; the rest is ours.
    const QStringList tabs {QStringLiteral("outbox"), QStringLiteral("inbox"), QStringLiteral("timeline"),
        QStringLiteral("traffic"), QStringLiteral("history")};
    {
        // --help, --version and usage errors need no display: they are
        // answered before QApplication connects to one.
        QCoreApplication probe(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("ccs-admin"));
        QCoreApplication::setApplicationVersion(QStringLiteral(CCS_VERSION_STRING));
        QStringList arguments = QCoreApplication::arguments();
        // Qt's platform options, which QApplication consumes, are not errors here.
        for (qsizetype i = 1; i < arguments.size();) {
            const QString &a = arguments.at(i);
            if (a == QLatin1String("--"))
                break;
            static const QStringList withValue {QStringLiteral("-platform"), QStringLiteral("-style"),
                QStringLiteral("-display"), QStringLiteral("-qwindowgeometry"),
                QStringLiteral("-qwindowtitle"), QStringLiteral("-qwindowicon"),
                QStringLiteral("-platformpluginpath"), QStringLiteral("-platformtheme")};
            if (withValue.contains(a) && i + 1 < arguments.size())
                arguments.remove(i, 2);
            else if (a == QLatin1String("-reverse") || a == QLatin1String("-session"))
                arguments.remove(i);
            else
                ++i;
        }
        if (!parser.parse(arguments))
            return usageError(parser.errorText());
        if (parser.isSet(help)) {
            QTextStream(stdout) << parser.helpText();
            return 0;
        }
        if (parser.isSet(version)) {
            QTextStream(stdout) << "ccs-admin " << CCS_VERSION_STRING << Qt::endl;
            return 0;
        }
        if (!parser.positionalArguments().isEmpty())
            return usageError(
                QStringLiteral("unexpected argument: %1").arg(parser.positionalArguments().join(u' ')));
        const QString scheme = parser.value(colorScheme);
        if (scheme != QLatin1String("system") && scheme != QLatin1String("light")
            && scheme != QLatin1String("dark"))
            return usageError(
                QStringLiteral("unknown color scheme \"%1\"; use system, light or dark").arg(scheme));
        if (!tabs.contains(parser.value(tab)))
            return usageError(QStringLiteral("unknown tab \"%1\"; use outbox, inbox, timeline, traffic or history")
                                  .arg(parser.value(tab)));
        const QStringList wh = parser.value(size).split(QLatin1Char('x'));
        if (parser.isSet(size) && (wh.size() != 2 || wh[0].toInt() <= 0 || wh[1].toInt() <= 0))
            return usageError(QStringLiteral("--size wants WIDTHxHEIGHT, e.g. 1440x900"));
        if (parser.isSet(tokenFile) && !parser.isSet(attach))
            return usageError(QStringLiteral("--admin-token-file goes with --attach"));
        if (parser.isSet(attach)) {
            const QUrl url(parser.value(attach));
            if (!url.isValid() || url.host().isEmpty()
                || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
                return usageError(
                    QStringLiteral("--attach wants the admin API's URL, e.g. http://127.0.0.1:5237"));
        }
    }

    QApplication::setHighDpiScaleFactorRoundingPolicy(Qt::HighDpiScaleFactorRoundingPolicy::PassThrough);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("ccs-admin"));
    QApplication::setApplicationName(QStringLiteral("ccs-admin"));
    QApplication::setApplicationDisplayName(QStringLiteral("CCS Admin"));
    QApplication::setApplicationVersion(QStringLiteral(CCS_VERSION_STRING));
    QApplication::setDesktopFileName(QStringLiteral("io.github.ccs_admin.CcsAdmin"));
    parser.process(app);

    if (!ccs::ui::applyColorScheme(parser.value(colorScheme)))
        return usageError(QStringLiteral("unknown color scheme \"%1\"; use system, light or dark")
                              .arg(parser.value(colorScheme)));

    if (parser.isSet(screenshot)) {
        ccs::ui::MainWindow::Options options;
        options.autoConnect = false;
        options.restoreLayout = false; // a screenshot is the same on every machine
        ccs::ui::MainWindow window(std::move(options));
        const QStringList wh = parser.value(size).split(QLatin1Char('x'));
        if (parser.isSet(size))
            window.resize(wh[0].toInt(), wh[1].toInt());
        window.show();
        ccs::ui::ScreenshotRunner runner(&window, parser.value(screenshot));
        runner.setTab(ccs::ui::MainWindow::Tab(tabs.indexOf(parser.value(tab))));
        int code = 0;
        QObject::connect(&runner, &ccs::ui::ScreenshotRunner::finished, &app, [&](int exitCode) {
            code = exitCode;
            app.quit();
        });
        runner.start();
        app.exec();
        return code;
    }

    ccs::ui::MainWindow window;
    window.show();
    if (parser.isSet(attach)) {
        // The token from a file (never from the command line, where ps shows it); not stored.
        const QString path = parser.isSet(tokenFile) ? parser.value(tokenFile)
                                                     : qEnvironmentVariable("CCS_EMULATOR_ADMIN_TOKEN_FILE");
        QFile file(path);
        if (path.isEmpty() || !file.open(QIODevice::ReadOnly))
            return usageError(path.isEmpty()
                    ? QStringLiteral("--attach needs --admin-token-file")
                    : QStringLiteral("cannot read the admin token file %1: %2").arg(path, file.errorString()));
        const QString token = QString::fromUtf8(file.readLine(4096)).trimmed();
        ccs::ui::EmulatorConsole *console = window.emulatorConsole();
        console->show();
        console->attachRemote(QUrl(parser.value(attach)), token, false);
    }
    return app.exec();
}
