#include "PendingWindowGauge.h"

#include "common/Format.h"

#include <QDateTime>
#include <QPainter>

namespace ccs::ui {

PendingWindowGauge::PendingWindowGauge(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("pendingWindowGauge"));
    setAccessibleName(tr("Pending window"));
    setToolTip(tr("Un-answered messages per connection against its window of 100, the queue waiting "
                  "for room, and the send and ACK rates over the last minute"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    m_timer.setInterval(250);
    connect(&m_timer, &QTimer::timeout, this, &PendingWindowGauge::refresh);
    m_timer.start();
}

void PendingWindowGauge::setSession(CcsSession *session)
{
    if (m_session) {
        disconnect(m_session, nullptr, this, nullptr);
        disconnect(m_session->ledger(), nullptr, this, nullptr);
    }
    m_session = session;
    if (session)
        connect(session->ledger(), &MessageLedger::entryChanged, this, &PendingWindowGauge::onTransition);
    refresh();
}

void PendingWindowGauge::advance(qint64 nowSecond)
{
    if (m_bucketSecond == 0) {
        m_bucketSecond = nowSecond;
        return;
    }
    // Zero the buckets of the seconds that passed without events.
    for (qint64 s = m_bucketSecond + 1; s <= nowSecond && s <= m_bucketSecond + 60; ++s) {
        m_sent[size_t(s % 60)] = 0;
        m_acked[size_t(s % 60)] = 0;
    }
    m_bucketSecond = std::max(m_bucketSecond, nowSecond);
}

void PendingWindowGauge::onTransition(int, MessageState, MessageState to)
{
    if (to != MessageState::InFlight && to != MessageState::Acked)
        return;
    const qint64 second = QDateTime::currentMSecsSinceEpoch() / 1000;
    advance(second);
    if (m_firstSecond == 0)
        m_firstSecond = second;
    (to == MessageState::InFlight ? m_sent : m_acked)[size_t(second % 60)]++;
}

double PendingWindowGauge::rate(const std::array<int, 60> &buckets) const
{
    if (m_firstSecond == 0)
        return 0;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 nowSecond = now / 1000;
    if (nowSecond - m_bucketSecond >= 60)
        return 0;
    qint64 total = 0;
    for (qint64 s = nowSecond - 59; s <= nowSecond; ++s) {
        if (s > m_bucketSecond - 60 && s <= m_bucketSecond)
            total += buckets[size_t(s % 60)];
    }
    const double span = std::clamp(double(now - m_firstSecond * 1000) / 1000.0, 1.0, 60.0);
    return double(total) / span;
}

double PendingWindowGauge::sendRate() const
{
    return rate(m_sent);
}

double PendingWindowGauge::ackRate() const
{
    return rate(m_acked);
}

void PendingWindowGauge::refresh()
{
    advance(QDateTime::currentMSecsSinceEpoch() / 1000);
    m_connections = m_session ? m_session->connections() : QList<ConnectionStatus> {};
    m_queue = m_session ? m_session->queueLength() : 0;
    setAccessibleDescription(summary());
    update();
}

QString PendingWindowGauge::summary() const
{
    QStringList parts;
    for (const ConnectionStatus &c : m_connections) {
        parts << tr("connection %1: %2/%3%4")
                     .arg(c.id)
                     .arg(c.pending)
                     .arg(c.window)
                     .arg(c.draining ? tr(" draining") : QString());
    }
    if (parts.isEmpty())
        parts << tr("no connection");
    parts << tr("queue %1").arg(formatCount(m_queue));
    parts << tr("sent %1/s, ACKed %2/s").arg(sendRate(), 0, 'f', 1).arg(ackRate(), 0, 'f', 1);
    return parts.join(QStringLiteral(" · "));
}

QSize PendingWindowGauge::sizeHint() const
{
    return {600, fontMetrics().height() + 8};
}

QSize PendingWindowGauge::minimumSizeHint() const
{
    return {200, fontMetrics().height() + 8};
}

void PendingWindowGauge::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::WindowText);
    const QColor muted = pal.color(QPalette::PlaceholderText);
    QColor track = text;
    track.setAlpha(35);
    const QFontMetrics fm = fontMetrics();
    const int h = height();
    int x = 4;
    auto drawText = [&](const QString &s, const QColor &color) {
        p.setPen(color);
        p.drawText(QRect(x, 0, fm.horizontalAdvance(s) + 2, h), Qt::AlignVCenter | Qt::AlignLeft, s);
        x += fm.horizontalAdvance(s) + 2;
    };
    drawText(tr("Pending"), muted);
    x += 8;
    if (m_connections.isEmpty()) {
        drawText(tr("no connection"), muted);
        x += 16;
    }
    for (const ConnectionStatus &c : m_connections) {
        const int barWidth = 90;
        const QRectF bar(x, h / 2.0 - 4, barWidth, 8);
        p.setPen(Qt::NoPen);
        p.setBrush(track);
        p.drawRoundedRect(bar, 3, 3);
        const double share = c.window > 0 ? std::min(1.0, double(c.pending) / c.window) : 0;
        MessageState tone = c.draining ? MessageState::RetryWaiting : MessageState::InFlight;
        if (!c.draining && share >= 0.9)
            tone = MessageState::RetryWaiting;
        QRectF fill = bar;
        fill.setWidth(c.pending > 0 ? std::max(4.0, barWidth * share) : 0);
        p.setBrush(stateColor(tone, pal));
        if (fill.width() > 0)
            p.drawRoundedRect(fill, 3, 3);
        x += barWidth + 6;
        drawText(QStringLiteral("%1/%2").arg(c.pending).arg(c.window), text);
        x += 4;
        drawText(c.draining ? tr("(conn %1, draining)").arg(c.id) : tr("(conn %1)").arg(c.id),
            c.draining ? stateColor(MessageState::RetryWaiting, pal) : muted);
        x += 16;
    }
    drawText(tr("queue"), muted);
    x += 4;
    drawText(formatCount(m_queue), text);
    x += 16;

    // Sparkline of the last minute: sends (blue) and ACKs (green).
    const int sparkWidth = 120;
    const QRectF spark(x, 3, sparkWidth, h - 6);
    int peak = 1;
    for (int i = 0; i < 60; ++i)
        peak = std::max({peak, m_sent[size_t(i)], m_acked[size_t(i)]});
    auto drawSeries = [&](const std::array<int, 60> &b, MessageState tone) {
        QPolygonF line;
        for (int i = 0; i < 60; ++i) {
            const qint64 s = m_bucketSecond - 59 + i;
            const int v = b[size_t(((s % 60) + 60) % 60)];
            line << QPointF(
                spark.left() + spark.width() * i / 59.0, spark.bottom() - spark.height() * v / peak);
        }
        p.setPen(QPen(stateColor(tone, pal), 1.3));
        p.setBrush(Qt::NoBrush);
        p.drawPolyline(line);
    };
    if (m_firstSecond != 0) {
        drawSeries(m_sent, MessageState::InFlight);
        drawSeries(m_acked, MessageState::Delivered);
        x += sparkWidth + 8;
    }
    p.setPen(stateColor(MessageState::InFlight, pal));
    drawText(QStringLiteral("↑ %1/s").arg(sendRate(), 0, 'f', sendRate() < 10 ? 1 : 0),
        stateColor(MessageState::InFlight, pal));
    x += 10;
    drawText(QStringLiteral("ACK %1/s").arg(ackRate(), 0, 'f', ackRate() < 10 ? 1 : 0),
        stateColor(MessageState::Delivered, pal));
}

} // namespace ccs::ui
