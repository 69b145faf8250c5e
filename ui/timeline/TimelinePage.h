#pragma once

#include "client/MessageLedger.h"

#include <QPointer>
#include <QTimer>
#include <QWidget>

class QComboBox;
class QLabel;
class QToolButton;

namespace ccs::ui {

class ReceiptTimeline;

// The timeline with its controls, a legend, and ACK/delivery latency percentiles.
class TimelinePage : public QWidget
{
    Q_OBJECT
public:
    explicit TimelinePage(QWidget *parent = nullptr);
    void setLedger(const MessageLedger *ledger);
    ReceiptTimeline *timeline() const { return m_timeline; }
    QString latencyText() const;
    void updateLatencies();

private:
    QPointer<const MessageLedger> m_ledger;
    ReceiptTimeline *m_timeline;
    QComboBox *m_lanes;
    QToolButton *m_follow;
    QLabel *m_legend;
    QLabel *m_latency;
    QTimer m_latencyTimer;
    bool m_dirty = true;
};

} // namespace ccs::ui
