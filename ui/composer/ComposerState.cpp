#include "ComposerState.h"

#include "common/UiSettings.h"
#include "protocol/JsonCodec.h"

#include <QJsonDocument>

namespace ccs::ui {

qint64 ttlUnitSeconds(TtlUnit unit)
{
    switch (unit) {
    case TtlUnit::Default:
    case TtlUnit::Seconds:
        return 1;
    case TtlUnit::Minutes:
        return 60;
    case TtlUnit::Hours:
        return 3600;
    case TtlUnit::Days:
        return 86400;
    case TtlUnit::Weeks:
        return 604800;
    }
    return 1;
}

QJsonObject ComposerState::toJson() const
{
    return QJsonObject {{QStringLiteral("to"), to}, {QStringLiteral("data"), dataText},
        {QStringLiteral("notificationEnabled"), notificationEnabled},
        {QStringLiteral("notification"), notificationText}, {QStringLiteral("collapseKey"), collapseKey},
        {QStringLiteral("ttlUnit"), int(ttlUnit)}, {QStringLiteral("ttlValue"), ttlValue},
        {QStringLiteral("priority"), priority}, {QStringLiteral("delayWhileIdle"), delayWhileIdle},
        {QStringLiteral("deliveryReceipt"), deliveryReceipt}, {QStringLiteral("dryRun"), dryRun}};
}

ComposerState ComposerState::fromJson(const QJsonObject &o)
{
    ComposerState s;
    s.to = o.value(QStringLiteral("to")).toString();
    s.dataText = o.value(QStringLiteral("data")).toString();
    s.notificationEnabled = o.value(QStringLiteral("notificationEnabled")).toBool();
    s.notificationText = o.value(QStringLiteral("notification")).toString();
    s.collapseKey = o.value(QStringLiteral("collapseKey")).toString();
    s.ttlUnit = TtlUnit(std::clamp(o.value(QStringLiteral("ttlUnit")).toInt(), 0, int(TtlUnit::Weeks)));
    s.ttlValue = o.value(QStringLiteral("ttlValue")).toInt();
    s.priority = o.value(QStringLiteral("priority")).toString();
    s.delayWhileIdle = o.value(QStringLiteral("delayWhileIdle")).toBool();
    s.deliveryReceipt = o.value(QStringLiteral("deliveryReceipt")).toBool(true);
    s.dryRun = o.value(QStringLiteral("dryRun")).toBool();
    return s;
}

ComposerState ComposerState::welcome(const QString &to)
{
    ComposerState s;
    s.to = to;
    s.dataText = QStringLiteral("{\n  \"title\": \"Welcome to CCS Admin\",\n  \"body\": \"Your first push: "
                                "watch it get ACKed and delivered.\",\n  \"screen\": \"home\"\n}");
    s.notificationText = QStringLiteral("{\n  \"title\": \"Hello\",\n  \"body\": \"From CCS Admin\"\n}");
    s.priority = QStringLiteral("high");
    s.deliveryReceipt = true;
    return s;
}

QStringList TemplateStore::names() const
{
    auto settings = openUiSettings();
    settings->beginGroup(QStringLiteral("templates"));
    QStringList result;
    const auto keys = settings->childKeys();
    for (const QString &key : keys)
        result << QString::fromUtf8(QByteArray::fromPercentEncoding(key.toUtf8()));
    settings->endGroup();
    result.removeAll(welcomeName());
    result.sort(Qt::CaseInsensitive);
    result.prepend(welcomeName());
    return result;
}

namespace {
QString keyFor(const QString &name)
{
    // QSettings treats '/' as a group separator: keep names opaque.
    return QString::fromLatin1(name.toUtf8().toPercentEncoding());
}
} // namespace

bool TemplateStore::load(const QString &name, ComposerState *out) const
{
    auto settings = openUiSettings();
    const QString stored = settings->value(QStringLiteral("templates/") + keyFor(name)).toString();
    if (stored.isEmpty()) {
        if (name == welcomeName()) {
            *out = ComposerState::welcome();
            return true;
        }
        return false;
    }
    *out = ComposerState::fromJson(QJsonDocument::fromJson(stored.toUtf8()).object());
    return true;
}

bool TemplateStore::save(const QString &name, const ComposerState &state, QString *error)
{
    if (name.trimmed().isEmpty()) {
        if (error)
            *error = QStringLiteral("A template needs a name.");
        return false;
    }
    auto settings = openUiSettings();
    settings->setValue(QStringLiteral("templates/") + keyFor(name.trimmed()),
        QString::fromUtf8(json::serialize(state.toJson())));
    settings->sync();
    if (settings->status() != QSettings::NoError) {
        if (error)
            *error = QStringLiteral("Could not write %1.").arg(settings->fileName());
        return false;
    }
    return true;
}

bool TemplateStore::remove(const QString &name)
{
    auto settings = openUiSettings();
    const QString key = QStringLiteral("templates/") + keyFor(name);
    if (!settings->contains(key))
        return false;
    settings->remove(key);
    return true;
}

} // namespace ccs::ui
