#pragma once

#include "client/SessionTypes.h"

#include <QColor>
#include <QPalette>
#include <QString>

namespace ccs::ui {

// "12:01:03.204" in local time.
QString formatClock(qint64 msSinceEpoch);
// "4 ms", "1.2 s", "3 min 20 s".
QString formatLatency(qint64 ms);
// "4 weeks", "2 days 3 h", "90 s".
QString formatTtl(qint64 seconds);
// "1,204".
QString formatCount(qint64 n);

// Colours that read on light and dark palettes alike (the hue from the state,
// the lightness from the palette's base).
QColor stateColor(MessageState state, const QPalette &palette);
QColor sessionStateColor(SessionState state, const QPalette &palette);
bool isDark(const QPalette &palette);
// Words for a state, as a person says them ("Retry waiting").
QString stateLabel(MessageState state);
QString sessionStateLabel(SessionState state);

} // namespace ccs::ui
