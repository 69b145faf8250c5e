#include "ReceiptTimeline.h"

#include "common/Format.h"

#include <QDateTime>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QLabel>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace ccs::ui {

LatencyPercentiles percentiles(std::vector<qint64> &values)
{
    LatencyPercentiles result;
    result.samples = int(values.size());
    if (values.empty())
        return result;
    std::sort(values.begin(), values.end());
    auto rank = [&](double q) {
        const size_t i = size_t(std::ceil(q * double(values.size()))) - 1;
        return values[std::min(i, values.size() - 1)];
    };
    result.p50 = rank(0.50);
    result.p90 = rank(0.90);
    result.p99 = rank(0.99);
    return result;
}

ReceiptTimeline::ReceiptTimeline(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("receiptTimeline"));
    setAccessibleName(tr("Delivery receipt timeline"));
    setAccessibleDescription(
        tr("One lane per message: queued, sent, ACK, NACK, retry and receipt marks on a time axis. "
           "Plus and minus zoom, arrows pan, Home follows the present."));
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    // While following, the axis slides with the clock.
    m_tick.setInterval(100);
    connect(&m_tick, &QTimer::timeout, this, [this] {
        updateEmptyNotice();
        if (m_follow)
            update();
    });

    m_empty = new QWidget(this);
    m_empty->setObjectName(QStringLiteral("timelineEmpty"));
    auto emptyLayout = new QVBoxLayout(m_empty);
    m_emptyText = new QLabel(m_empty);
    m_emptyText->setObjectName(QStringLiteral("timelineEmptyText"));
    m_emptyText->setAlignment(Qt::AlignCenter);
    m_emptyText->setWordWrap(true);
    m_emptyText->setForegroundRole(QPalette::PlaceholderText);
    m_emptyFit = new QPushButton(tr("Fit: show every message"), m_empty);
    m_emptyFit->setObjectName(QStringLiteral("timelineEmptyFit"));
    m_emptyFit->setToolTip(tr("Zoom and pan so that every message is in view (0)"));
    emptyLayout->addStretch();
    emptyLayout->addWidget(m_emptyText);
    emptyLayout->addWidget(m_emptyFit, 0, Qt::AlignHCenter);
    emptyLayout->addStretch();
    connect(m_emptyFit, &QPushButton::clicked, this, [this] {
        fitAll();
        setFocus(Qt::OtherFocusReason); // the button goes away; focus stays on the timeline
    });
    updateEmptyNotice();
}

qint64 ReceiptTimeline::now() const
{
    return m_clock ? m_clock() : QDateTime::currentMSecsSinceEpoch();
}

void ReceiptTimeline::setClock(std::function<qint64()> clock)
{
    m_clock = std::move(clock);
    updateEmptyNotice();
    update();
}

void ReceiptTimeline::noteEvents(int index)
{
    const LedgerEntry &e = m_ledger->at(index);
    if (!e.history.isEmpty())
        m_lastEventMs = std::max(m_lastEventMs, e.history.last().atMs);
}

bool ReceiptTimeline::showsAnyMark() const
{
    const qint64 left = leftEdgeMs(), right = rightEdgeMs(), present = now();
    const int lanes = laneCount();
    const int maxFirst = std::max(0, lanes - visibleLanes());
    const int first = m_stickToLastLane ? maxFirst : std::clamp(m_firstLane, 0, maxFirst);
    for (int lane = first; lane < lanes && lane <= first + visibleLanes(); ++lane) {
        for (int index : entriesInLane(lane)) {
            const LedgerEntry &e = m_ledger->at(index);
            if (e.history.isEmpty())
                continue;
            const qint64 start = e.history.first().atMs;
            const qint64 end
                = isTerminal(e.state) || e.state == MessageState::Acked ? e.history.last().atMs : present;
            if (end >= left && start <= right)
                return true;
        }
    }
    return false;
}

void ReceiptTimeline::updateEmptyNotice()
{
    const int lanes = laneCount();
    bool empty = true;
    if (lanes == 0) {
        m_emptyText->setText(tr("No messages yet. Send one: its queued, sent, ACK and receipt marks appear "
                                "here."));
        m_emptyFit->hide();
    } else if (!showsAnyMark()) {
        const QString fmt = QStringLiteral("HH:mm:ss");
        m_emptyText->setText(tr("No marks between %1 and %2: the %3 happened outside this span.")
                                 .arg(QDateTime::fromMSecsSinceEpoch(leftEdgeMs()).toString(fmt),
                                     QDateTime::fromMSecsSinceEpoch(rightEdgeMs()).toString(fmt),
                                     lanes == 1 ? tr("message's events") : tr("messages' events")));
        m_emptyFit->show();
    } else {
        empty = false;
    }
    const QRect area = rect().adjusted(gutterWidth(), axisHeight(), 0, 0);
    m_empty->setGeometry(area.adjusted(12, 12, -12, -12));
    if (m_empty->isVisibleTo(this) != empty) {
        // The button is in the tab chain only while it shows.
        m_empty->setVisible(empty);
    }
}

