#pragma once

#include "AdminClient.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QSpinBox;
class QTabWidget;
class QTableView;

namespace ccs::emulator {
class EmulatorAdminApi;
}
namespace ccs::storage {
class SecretStore;
}

namespace ccs::ui {

class ConsoleConnectionModel;
class ConsoleRuleModel;
class ConsoleTrafficModel;
class DeviceModel;
class FollowingTableView;

// The emulator's console: attached to the window's own emulator or to a
// running ccs-emulator (admin URL and token; the token kept in the keychain,
// never in a settings file), it follows the admin event stream and shows each
// app-server connection and its traffic live in both directions, drives the
// devices and the faults through the admin API, and fills in the conformance
// scorecard as rules settle. Events reach the models in batches (a 20 ms
// timer); the traffic list keeps the newest ConsoleTrafficModel::kMaxRows.
class EmulatorConsole : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kBatchIntervalMs = 20;

    explicit EmulatorConsole(storage::SecretStore *secrets, QWidget *parent = nullptr);
    ~EmulatorConsole() override;

    // The window's own emulator (its admin API on loopback), offered as the first source.
    void setLocalAdmin(emulator::EmulatorAdminApi *admin);

    void attachLocal();
    // remember: keep the token in the keychain for this URL.
    void attachRemote(const QUrl &url, const QString &token, bool remember = true);
    void detach();

    AdminClient *client() const { return m_client; }
    ConsoleTrafficModel *trafficModel() const { return m_traffic; }
    ConsoleConnectionModel *connectionModel() const { return m_connections; }
    ConsoleRuleModel *ruleModel() const { return m_rules; }
    DeviceModel *deviceModel() const { return m_devices; }
    QString statusText() const;
    QString noticeText() const;
    // The device selected in the devices tab, or empty.
    QString selectedToken() const;
    void selectToken(const QString &token);
    // Shows only this connection's traffic (0: all).
    void filterConnection(int connection);

public Q_SLOTS:
    void composeUpstreamFromSelected();
    void toggleSelectedOnline();
    void unregisterSelected();
    void applyTopics();
    void applyFaults();
    void refreshDevices();

Q_SIGNALS:
    void attachedChanged(bool attached);

private:
    void buildUi();
    void onAttachClicked();
    void onEvents(const QList<QJsonObject> &events);
    void flushEvents();
    void showNotice(const QString &text);
    void updateStatus();
    void updateDeviceButtons();
    void loadFaults(const QJsonObject &faults);
    void readSavedToken();
    QString keychainName() const;

    QPointer<storage::SecretStore> m_secrets;
    QPointer<emulator::EmulatorAdminApi> m_localAdmin;
    AdminClient *m_client;
    ConsoleTrafficModel *m_traffic;
    ConsoleConnectionModel *m_connections;
    ConsoleRuleModel *m_rules;
    DeviceModel *m_devices;
    QSortFilterProxyModel *m_trafficFilter;

    QComboBox *m_source;
    QLineEdit *m_url;
    QLineEdit *m_token;
    QPushButton *m_attach;
    QLabel *m_status;
    QLabel *m_notice;
    QTableView *m_connectionView;
    FollowingTableView *m_trafficView;
    QTabWidget *m_tabs;
    QTableView *m_deviceView;
    QPushButton *m_upstream;
    QPushButton *m_wake;
    QPushButton *m_unregister;
    QLineEdit *m_topics;
    QDoubleSpinBox *m_nackShare;
    QComboBox *m_nackCode;
    QSpinBox *m_ackDelay;
    QSpinBox *m_dropEvery;
    QSpinBox *m_drainEvery;
    QPushButton *m_applyFaults;
    QLabel *m_conformanceNote;
    QTableView *m_ruleView;

    QString m_savedToken; // read from the keychain for the URL shown; never displayed
    QList<QJsonObject> m_pending;
    QTimer m_batch;
    QTimer m_deviceRefresh;
    QTimer m_statusTimer;
    qint64 m_eventsAtLastStatus = 0;
    QElapsedTimer m_statusClock;
    double m_eventsPerSecond = 0;
};

} // namespace ccs::ui
