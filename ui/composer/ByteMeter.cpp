#include "ByteMeter.h"

#include "common/Format.h"

#include <QPainter>

namespace ccs::ui {

ByteMeter::ByteMeter(QWidget *parent)
    : QWidget(parent)
{
    setAccessibleName(tr("Data size"));
    setToolTip(tr("Bytes of the data payload (keys and values, UTF-8) against the 4096-byte limit of CCS"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void ByteMeter::setBytes(int bytes)
{
    if (bytes == m_bytes)
        return;
    m_bytes = bytes;
    setAccessibleDescription(text());
    update();
}

void ByteMeter::setLimit(int limit)
{
    m_limit = std::max(1, limit);
    update();
}

QString ByteMeter::text() const
{
    return tr("%1 / %2 bytes").arg(formatCount(m_bytes), formatCount(m_limit));
}

QSize ByteMeter::sizeHint() const
{
    return {200, fontMetrics().height() + 4};
}

void ByteMeter::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QString label = text();
    const int textWidth = fontMetrics().horizontalAdvance(label) + 10;
    const QRectF track(0.5, height() / 2.0 - 3, std::max(20, width() - textWidth) - 1, 6);
    QColor trackColor = palette().color(QPalette::WindowText);
    trackColor.setAlpha(35);
    p.setPen(Qt::NoPen);
    p.setBrush(trackColor);
    p.drawRoundedRect(track, 3, 3);
    const double share = std::min(1.0, double(m_bytes) / m_limit);
    MessageState tone = MessageState::Delivered;
    if (m_bytes > m_limit)
        tone = MessageState::Failed;
    else if (share > 0.85)
        tone = MessageState::RetryWaiting;
    const QColor fill = m_bytes > 0 ? stateColor(tone, palette()) : trackColor;
    p.setBrush(fill);
    QRectF bar = track;
    bar.setWidth(std::max(m_bytes > 0 ? 6.0 : 0.0, track.width() * share));
    p.drawRoundedRect(bar, 3, 3);
    p.setPen(m_bytes > m_limit ? fill : palette().color(QPalette::PlaceholderText));
    p.drawText(QRect(width() - textWidth, 0, textWidth, height()), Qt::AlignRight | Qt::AlignVCenter, label);
}

} // namespace ccs::ui