void ReceiptTimeline::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    updateEmptyNotice();
}

void ReceiptTimeline::setLedger(const MessageLedger *ledger)
{
    if (m_ledger)
        disconnect(m_ledger, nullptr, this, nullptr);
    m_ledger = ledger;
    rebuildDevices();
    if (ledger) {
        connect(ledger, &MessageLedger::entryAdded, this, [this](int index) {
            const QString &to = m_ledger->at(index).message.to;
            if (!m_byDevice.contains(to))
                m_devices.append(to);
            m_byDevice[to].append(index);
            noteEvents(index);
            update();
        });
        connect(ledger, &MessageLedger::entryChanged, this, [this](int index) {
            noteEvents(index);
            update();
        });
        connect(ledger, &MessageLedger::cleared, this, [this] {
            rebuildDevices();
            updateEmptyNotice();
            update();
        });
    }
    updateEmptyNotice();
    update();
}

void ReceiptTimeline::rebuildDevices()
{
    m_devices.clear();
    m_byDevice.clear();
    m_lastEventMs = 0;
    if (!m_ledger)
        return;
    for (int i = 0; i < m_ledger->size(); ++i) {
        const QString &to = m_ledger->at(i).message.to;
        if (!m_byDevice.contains(to))
            m_devices.append(to);
        m_byDevice[to].append(i);
        noteEvents(i);
    }
}

void ReceiptTimeline::setLanes(Lanes lanes)
{
    m_lanes = lanes;
    m_firstLane = 0;
    m_stickToLastLane = true;
    update();
}

QList<ReceiptTimeline::Mark> ReceiptTimeline::marksForMessage(const QString &messageId) const
{
    QList<Mark> marks;
    const LedgerEntry *entry = m_ledger ? m_ledger->find(messageId) : nullptr;
    if (!entry)
        return marks;
    for (const LedgerTransition &t : entry->history)
        marks.append({t.state, t.atMs, t.connectionId, t.detail});
    return marks;
}

int ReceiptTimeline::laneCount() const
{
    if (!m_ledger)
        return 0;
    return m_lanes == Lanes::PerMessage ? m_ledger->size() : int(m_devices.size());
}

QList<int> ReceiptTimeline::entriesInLane(int lane) const
{
    if (!m_ledger || lane < 0 || lane >= laneCount())
        return {};
    if (m_lanes == Lanes::PerMessage)
        return {lane};
    return m_byDevice.value(m_devices.at(lane));
}

QString ReceiptTimeline::laneLabel(int lane) const
{
    if (m_lanes == Lanes::PerDevice)
        return m_devices.value(lane);
    const LedgerEntry &e = m_ledger->at(lane);
    QString id = e.message.messageId;
    // Generated ids share their prefix: the counter at the end tells them apart.
    if (id.size() > 14)
        id = QStringLiteral("…") + id.right(13);
    return id;
}

int ReceiptTimeline::laneHeight() const
{
    return fontMetrics().height() + 8;
}

int ReceiptTimeline::axisHeight() const
{
    return fontMetrics().height() + 10;
}

int ReceiptTimeline::gutterWidth() const
{
    return fontMetrics().horizontalAdvance(QStringLiteral("…0000-000000 ")) + 16;
}

int ReceiptTimeline::visibleLanes() const
{
    return std::max(1, (height() - axisHeight()) / laneHeight());
}

qint64 ReceiptTimeline::rightEdgeMs() const
{
    if (!m_follow)
        return m_endMs;
    const qint64 room = qint64(m_msPerPx * 24); // for what comes next
    const qint64 present = now();
    const qint64 span = qint64(m_msPerPx * std::max(1, width() - gutterWidth()));
    // Live slides with the clock while things happen; once nothing has for
    // most of the span, it stops at the newest event so that stays in view.
    if (m_lastEventMs <= 0 || present - m_lastEventMs < span * 3 / 4)
        return present + room;
    return m_lastEventMs + room;
}

qint64 ReceiptTimeline::leftEdgeMs() const
{
    return msAt(gutterWidth());
}

double ReceiptTimeline::xFor(qint64 ms) const
{
    return width() - double(rightEdgeMs() - ms) / m_msPerPx;
}

