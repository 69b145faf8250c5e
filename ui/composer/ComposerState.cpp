#include "ComposerState.h"

#include <algorithm>

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

RequestForm ComposerState::toRequestForm(const QString &messageId) const
{
    RequestForm f;
    f.to = to;
    f.messageId = messageId;
    f.dataText = dataText;
    f.notificationEnabled = notificationEnabled;
    f.notificationText = notificationText;
    f.collapseKey = collapseKey;
    if (ttlUnit != TtlUnit::Default)
        f.timeToLiveSeconds = qint64(ttlValue) * ttlUnitSeconds(ttlUnit);
    f.priority = priority;
    f.delayWhileIdle = delayWhileIdle;
    f.deliveryReceipt = deliveryReceipt;
    f.dryRun = dryRun;
    return f;
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

} // namespace ccs::ui
