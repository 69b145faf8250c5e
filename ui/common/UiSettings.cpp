#include "UiSettings.h"

namespace ccs::ui {

std::unique_ptr<QSettings> openUiSettings()
{
    return std::make_unique<QSettings>(
        QSettings::IniFormat, QSettings::UserScope, QStringLiteral("ccs-admin"), QStringLiteral("ccs-admin"));
}

} // namespace ccs::ui