qint64 ReceiptTimeline::msAt(double x) const
{
    return rightEdgeMs() - qint64((width() - x) * m_msPerPx);
}

void ReceiptTimeline::clampFirstLane()
{
    const int maxFirst = std::max(0, laneCount() - visibleLanes());
    if (m_stickToLastLane)
        m_firstLane = maxFirst;
    m_firstLane = std::clamp(m_firstLane, 0, maxFirst);
}

void ReceiptTimeline::setFollowing(bool follow)
{
    if (!follow)
        m_endMs = rightEdgeMs();
    if (follow)
        m_stickToLastLane = true;
    if (m_follow == follow) {
        update();
        return;
    }
    m_follow = follow;
    Q_EMIT followingChanged(follow);
    updateEmptyNotice();
    update();
}

void ReceiptTimeline::zoomBy(double factor, int anchorX)
{
    if (anchorX < 0)
        anchorX = width();
    const qint64 anchorMs = msAt(anchorX);
    const double newScale = std::clamp(m_msPerPx * factor, 0.01, 3'600'000.0 / 50);
    if (m_follow && anchorX < width() - 30) {
        setFollowing(false);
    }
    m_msPerPx = newScale;
    if (!m_follow)
        m_endMs = anchorMs + qint64((width() - anchorX) * m_msPerPx);
    updateEmptyNotice();
    update();
}

void ReceiptTimeline::panByPixels(double dx)
{
    if (m_follow)
        setFollowing(false);
    m_endMs -= qint64(dx * m_msPerPx);
    updateEmptyNotice();
    update();
}

void ReceiptTimeline::fitAll()
{
    if (!m_ledger || m_ledger->size() == 0)
        return;
    qint64 first = std::numeric_limits<qint64>::max(), last = 0;
    for (int i = 0; i < m_ledger->size(); ++i) {
        const auto &h = m_ledger->at(i).history;
        if (h.isEmpty())
            continue;
        first = std::min(first, h.first().atMs);
        last = std::max(last, h.last().atMs);
    }
    if (last == 0)
        return;
    const double span = double(std::max<qint64>(last - first, 100));
    m_msPerPx = span / std::max(50, width() - gutterWidth() - 40);
    setFollowing(false);
    m_endMs = last + qint64(m_msPerPx * 20);
    m_stickToLastLane = true;
    updateEmptyNotice();
    update();
}

void ReceiptTimeline::drawMark(QPainter &p, const Mark &mark, QPointF c) const
{
    const QColor color = stateColor(mark.state, palette());
    const double r = 4.0;
    p.setPen(QPen(color, 1.6));
    switch (mark.state) {
    case MessageState::Queued:
        p.setBrush(palette().color(QPalette::Base));
        p.drawEllipse(c, r - 0.5, r - 0.5);
        break;
    case MessageState::InFlight:
        p.setBrush(color);
        p.drawEllipse(c, r - 1, r - 1);
        break;
    case MessageState::Acked: {
        QPainterPath diamond;
        diamond.moveTo(c + QPointF(0, -r - 1));
        diamond.lineTo(c + QPointF(r + 1, 0));
        diamond.lineTo(c + QPointF(0, r + 1));
        diamond.lineTo(c + QPointF(-r - 1, 0));
        diamond.closeSubpath();
        p.setBrush(color);
        p.drawPath(diamond);
        break;
    }
    case MessageState::Delivered:
        p.setBrush(color);
        p.drawEllipse(c, r + 1, r + 1);
        break;
    case MessageState::RetryWaiting: {
        QPolygonF triangle {c + QPointF(0, -r - 1), c + QPointF(r + 1, r), c + QPointF(-r - 1, r)};
        p.setBrush(color);
        p.drawPolygon(triangle);
        break;
    }
    case MessageState::Nacked:
    case MessageState::Failed:
    case MessageState::Expired:
        p.setPen(QPen(color, 2.2));
        p.drawLine(c + QPointF(-r, -r), c + QPointF(r, r));
        p.drawLine(c + QPointF(-r, r), c + QPointF(r, -r));
        break;
    case MessageState::Cancelled:
        p.setBrush(Qt::NoBrush);
        p.drawRect(QRectF(c - QPointF(r - 1, r - 1), QSizeF(2 * r - 2, 2 * r - 2)));
        break;
    }
}

