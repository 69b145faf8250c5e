#pragma once

#include "history/HistoryStore.h"

#include <QVector>
#include <QWidget>

namespace ccs::ui {

// The per-device view's timeline: one lane per downstream message sent to the
// device (its states over time, one coloured stretch per state, from its stored
// state history), and one lane above them with what the device sent (upstream
// messages) and its receipts as marks, on one time axis. Newest lanes at the top.
class DeviceTimeline : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kMaxLanes = 12;

    struct Stretch {
        QString state;
        qint64 startMs = 0;
        qint64 endMs = 0; // the next state's time; the last stretch ends at its own time
    };
    struct Lane {
        QString messageId;
        QVector<Stretch> stretches;
    };
    struct Mark {
        history::RowKind kind = history::RowKind::Upstream;
        QString messageId;
        qint64 atMs = 0;
    };

    explicit DeviceTimeline(QWidget *parent = nullptr);

    // The rows of one device, newest first (a HistoryStore search with its token).
    void setRows(const QString &token, const QVector<history::HistoryRow> &rows);
    void clear();

    QString token() const { return m_token; }
    const QVector<Lane> &lanes() const { return m_lanes; }
    const QVector<Mark> &marks() const { return m_marks; }
    qint64 startMs() const { return m_startMs; }
    qint64 endMs() const { return m_endMs; }
    // The lane (message id) or mark under a point, for the tooltip; empty when none.
    QString describeAt(const QPoint &point) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
    bool event(QEvent *event) override;

private:
    QRect plotRect() const;
    int laneHeight() const;
    int xFor(qint64 ms, const QRect &plot) const;

    QString m_token;
    QVector<Lane> m_lanes;
    QVector<Mark> m_marks;
    qint64 m_startMs = 0;
    qint64 m_endMs = 0;
};

} // namespace ccs::ui
