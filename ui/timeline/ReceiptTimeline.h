#pragma once

#include "client/MessageLedger.h"

#include <QHash>
#include <QPointer>
#include <QTimer>
#include <QWidget>

#include <functional>
#include <optional>

class QLabel;
class QPushButton;

namespace ccs::ui {

struct LatencyPercentiles {
    int samples = 0;
    qint64 p50 = 0, p90 = 0, p99 = 0;
};
// Nearest-rank percentiles of the values (sorted in place).
LatencyPercentiles percentiles(std::vector<qint64> &values);

// A horizontal time axis and one lane per message (or per device), with a mark
// for each step of a message's life (queued, sent, ACK, NACK, retry, receipt)
// joined by a line, so a slow delivery is a long line. Wheel zooms, drag pans,
// hover shows exact times. Follows the present until the user pans.
class ReceiptTimeline : public QWidget
{
    Q_OBJECT
public:
    enum class Lanes { PerMessage, PerDevice };
    struct Mark {
        MessageState state;
        qint64 atMs;
        int connectionId;
        QString detail;
    };

    explicit ReceiptTimeline(QWidget *parent = nullptr);

    void setLedger(const MessageLedger *ledger);
    void setLanes(Lanes lanes);
    Lanes lanes() const { return m_lanes; }
    // The marks drawn for a message: one per transition of its history.
    QList<Mark> marksForMessage(const QString &messageId) const;
    int laneCount() const;

    double msPerPixel() const { return m_msPerPx; }
    bool isFollowing() const { return m_follow; }
    void setFollowing(bool follow);
    void zoomBy(double factor, int anchorX = -1);
    void panByPixels(double dx);
    void fitAll();

    // The right edge of the view: while following, the present, or the last
    // event when nothing happened for most of the span shown (so it stays in view).
    qint64 rightEdgeMs() const;
    qint64 leftEdgeMs() const;
    qint64 lastEventMs() const { return m_lastEventMs; }
    // Whether any mark of the lanes shown falls in the time shown.
    bool showsAnyMark() const;
    // The clock the view follows (tests set their own).
    void setClock(std::function<qint64()> clock);

    QSize sizeHint() const override { return {600, 300}; }
    QSize minimumSizeHint() const override { return {200, 120}; }

Q_SIGNALS:
    void followingChanged(bool following);

protected:
    void paintEvent(QPaintEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool event(QEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    int laneHeight() const;
    int axisHeight() const;
    int gutterWidth() const;
    int visibleLanes() const;
    double xFor(qint64 ms) const;
    qint64 msAt(double x) const;
    qint64 now() const;
    void clampFirstLane();
    void noteEvents(int index);
    void updateEmptyNotice();
    QList<int> entriesInLane(int lane) const;
    void rebuildDevices();
    void drawMark(QPainter &p, const Mark &mark, QPointF at) const;
    QString laneLabel(int lane) const;

    QPointer<const MessageLedger> m_ledger;
    Lanes m_lanes = Lanes::PerMessage;
    QStringList m_devices;
    QHash<QString, QVector<int>> m_byDevice;
    double m_msPerPx = 4.0; // a few seconds across: ACK and receipt latencies are visible lines
    qint64 m_endMs = 0; // right edge when not following
    int m_firstLane = 0;
    bool m_follow = true;
    bool m_stickToLastLane = true;
    QPoint m_dragStart;
    qint64 m_dragEndMs = 0;
    int m_dragFirstLane = 0;
    bool m_dragging = false;
    QTimer m_tick;
    qint64 m_lastEventMs = 0; // the newest mark of any message
    std::function<qint64()> m_clock;
    QWidget *m_empty = nullptr; // says why nothing shows, and offers Fit
    QLabel *m_emptyText = nullptr;
    QPushButton *m_emptyFit = nullptr;
};

} // namespace ccs::ui
