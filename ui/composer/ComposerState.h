#pragma once

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

    QJsonObject toJson() const;
    static ComposerState fromJson(const QJsonObject &object);
    static ComposerState welcome(const QString &to = {});
};

qint64 ttlUnitSeconds(TtlUnit unit);

// Named composer templates in the settings file; "Welcome push" is built in.
class TemplateStore
{
public:
    static QString welcomeName() { return QStringLiteral("Welcome push"); }
    QStringList names() const;
    bool load(const QString &name, ComposerState *out) const;
    bool save(const QString &name, const ComposerState &state, QString *error = nullptr);
    bool remove(const QString &name);
};

} // namespace ccs::ui