void ReceiptTimeline::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    const QPalette pal = palette();
    p.fillRect(rect(), pal.color(QPalette::Base));
    clampFirstLane();
    const int axisH = axisHeight();
    const int laneH = laneHeight();
    const int gutter = gutterWidth();
    QColor gridColor = pal.color(QPalette::Text);
    gridColor.setAlpha(isDark(pal) ? 28 : 22);
    const QColor muted = pal.color(QPalette::PlaceholderText);

    // Zebra lanes, then the time grid.
    QColor zebra = pal.color(QPalette::AlternateBase);
    const int lanes = laneCount();
    for (int i = 0; i < visibleLanes() + 1; ++i) {
        const int lane = m_firstLane + i;
        if (lane >= lanes)
            break;
        if (lane % 2)
            p.fillRect(QRect(0, axisH + i * laneH, width(), laneH), zebra);
    }

    static const qint64 steps[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000,
        60000, 120000, 300000, 600000, 900000, 1800000, 3600000, 7200000, 21600000, 43200000, 86400000};
    qint64 step = steps[std::size(steps) - 1];
    for (qint64 s : steps) {
        if (double(s) / m_msPerPx >= 90) {
            step = s;
            break;
        }
    }
    const qint64 leftMs = msAt(gutter);
    const qint64 rightMs = msAt(width());
    p.setRenderHint(QPainter::Antialiasing, false);
    for (qint64 t = (leftMs / step + 1) * step; t <= rightMs; t += step) {
        const double x = xFor(t);
        p.setPen(gridColor);
        p.drawLine(QPointF(x, axisH - 4), QPointF(x, height()));
        p.setPen(muted);
        const QString fmt = step < 1000
            ? QStringLiteral("HH:mm:ss.zzz")
            : (step < 60000 ? QStringLiteral("HH:mm:ss") : QStringLiteral("HH:mm"));
        const QString label = QDateTime::fromMSecsSinceEpoch(t).toString(fmt);
        p.drawText(QRectF(x - 60, 0, 120, axisH - 4), Qt::AlignCenter, label);
    }
    p.setPen(gridColor);
    p.drawLine(0, axisH - 1, width(), axisH - 1);

    // "Now" line while following.
    const qint64 present = now();
    if (xFor(present) > gutter && xFor(present) < width()) {
        QColor nowColor = stateColor(MessageState::InFlight, pal);
        nowColor.setAlpha(120);
        p.setPen(QPen(nowColor, 1, Qt::DashLine));
        p.drawLine(QPointF(xFor(present), axisH), QPointF(xFor(present), height()));
    }

    p.setRenderHint(QPainter::Antialiasing, true);
    p.setClipRect(QRect(gutter, axisH, width() - gutter, height() - axisH));
    for (int i = 0; i <= visibleLanes(); ++i) {
        const int lane = m_firstLane + i;
        if (lane >= lanes)
            break;
        const double y = axisH + i * laneH + laneH / 2.0;
        for (int index : entriesInLane(lane)) {
            const LedgerEntry &e = m_ledger->at(index);
            if (e.history.isEmpty())
                continue;
            const qint64 first = e.history.first().atMs;
            const qint64 last
                = isTerminal(e.state) || e.state == MessageState::Acked ? e.history.last().atMs : present;
            if (last < leftMs || first > rightMs)
                continue;
            QColor line = stateColor(e.state, pal);
            line.setAlpha(150);
            p.setPen(QPen(line, 2, Qt::SolidLine, Qt::RoundCap));
            p.drawLine(QPointF(xFor(first), y), QPointF(xFor(last), y));
            for (const LedgerTransition &t : e.history)
                drawMark(p, {t.state, t.atMs, t.connectionId, t.detail}, QPointF(xFor(t.atMs), y));
        }
    }
    p.setClipping(false);

    // Lane labels in the gutter, over their own background.
    p.fillRect(QRect(0, axisH, gutter, height() - axisH), pal.color(QPalette::Base));
    p.setPen(gridColor);
    p.drawLine(gutter, axisH, gutter, height());
    for (int i = 0; i <= visibleLanes(); ++i) {
        const int lane = m_firstLane + i;
        if (lane >= lanes)
            break;
        const QRect r(6, axisH + i * laneH, gutter - 10, laneH);
        if (lane % 2)
            p.fillRect(QRect(0, r.top(), gutter, laneH), zebra);
        p.setPen(pal.color(QPalette::Text));
        p.drawText(r, Qt::AlignVCenter | Qt::AlignLeft,
            fontMetrics().elidedText(laneLabel(lane), Qt::ElideLeft, r.width()));
    }
    if (hasFocus()) {
        QColor focus = pal.color(QPalette::Highlight);
        p.setPen(QPen(focus, 1));
        p.setBrush(Qt::NoBrush);
        p.drawRect(rect().adjusted(0, 0, -1, -1));
    }
}

