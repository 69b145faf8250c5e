#pragma once

#include "ComposerState.h"

#include <QStringList>

namespace ccs::ui {

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
