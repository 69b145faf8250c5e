#pragma once
// Screens for the offscreen platform, set before QApplication exists: a test
// can then check the window against a laptop's screen instead of the
// platform's default 800×600.

#include <QByteArray>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QRect>

namespace ccs::test {

// Returns the configuration file: remove it once QApplication is constructed.
inline QString useOffscreenScreens(const QList<QRect> &screens)
{
    QJsonArray list;
    int i = 0;
    for (const QRect &r : screens) {
        list.append(QJsonObject {{QStringLiteral("name"), QStringLiteral("screen-%1").arg(i++)},
            {QStringLiteral("x"), r.x()}, {QStringLiteral("y"), r.y()}, {QStringLiteral("width"), r.width()},
            {QStringLiteral("height"), r.height()}, {QStringLiteral("logicalDpi"), 96},
            {QStringLiteral("logicalBaseDpi"), 96}, {QStringLiteral("dpr"), 1}});
    }
    const QString path = QDir::temp().filePath(
        QStringLiteral("ccs-offscreen-screens-%1.json").arg(QCoreApplication::applicationPid()));
    QFile file(path);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        file.write(QJsonDocument(QJsonObject {{QStringLiteral("screens"), list}}).toJson());
    file.close();
    qputenv("QT_QPA_PLATFORM", QByteArray("offscreen:configfile=") + QFile::encodeName(path));
    return path;
}

} // namespace ccs::test