void ReceiptTimeline::wheelEvent(QWheelEvent *event)
{
    const QPoint delta = event->angleDelta();
    if (event->modifiers() & Qt::ShiftModifier || std::abs(delta.x()) > std::abs(delta.y())) {
        const int d = delta.x() ? delta.x() : delta.y();
        if (event->modifiers() & Qt::ShiftModifier) {
            m_stickToLastLane = false;
            m_firstLane -= d / 40;
            update();
        } else {
            panByPixels(d / 2.0);
        }
    } else if (delta.y() != 0) {
        zoomBy(delta.y() > 0 ? 1 / 1.25 : 1.25, int(event->position().x()));
    }
    event->accept();
}

void ReceiptTimeline::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton) {
        m_dragging = true;
        m_dragStart = event->pos();
        m_dragEndMs = rightEdgeMs();
        m_dragFirstLane = m_firstLane;
        setCursor(Qt::ClosedHandCursor);
    }
    QWidget::mousePressEvent(event);
}

void ReceiptTimeline::mouseMoveEvent(QMouseEvent *event)
{
    if (m_dragging) {
        const QPoint d = event->pos() - m_dragStart;
        if (d.manhattanLength() > 3) {
            if (m_follow)
                setFollowing(false);
            m_endMs = m_dragEndMs - qint64(d.x() * m_msPerPx);
            m_stickToLastLane = false;
            m_firstLane = m_dragFirstLane - d.y() / laneHeight();
            update();
        }
    }
    QWidget::mouseMoveEvent(event);
}

void ReceiptTimeline::mouseReleaseEvent(QMouseEvent *event)
{
    m_dragging = false;
    unsetCursor();
    QWidget::mouseReleaseEvent(event);
}

void ReceiptTimeline::keyPressEvent(QKeyEvent *event)
{
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        zoomBy(1 / 1.5);
        return;
    case Qt::Key_Minus:
        zoomBy(1.5);
        return;
    case Qt::Key_Left:
        panByPixels(width() / 8.0);
        return;
    case Qt::Key_Right:
        panByPixels(-width() / 8.0);
        return;
    case Qt::Key_Up:
        m_stickToLastLane = false;
        --m_firstLane;
        update();
        return;
    case Qt::Key_Down:
        ++m_firstLane;
        update();
        return;
    case Qt::Key_Home:
        setFollowing(true);
        return;
    case Qt::Key_0:
        fitAll();
        return;
    default:
        QWidget::keyPressEvent(event);
    }
}

bool ReceiptTimeline::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip && m_ledger) {
        auto help = static_cast<QHelpEvent *>(event);
        const int lane = m_firstLane + (help->pos().y() - axisHeight()) / laneHeight();
        if (help->pos().y() < axisHeight() || help->pos().x() < gutterWidth() || lane >= laneCount()) {
            if (help->pos().x() < gutterWidth() && lane < laneCount() && lane >= 0
                && m_lanes == Lanes::PerMessage) {
                const LedgerEntry &e = m_ledger->at(lane);
                QToolTip::showText(help->globalPos(),
                    QStringLiteral("%1 → %2\n%3").arg(e.message.messageId, e.message.to, stateLabel(e.state)),
                    this);
                return true;
            }
            QToolTip::hideText();
            return true;
        }
        const LedgerTransition *best = nullptr;
        const LedgerEntry *bestEntry = nullptr;
        double bestDistance = 8;
        for (int index : entriesInLane(lane)) {
            const LedgerEntry &e = m_ledger->at(index);
            for (const LedgerTransition &t : e.history) {
                const double d = std::abs(xFor(t.atMs) - help->pos().x());
                if (d < bestDistance) {
                    bestDistance = d;
                    best = &t;
                    bestEntry = &e;
                }
            }
        }
        if (!best) {
            QToolTip::hideText();
            return true;
        }
        const qint64 start = bestEntry->history.first().atMs;
        QString text
            = QStringLiteral("<b>%1</b> %2<br>%3 → %4<br>%5 (+%6 after queued)")
                  .arg(stateLabel(best->state), best->detail.toHtmlEscaped(),
                      bestEntry->message.messageId.toHtmlEscaped(), bestEntry->message.to.toHtmlEscaped(),
                      QDateTime::fromMSecsSinceEpoch(best->atMs).toString(QStringLiteral("HH:mm:ss.zzz")),
                      formatLatency(best->atMs - start));
        if (best->connectionId)
            text += tr("<br>connection %1").arg(best->connectionId);
        QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

void ReceiptTimeline::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    m_tick.start();
}

void ReceiptTimeline::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_tick.stop();
}

} // namespace ccs::ui
