#pragma once

#include "app/ConnectionResolver.h"
#include "client/CcsSession.h"
#include "storage/ProfileStore.h"
#include "storage/SecretStore.h"

#include <QMainWindow>
#include <QPointer>

#include <memory>

class QSplitter;
class QTabWidget;

namespace ccs::ui {

class ComposerPanel;
class ConnectionBar;
class EmulatorConsole;
class EmulatorPanel;
class HistoryPage;
class InboxPage;
class LocalEmulator;
class MessageBanner;
class OutboxPage;
class PendingWindowGauge;
class TimelinePage;
class TrafficPage;

// The window: connection bar and banner on top, the composer on the left,
// outbox / inbox / timeline / traffic in tabs, the local emulator's devices
// on the right, the pending-window gauge at the bottom.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    // Room for the window manager's title bar when the frame is not known yet.
    static constexpr int kTitleBarAllowance = 32;

    struct Options {
        std::unique_ptr<storage::SecretStore> secrets; // default: SecretStore::createDefault()
        QString profilesIni; // default: the user's settings
        bool autoConnect = true; // connect the last profile on start
        bool restoreLayout = true;
    };
    enum Tab { OutboxTab, InboxTab, TimelineTab, TrafficTab, HistoryTab };

    explicit MainWindow(QWidget *parent = nullptr);
    explicit MainWindow(Options options, QWidget *parent = nullptr);
    ~MainWindow() override;

    CcsSession *session() const { return m_session; }
    LocalEmulator *localEmulator() const { return m_emulator; }
    storage::ProfileStore *profiles() const { return m_profiles; }
    storage::SecretStore *secrets() const { return m_secrets.get(); }
    ComposerPanel *composer() const { return m_composer; }
    OutboxPage *outbox() const { return m_outbox; }
    InboxPage *inbox() const { return m_inbox; }
    TimelinePage *timeline() const { return m_timeline; }
    TrafficPage *traffic() const { return m_traffic; }
    HistoryPage *history() const { return m_history; }
    EmulatorPanel *emulatorPanel() const { return m_emulatorPanel; }
    ConnectionBar *connectionBar() const { return m_connectionBar; }
    MessageBanner *banner() const { return m_banner; }
    PendingWindowGauge *gauge() const { return m_gauge; }
    QString currentProfile() const { return m_profileName; }
    void showTab(Tab tab);
    // The emulator console (a window of its own), created on first use.
    EmulatorConsole *emulatorConsole();

public Q_SLOTS:
    void connectProfile(const QString &name);
    void disconnectSession();
    void editProfiles();

protected:
    void closeEvent(QCloseEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    void buildUi();
    void buildMenus();
    void wireSession();
    void startSession(const ConnectionSettings &settings);
    void updateConnectionState();
    void updateInboxTabTitle();
    void updateKnownDevices();
    void chooseProfile(const QString &name);
    void restoreLayout();
    void placeOnScreen(); // the first size and place: a share of the primary screen
    void bringOnScreen(); // a restored geometry that no longer fits the screens
    void restoreSplitters();
    void saveLayout();
    void exportFrom(Tab tab);

    std::unique_ptr<storage::SecretStore> m_secrets;
    storage::ProfileStore *m_profiles = nullptr;
    app::ConnectionResolver m_resolver; // over m_profiles and m_secrets
    CcsSession *m_session = nullptr;
    LocalEmulator *m_emulator = nullptr;
    ConnectionBar *m_connectionBar = nullptr;
    MessageBanner *m_banner = nullptr;
    ComposerPanel *m_composer = nullptr;
    QTabWidget *m_tabs = nullptr;
    OutboxPage *m_outbox = nullptr;
    InboxPage *m_inbox = nullptr;
    TimelinePage *m_timeline = nullptr;
    TrafficPage *m_traffic = nullptr;
    HistoryPage *m_history = nullptr;
    EmulatorPanel *m_emulatorPanel = nullptr;
    EmulatorConsole *m_console = nullptr;
    PendingWindowGauge *m_gauge = nullptr;
    QSplitter *m_mainSplitter = nullptr;
    QString m_profileName;
    int m_inboxUnseen = 0;
    bool m_restoreLayout = true;
    bool m_splittersRestored = false;
};

} // namespace ccs::ui
