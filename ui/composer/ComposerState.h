#pragma once

#include "protocol/RequestBuilder.h"

#include <QJsonObject>
#include <QMap>
#include <QString>

namespace ccs::ui {

enum class TtlUnit { Default, Seconds, Minutes, Hours, Days, Weeks };

// What the composer holds, as a template stores it (without the message id).
struct ComposerState {
    QString to;
    QString dataText;
    bool notificationEnabled = false;
    QString notificationText;
    QString collapseKey;
    TtlUnit ttlUnit = TtlUnit::Default;
    int ttlValue = 0;
    QString priority; // "", "normal", "high"
    bool delayWhileIdle = false;
    bool deliveryReceipt = true;
    bool dryRun = false;

    // The form's values for the request builder.
    RequestForm toRequestForm(const QString &messageId) const;
    QJsonObject toJson() const;
    static ComposerState fromJson(const QJsonObject &object);
    static ComposerState welcome(const QString &to = {});
};

qint64 ttlUnitSeconds(TtlUnit unit);

} // namespace ccs::ui
