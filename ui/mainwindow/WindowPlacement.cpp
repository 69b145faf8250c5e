#include "WindowPlacement.h"

#include <algorithm>

namespace ccs::ui {

namespace {
// Room to spare around the window: a laptop screen is not all window.
constexpr double kShareOfWidth = 0.92;
constexpr double kShareOfHeight = 0.90;

qint64 area(const QRect &r)
{
    return r.isValid() ? qint64(r.width()) * r.height() : 0;
}
} // namespace

QSize initialWindowSize(const QRect &available, const QSize &preferred, const QSize &frame)
{
    if (!available.isValid())
        return preferred;
    const int width = std::min(preferred.width(), int(available.width() * kShareOfWidth));
    const int height = std::min(preferred.height(), int(available.height() * kShareOfHeight));
    // The frame (title bar, borders) is added by the window manager around what we ask for.
    return QSize(std::max(1, std::min(width, available.width() - frame.width())),
        std::max(1, std::min(height, available.height() - frame.height())));
}

QRect fitOnScreens(const QRect &geometry, const QList<QRect> &availableGeometries)
{
    if (availableGeometries.isEmpty() || !geometry.isValid())
        return geometry;
    for (const QRect &screen : availableGeometries) {
        if (screen.contains(geometry))
            return geometry;
    }
    QRect target = availableGeometries.first();
    qint64 best = 0;
    for (const QRect &screen : availableGeometries) {
        const qint64 overlap = area(screen.intersected(geometry));
        if (overlap > best) {
            best = overlap;
            target = screen;
        }
    }
    QRect fitted(geometry.topLeft(),
        QSize(std::min(geometry.width(), target.width()), std::min(geometry.height(), target.height())));
    // Inside on every edge; the top-left corner (title bar, menu) wins if anything must give.
    fitted.moveRight(std::min(fitted.right(), target.right()));
    fitted.moveBottom(std::min(fitted.bottom(), target.bottom()));
    fitted.moveLeft(std::max(fitted.left(), target.left()));
    fitted.moveTop(std::max(fitted.top(), target.top()));
    return fitted;
}

} // namespace ccs::ui
