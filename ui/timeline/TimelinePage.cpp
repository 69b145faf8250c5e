#include "TimelinePage.h"

#include "ReceiptTimeline.h"
#include "common/Format.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

namespace ccs::ui {

TimelinePage::TimelinePage(QWidget *parent)
    : QWidget(parent)
    , m_timeline(new ReceiptTimeline(this))
    , m_lanes(new QComboBox(this))
    , m_follow(new QToolButton(this))
    , m_legend(new QLabel(this))
    , m_latency(new QLabel(this))
{
    setObjectName(QStringLiteral("timelinePage"));
    auto layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 6, 0, 0);
    layout->setSpacing(4);
    auto bar = new QHBoxLayout;
    bar->setContentsMargins(6, 0, 6, 0);
    m_lanes->setObjectName(QStringLiteral("timelineLanes"));
    m_lanes->setAccessibleName(tr("Timeline lanes"));
    m_lanes->setToolTip(tr("One lane per message, or one per device"));
    m_lanes->addItem(tr("Lane per message"), int(ReceiptTimeline::Lanes::PerMessage));
    m_lanes->addItem(tr("Lane per device"), int(ReceiptTimeline::Lanes::PerDevice));
    auto zoomIn = new QToolButton(this);
    zoomIn->setText(QStringLiteral("+"));
    zoomIn->setToolTip(tr("Zoom in (+, or the mouse wheel)"));
    zoomIn->setAccessibleName(tr("Zoom in"));
    auto zoomOut = new QToolButton(this);
    zoomOut->setText(QStringLiteral("−"));
    zoomOut->setToolTip(tr("Zoom out (−, or the mouse wheel)"));
    zoomOut->setAccessibleName(tr("Zoom out"));
    auto fit = new QToolButton(this);
    fit->setText(tr("Fit"));
    fit->setObjectName(QStringLiteral("timelineFit"));
    fit->setToolTip(tr("Show every message (0)"));
    fit->setAccessibleName(tr("Fit: show every message"));
    m_follow->setObjectName(QStringLiteral("timelineFollow"));
    m_follow->setText(tr("Live"));
    m_follow->setCheckable(true);
    m_follow->setChecked(true);
    m_follow->setToolTip(tr("Keep the newest events in view (Home). Dragging or zooming away pauses it."));
    m_follow->setAccessibleName(tr("Live: follow the newest events"));
    const QPalette pal = palette();
    auto glyph = [&](MessageState s, const QString &g, const QString &label) {
        return QStringLiteral("<span style='color:%1'>%2</span>&nbsp;%3")
            .arg(stateColor(s, pal).name(), g, label);
    };
    m_legend->setText(QStringList {glyph(MessageState::Queued, QStringLiteral("○"), tr("queued")),
        glyph(MessageState::InFlight, QStringLiteral("●"), tr("sent")),
        glyph(MessageState::Acked, QStringLiteral("◆"), tr("ACK")),
        glyph(MessageState::RetryWaiting, QStringLiteral("▲"), tr("retry")),
        glyph(MessageState::Nacked, QStringLiteral("✕"), tr("NACK")),
        glyph(MessageState::Delivered, QStringLiteral("⬤"), tr("receipt"))}
                          .join(QStringLiteral("&nbsp;&nbsp; ")));
    m_legend->setWordWrap(true); // wraps in a narrow window instead of widening it
    m_legend->setToolTip(tr("Wheel zooms, drag pans, Shift+wheel scrolls lanes, hover shows exact times"));
    bar->addWidget(m_lanes);
    bar->addWidget(zoomIn);
    bar->addWidget(zoomOut);
    bar->addWidget(fit);
    bar->addWidget(m_follow);
    bar->addSpacing(12);
    bar->addWidget(m_legend, 1); // all the room there is, so it wraps only when it must
    layout->addLayout(bar);
    layout->addWidget(m_timeline, 1);
    m_latency->setObjectName(QStringLiteral("latencyLabel"));
    m_latency->setContentsMargins(8, 2, 8, 6);
    m_latency->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_latency->setWordWrap(true);
    layout->addWidget(m_latency);

    // The bar first, then the timeline, as they read.
    setTabOrder(m_lanes, zoomIn);
    setTabOrder(zoomIn, zoomOut);
    setTabOrder(zoomOut, fit);
    setTabOrder(fit, m_follow);
    setTabOrder(m_follow, m_timeline);

    connect(m_lanes, &QComboBox::currentIndexChanged, this,
        [this] { m_timeline->setLanes(ReceiptTimeline::Lanes(m_lanes->currentData().toInt())); });
    connect(zoomIn, &QToolButton::clicked, this, [this] { m_timeline->zoomBy(1 / 1.5); });
    connect(zoomOut, &QToolButton::clicked, this, [this] { m_timeline->zoomBy(1.5); });
    connect(fit, &QToolButton::clicked, m_timeline, &ReceiptTimeline::fitAll);
    connect(m_follow, &QToolButton::clicked, m_timeline, &ReceiptTimeline::setFollowing);
    connect(m_timeline, &ReceiptTimeline::followingChanged, m_follow, &QToolButton::setChecked);
    // Percentiles sort every latency: once a second at most, and only when something changed.
    m_latencyTimer.setInterval(1000);
    connect(&m_latencyTimer, &QTimer::timeout, this, [this] {
        if (m_dirty)
            updateLatencies();
    });
    m_latencyTimer.start();
    updateLatencies();
}

void TimelinePage::setLedger(const MessageLedger *ledger)
{
    if (m_ledger)
        disconnect(m_ledger, nullptr, this, nullptr);
    m_ledger = ledger;
    m_timeline->setLedger(ledger);
    if (ledger) {
        connect(ledger, &MessageLedger::entryChanged, this, [this] { m_dirty = true; });
        connect(ledger, &MessageLedger::cleared, this, [this] { m_dirty = true; });
    }
    updateLatencies();
}

QString TimelinePage::latencyText() const
{
    return m_latency->text();
}

void TimelinePage::updateLatencies()
{
    m_dirty = false;
    std::vector<qint64> ack, delivery;
    if (m_ledger) {
        ack.reserve(size_t(m_ledger->size()));
        for (int i = 0; i < m_ledger->size(); ++i) {
            const LedgerEntry &e = m_ledger->at(i);
            if (const auto a = e.ackLatencyMs())
                ack.push_back(*a);
            if (const auto d = e.deliveryLatencyMs())
                delivery.push_back(*d);
        }
    }
    auto line = [](const QString &what, std::vector<qint64> &values) {
        const LatencyPercentiles p = percentiles(values);
        if (p.samples == 0)
            return QStringLiteral("<b>%1</b> –").arg(what);
        return QStringLiteral("<b>%1</b> p50 %2 · p90 %3 · p99 %4 <span style='opacity:0.6'>(%5)</span>")
            .arg(what, formatLatency(p.p50), formatLatency(p.p90), formatLatency(p.p99),
                formatCount(p.samples));
    };
    m_latency->setText(line(tr("ACK latency"), ack) + QStringLiteral("&nbsp;&nbsp;&nbsp; ")
        + line(tr("Delivery latency"), delivery));
}

} // namespace ccs::ui
