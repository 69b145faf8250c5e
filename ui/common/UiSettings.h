#pragma once

#include <QSettings>

#include <memory>

namespace ccs::ui {

// The per-user settings file shared with ProfileStore (INI, "ccs-admin"):
// window layout, templates, recipient history. Never secrets.
std::unique_ptr<QSettings> openUiSettings();

} // namespace ccs::ui
