#pragma once

#include "client/CcsSession.h"

#include <QPointer>
#include <QTimer>
#include <QWidget>

#include <array>

namespace ccs::ui {

// The flow-control strip: pending/window per connection (active and
// draining), the queue behind them, and the send and ACK rates over the last
// minute with a sparkline. Repaints at 4 Hz whatever the traffic.
class PendingWindowGauge : public QWidget
{
    Q_OBJECT
public:
    explicit PendingWindowGauge(QWidget *parent = nullptr);

    void setSession(CcsSession *session);
    // Averages per second over the last minute (or since the first event).
    double sendRate() const;
    double ackRate() const;
    QString summary() const; // the strip as text (accessibility, tests)

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    void onTransition(int index, MessageState from, MessageState to);
    void advance(qint64 nowSecond);
    double rate(const std::array<int, 60> &buckets) const;
    void refresh();

    QPointer<CcsSession> m_session;
    QList<ConnectionStatus> m_connections;
    int m_queue = 0;
    std::array<int, 60> m_sent {};
    std::array<int, 60> m_acked {};
    qint64 m_bucketSecond = 0;
    qint64 m_firstSecond = 0;
    QTimer m_timer;
};

} // namespace ccs::ui
