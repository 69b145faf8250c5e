#pragma once

#include <QList>
#include <QRect>
#include <QSize>

namespace ccs::ui {

// Where the window goes on the screens it has, in logical pixels. Pure
// functions, so a test can feed them any set of screens.

// The first size: a share of the screen's available geometry, at most
// `preferred`, and never larger than the screen (the window frame included).
QSize initialWindowSize(
    const QRect &available, const QSize &preferred = QSize(1440, 900), const QSize &frame = QSize(0, 32));

// A restored geometry (of the window's frame) brought back on screen: moved
// onto the screen it overlaps most (the first one when it overlaps none) and
// shrunk to fit that screen's available geometry. Unchanged when it fits.
QRect fitOnScreens(const QRect &geometry, const QList<QRect> &availableGeometries);

} // namespace ccs::ui
