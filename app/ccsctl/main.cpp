#include "ccscore/Version.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ccsctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(CCS_VERSION_STRING));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("CCS Admin: ccsctl"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(app);
    return 0;
}
