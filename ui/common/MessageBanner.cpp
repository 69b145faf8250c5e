#include "MessageBanner.h"

#include "Format.h"

#include <QEvent>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLayout>
#include <QStyle>
#include <QToolButton>

namespace ccs::ui {

MessageBanner::MessageBanner(QWidget *parent)
    : QFrame(parent)
    , m_icon(new QLabel(this))
    , m_label(new QLabel(this))
    , m_close(new QToolButton(this))
{
    setObjectName(QStringLiteral("messageBanner"));
    setAccessibleName(tr("Message"));
    auto layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 6, 6, 6);
    layout->setSpacing(8);
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_label->setObjectName(QStringLiteral("messageBannerText"));
    m_close->setAutoRaise(true);
    m_close->setIcon(style()->standardIcon(QStyle::SP_TitleBarCloseButton));
    m_close->setToolTip(tr("Dismiss this message"));
    m_close->setAccessibleName(tr("Dismiss message"));
    layout->addWidget(m_icon, 0, Qt::AlignTop);
    layout->addWidget(m_label, 1);
    layout->addWidget(m_close, 0, Qt::AlignTop);
    connect(m_close, &QToolButton::clicked, this, &MessageBanner::clear);
    hide();
}

void MessageBanner::showMessage(const QString &text, Kind kind)
{
    m_kind = kind;
    m_label->setText(text);
    QStyle::StandardPixmap icon = QStyle::SP_MessageBoxInformation;
    if (kind == Kind::Warning)
        icon = QStyle::SP_MessageBoxWarning;
    else if (kind == Kind::Error)
        icon = QStyle::SP_MessageBoxCritical;
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    m_icon->setPixmap(style()->standardIcon(icon).pixmap(size, size));
    applyStyle();
    show();
    placeOverSlot();
}

void MessageBanner::reserveSpace(QWidget *slot, int lines)
{
    m_slot = slot;
    m_reservedLines = std::max(1, lines);
    // Compact, since its line is there even when empty.
    layout()->setContentsMargins(10, 3, 4, 3);
    const int icon = style()->pixelMetric(QStyle::PM_SmallIconSize);
    m_close->setIconSize(QSize(icon, icon));
    // The slot may be taller than one line of text: icon and button sit with the text's middle.
    layout()->setAlignment(m_icon, Qt::AlignVCenter);
    layout()->setAlignment(m_close, Qt::AlignVCenter);
    if (parentWidget() != slot->parentWidget()) {
        const bool visible = isVisibleTo(parentWidget());
        setParent(slot->parentWidget());
        setVisible(visible);
    }
    slot->setFixedHeight(
        reservedHeight(m_reservedLines) + slot->contentsMargins().top() + slot->contentsMargins().bottom());
    slot->installEventFilter(this);
    placeOverSlot();
}

int MessageBanner::reservedHeight(int lines) const
{
    const QMargins margins = layout()->contentsMargins();
    const int text = m_label->fontMetrics().lineSpacing() * lines;
    const int controls
        = std::max(m_close->sizeHint().height(), style()->pixelMetric(QStyle::PM_SmallIconSize));
    // The style sheet's 1-pixel border above and below.
    return margins.top() + margins.bottom() + std::max(text, controls) + 2;
}

bool MessageBanner::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_slot
        && (event->type() == QEvent::Move || event->type() == QEvent::Resize
            || event->type() == QEvent::Show))
        placeOverSlot();
    return QFrame::eventFilter(watched, event);
}

void MessageBanner::placeOverSlot()
{
    if (!m_slot)
        return;
    const QRect area = m_slot->contentsRect().translated(m_slot->pos());
    const int height = std::max(area.height(), heightForWidth(area.width()));
    setGeometry(QRect(area.topLeft(), QSize(area.width(), height)));
    raise();
}

void MessageBanner::clear()
{
    m_label->clear();
    hide();
}

QString MessageBanner::text() const
{
    return m_label->text();
}

void MessageBanner::changeEvent(QEvent *event)
{
    QFrame::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && isVisible())
        applyStyle();
    if (event->type() == QEvent::FontChange) {
        if (m_slot)
            m_slot->setFixedHeight(reservedHeight(m_reservedLines) + m_slot->contentsMargins().top()
                + m_slot->contentsMargins().bottom());
        placeOverSlot();
    }
}

void MessageBanner::applyStyle()
{
    int hue = 210;
    if (m_kind == Kind::Warning)
        hue = 40;
    else if (m_kind == Kind::Error)
        hue = 0;
    else if (m_kind == Kind::Positive)
        hue = 130;
    // The application's palette: our own changes with the style sheet below.
    const bool dark = isDark(QGuiApplication::palette());
    const QColor background = dark ? QColor::fromHsl(hue, 90, 45) : QColor::fromHsl(hue, 160, 235);
    const QColor border = dark ? QColor::fromHsl(hue, 120, 90) : QColor::fromHsl(hue, 140, 170);
    const QColor text = dark ? QColor::fromHsl(hue, 40, 235) : QColor::fromHsl(hue, 80, 35);
    const QString sheet
        = QStringLiteral("#messageBanner { background: %1; border: 1px solid %2; border-radius: 4px; }"
                         "#messageBannerText { color: %3; }")
              .arg(background.name(), border.name(), text.name());
    // Setting a style sheet changes the palette, which calls us again: stop when nothing changes.
    if (sheet != styleSheet())
        setStyleSheet(sheet);
}

} // namespace ccs::ui
