#pragma once

#include <QString>

namespace ccs::ui {

// "system" (default: the platform's palette), "light" or "dark" (Fusion with
// a matching palette). False for an unknown name.
bool applyColorScheme(const QString &name);

} // namespace ccs::ui
