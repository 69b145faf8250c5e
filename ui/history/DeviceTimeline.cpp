#include "DeviceTimeline.h"

#include "common/Format.h"

#include <QHelpEvent>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPainter>
#include <QToolTip>

#include <algorithm>

namespace ccs::ui {

namespace {

constexpr int kLabelWidth = 150;
constexpr int kAxisHeight = 18;

QColor colorForState(const QString &name, const QPalette &palette)
{
    for (int s = 0; s <= int(MessageState::Cancelled); ++s)
        if (stateName(MessageState(s)) == name)
            return stateColor(MessageState(s), palette);
    return palette.color(QPalette::Text);
}

} // namespace

DeviceTimeline::DeviceTimeline(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("historyDeviceTimeline"));
    setAccessibleName(tr("Device timeline"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void DeviceTimeline::clear()
{
    m_token.clear();
    m_lanes.clear();
    m_marks.clear();
    m_startMs = m_endMs = 0;
    updateGeometry();
    update();
}

void DeviceTimeline::setRows(const QString &token, const QVector<history::HistoryRow> &rows)
{
    clear();
    m_token = token;
    for (const history::HistoryRow &row : rows) {
        if (row.kind != history::RowKind::Downstream) {
            m_marks.append({row.kind, row.messageId, row.atMs});
            continue;
        }
        if (m_lanes.size() >= kMaxLanes)
            continue;
        Lane lane;
        lane.messageId = row.messageId;
        const QJsonArray states = QJsonDocument::fromJson(row.historyJson.toUtf8()).array();
        for (const QJsonValue &value : states) {
            const QJsonObject t = value.toObject();
            const qint64 at = t.value(QLatin1String("at_ms")).toInteger();
            if (!lane.stretches.isEmpty())
                lane.stretches.last().endMs = std::max(lane.stretches.last().startMs, at);
            lane.stretches.append({t.value(QLatin1String("state")).toString(), at, at});
        }
        if (lane.stretches.isEmpty()) // no state history kept: the state it ended in
            lane.stretches.append({row.state, row.atMs, row.atMs});
        m_lanes.append(lane);
    }
    // The time axis covers the lanes shown and what the device sent meanwhile.
    bool first = true;
    auto cover = [&](qint64 a, qint64 b) {
        m_startMs = first ? a : std::min(m_startMs, a);
        m_endMs = first ? b : std::max(m_endMs, b);
        first = false;
    };
    for (const Lane &lane : std::as_const(m_lanes))
        cover(lane.stretches.first().startMs, lane.stretches.last().endMs);
    for (const Mark &mark : std::as_const(m_marks))
        cover(mark.atMs, mark.atMs);
    if (m_endMs <= m_startMs)
        m_endMs = m_startMs + 1;
    updateGeometry();
    update();
}

int DeviceTimeline::laneHeight() const
{
    return fontMetrics().height() + 4;
}

QSize DeviceTimeline::sizeHint() const
{
    const int lanes = int(m_lanes.size()) + 1; // the device's own lane
    return {600, kAxisHeight + lanes * laneHeight() + 6};
}

QSize DeviceTimeline::minimumSizeHint() const
{
    return {300, sizeHint().height()};
}

QRect DeviceTimeline::plotRect() const
{
    return rect().adjusted(kLabelWidth, 2, -12, -kAxisHeight);
}

int DeviceTimeline::xFor(qint64 ms, const QRect &plot) const
{
    const double f = double(ms - m_startMs) / double(std::max<qint64>(1, m_endMs - m_startMs));
    return plot.left() + int(f * plot.width());
}

void DeviceTimeline::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    const QPalette pal = palette();
    p.fillRect(rect(), pal.color(QPalette::Base));
    if (m_token.isEmpty())
        return;
    const QRect plot = plotRect();
    const int h = laneHeight();
    const QColor muted = pal.color(QPalette::PlaceholderText);
    // Lane 0: from the device (upstream messages, receipts).
    p.setPen(pal.color(QPalette::Text));
    const QFontMetrics fm = fontMetrics();
    p.drawText(QRect(4, plot.top(), kLabelWidth - 8, h), Qt::AlignVCenter | Qt::AlignLeft,
        fm.elidedText(tr("from the device"), Qt::ElideRight, kLabelWidth - 8));
    p.setPen(muted);
    p.drawLine(plot.left(), plot.top() + h / 2, plot.right(), plot.top() + h / 2);
    for (const Mark &mark : std::as_const(m_marks)) {
        const int x = xFor(mark.atMs, plot);
        const int cy = plot.top() + h / 2;
        const int r = h / 3;
        const QColor color = mark.kind == history::RowKind::Receipt
            ? stateColor(MessageState::Delivered, pal)
            : pal.color(QPalette::Highlight);
        p.setPen(Qt::NoPen);
        p.setBrush(color);
        const QPoint diamond[4] = {{x, cy - r}, {x + r, cy}, {x, cy + r}, {x - r, cy}};
        p.drawPolygon(diamond, 4);
    }
    // One lane per message sent to it: its states over time.
    for (int i = 0; i < m_lanes.size(); ++i) {
        const Lane &lane = m_lanes.at(i);
        const int top = plot.top() + (i + 1) * h;
        p.setPen(pal.color(QPalette::Text));
        p.drawText(QRect(4, top, kLabelWidth - 8, h), Qt::AlignVCenter | Qt::AlignLeft,
            fm.elidedText(lane.messageId, Qt::ElideMiddle, kLabelWidth - 8));
        for (const Stretch &s : lane.stretches) {
            const int x0 = xFor(s.startMs, plot);
            const int x1 = std::max(x0 + 3, xFor(s.endMs, plot));
            p.fillRect(QRect(x0, top + 3, x1 - x0, h - 6), colorForState(s.state, pal));
        }
    }
    // The axis: the first and the last time shown.
    p.setPen(muted);
    p.drawLine(plot.left(), plot.bottom() + 1, plot.right(), plot.bottom() + 1);
    const QRect axis(plot.left(), plot.bottom() + 2, plot.width(), kAxisHeight - 2);
    p.drawText(axis, Qt::AlignLeft | Qt::AlignVCenter, formatClock(m_startMs));
    p.drawText(axis, Qt::AlignRight | Qt::AlignVCenter, formatClock(m_endMs));
    p.drawText(axis, Qt::AlignHCenter | Qt::AlignVCenter,
        tr("%1 sent shown, %2 from the device · span %3")
            .arg(m_lanes.size())
            .arg(m_marks.size())
            .arg(formatLatency(m_endMs - m_startMs)));
}

QString DeviceTimeline::describeAt(const QPoint &point) const
{
    const QRect plot = plotRect();
    const int h = laneHeight();
    const int lane = (point.y() - plot.top()) / h - 1;
    if (point.y() < plot.top() || lane >= m_lanes.size())
        return {};
    if (lane < 0) {
        for (const Mark &mark : m_marks)
            if (std::abs(xFor(mark.atMs, plot) - point.x()) <= h / 2)
                return tr("%1 %2 at %3")
                    .arg(history::rowKindName(mark.kind), mark.messageId, formatClock(mark.atMs));
        return {};
    }
    QStringList states;
    for (const Stretch &s : m_lanes.at(lane).stretches)
        states << QStringLiteral("%1 %2").arg(formatClock(s.startMs), s.state);
    return m_lanes.at(lane).messageId + QLatin1Char('\n') + states.join(QLatin1Char('\n'));
}

bool DeviceTimeline::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        const auto *help = static_cast<QHelpEvent *>(event);
        const QString text = describeAt(help->pos());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

} // namespace ccs::ui
