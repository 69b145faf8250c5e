#include "ccscore/Version.h"
#include "common/ColorScheme.h"
#include "mainwindow/MainWindow.h"
#include "mainwindow/ScreenshotRunner.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QApplication::setHighDpiScaleFactorRoundingPolicy(Qt::HighDpiScaleFactorRoundingPolicy::PassThrough);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("ccs-admin"));
    QApplication::setApplicationName(QStringLiteral("ccs-admin"));
    QApplication::setApplicationDisplayName(QStringLiteral("CCS Admin"));
    QApplication::setApplicationVersion(QStringLiteral(CCS_VERSION_STRING));
    QApplication::setDesktopFileName(QStringLiteral("io.github.ccs_admin.CcsAdmin"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "CCS Admin: send test pushes through the GCM Cloud Connection Server (or its emulator) and "
        "watch what happens to them."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
        QStringLiteral(
            "Connect to the local emulator, send a demo message, wait for its receipt and an upstream "
            "message, save the window as PNG to <file> and exit."),
        QStringLiteral("file"));
    const QCommandLineOption colorScheme(QStringLiteral("color-scheme"),
        QStringLiteral("system (default), light or dark."), QStringLiteral("scheme"),
        QStringLiteral("system"));
    const QCommandLineOption size(QStringLiteral("size"),
        QStringLiteral("Window size for --screenshot, WxH (default: the size of a first start on this "
                       "screen)."),
        QStringLiteral("size"));
    const QCommandLineOption tab(QStringLiteral("tab"),
        QStringLiteral("The tab --screenshot shows: outbox (default), inbox, timeline or traffic."),
        QStringLiteral("tab"), QStringLiteral("outbox"));
    parser.addOption(screenshot);
    parser.addOption(tab);
    parser.addOption(colorScheme);
    parser.addOption(size);
    parser.process(app);

    if (!ccs::ui::applyColorScheme(parser.value(colorScheme))) {
        QTextStream(stderr) << "ccs-admin: unknown color scheme \"" << parser.value(colorScheme)
                            << "\"; use system, light or dark.\n";
        return 64;
    }

    if (parser.isSet(screenshot)) {
        ccs::ui::MainWindow::Options options;
        options.autoConnect = false;
        options.restoreLayout = false; // a screenshot is the same on every machine
        ccs::ui::MainWindow window(std::move(options));
        const QStringList wh = parser.value(size).split(QLatin1Char('x'));
        if (wh.size() == 2 && wh[0].toInt() > 0 && wh[1].toInt() > 0)
            window.resize(wh[0].toInt(), wh[1].toInt());
        window.show();
        ccs::ui::ScreenshotRunner runner(&window, parser.value(screenshot));
        const QStringList tabs {QStringLiteral("outbox"), QStringLiteral("inbox"), QStringLiteral("timeline"),
            QStringLiteral("traffic")};
        if (!tabs.contains(parser.value(tab))) {
            QTextStream(stderr) << "ccs-admin: unknown tab \"" << parser.value(tab)
                                << "\"; use outbox, inbox, timeline or traffic.\n";
            return 64;
        }
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
    return app.exec();
}
