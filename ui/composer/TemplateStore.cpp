#include "TemplateStore.h"

#include "common/UiSettings.h"
#include "protocol/JsonCodec.h"

#include <QJsonDocument>

namespace ccs::ui {

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
