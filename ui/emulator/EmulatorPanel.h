#pragma once

#include "server/EmulatorServer.h"

#include <QPointer>
#include <QWidget>

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace ccs::ui {

class DeviceModel;

// With the local emulator: its simulated devices and the faults a user can
// cause, so every feature can be seen without a real service.
class EmulatorPanel : public QWidget
{
    Q_OBJECT
public:
    explicit EmulatorPanel(QWidget *parent = nullptr);
    void setServer(emulator::EmulatorServer *server);
    DeviceModel *model() const { return m_model; }
    QString selectedToken() const;
    void selectToken(const QString &token);

public Q_SLOTS:
    QString sendUpstreamFromSelected();
    // Opens the upstream dialog for the selected device (explicit id, category, data, time_to_live).
    void composeUpstreamFromSelected();
    // The selected device sends this message; returns its id, or empty with a notice.
    QString sendUpstream(const emulator::UpstreamRequest &request);
    // Subscribes the selected device to exactly these topics (comma or space separated).
    bool setSelectedTopics(const QString &topics);
    void toggleSelectedOnline();
    void drain();
    void drop();
    void setNackFaults(bool on);

Q_SIGNALS:
    void notice(const QString &text);

private:
    void updateButtons();

    QPointer<emulator::EmulatorServer> m_server;
    DeviceModel *m_model;
    QLabel *m_status;
    QLabel *m_token;
    QTableView *m_view;
    QPushButton *m_upstream;
    QPushButton *m_wake;
    QPushButton *m_compose;
    QLineEdit *m_topics;
    QPushButton *m_drain;
    QPushButton *m_drop;
    QCheckBox *m_nack;
    QDoubleSpinBox *m_rate;
    int m_upstreamCounter = 0;
};

} // namespace ccs::ui
