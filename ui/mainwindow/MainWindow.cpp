#include "MainWindow.h"

#include "WindowPlacement.h"
#include "ccscore/Version.h"
#include "common/Format.h"
#include "common/MessageBanner.h"
#include "common/UiLog.h"
#include "common/UiSettings.h"
#include "composer/ComposerPanel.h"
#include "console/EmulatorConsole.h"
#include "connection/ConnectionBar.h"
#include "connection/ProfileDialog.h"
#include "emulator/EmulatorPanel.h"
#include "emulator/LocalEmulator.h"
#include "gauge/PendingWindowGauge.h"
#include "history/HistoryPage.h"
#include "inbox/InboxModel.h"
#include "inbox/InboxPage.h"
#include "outbox/OutboxPage.h"
#include "timeline/TimelinePage.h"
#include "traffic/TrafficLogModel.h"
#include "traffic/TrafficPage.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QShowEvent>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>
#include <QWindow>

namespace ccs::ui {

using storage::SecretResult;

MainWindow::MainWindow(QWidget *parent)
    : MainWindow(Options {}, parent)
{ }

MainWindow::MainWindow(Options options, QWidget *parent)
    : QMainWindow(parent)
    , m_secrets(options.secrets ? std::move(options.secrets) : storage::SecretStore::createDefault())
    , m_profiles(options.profilesIni.isEmpty() ? new storage::ProfileStore(this)
                                               : new storage::ProfileStore(options.profilesIni, this))
    , m_resolver(m_profiles, m_secrets.get())
    , m_session(new CcsSession(this))
    , m_emulator(new LocalEmulator(this))
    , m_restoreLayout(options.restoreLayout)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("CCS Admin"));
    if (QFile::exists(QStringLiteral(":/ccs/icons/ccs-admin.svg")))
        setWindowIcon(QIcon(QStringLiteral(":/ccs/icons/ccs-admin.svg")));
    buildUi();
    buildMenus();
    wireSession();
    if (m_restoreLayout)
        restoreLayout();
    else
        placeOnScreen();

    m_profileName = m_profiles->lastProfile();
    m_connectionBar->setProfiles(m_profiles->names(), m_profileName);
    chooseProfile(m_profileName);
    connect(m_profiles, &storage::ProfileStore::profilesChanged, this,
        [this] { m_connectionBar->setProfiles(m_profiles->names(), m_profileName); });
    connect(m_secrets.get(), &storage::SecretStore::fellBackToMemory, this, [this](const QString &reason) {
        m_banner->showMessage(
            tr("%1 API keys are kept for this session only.").arg(reason), MessageBanner::Kind::Warning);
    });
    if (options.autoConnect)
        QMetaObject::invokeMethod(
            this, [this] { connectProfile(m_profileName); }, Qt::QueuedConnection);
}

MainWindow::~MainWindow()
{
    // The session goes first: it must not outlive the emulator it talks to mid-teardown.
    delete m_session;
    m_session = nullptr;
}

void MainWindow::buildUi()
{
    auto central = new QWidget(this);
    auto layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);

    m_connectionBar = new ConnectionBar(central);
    layout->addWidget(m_connectionBar);
    // The banner's line is kept whether a message shows or not: nothing below jumps.
    auto bannerSlot = new QWidget(central);
    bannerSlot->setObjectName(QStringLiteral("bannerSlot"));
    bannerSlot->setContentsMargins(8, 0, 8, 2);
    // While no message shows, the line holds a quiet reminder of the keys that matter first.
    auto slotLayout = new QHBoxLayout(bannerSlot);
    slotLayout->setContentsMargins(12, 0, 8, 2);
    auto keysHint = new QLabel(
        tr("Ctrl+Return sends · Ctrl+1…4 switch tabs · Ctrl+Shift+E exports the list · Help › Keyboard "
           "shortcuts for the rest"),
        bannerSlot);
    keysHint->setObjectName(QStringLiteral("keysHint"));
    keysHint->setForegroundRole(QPalette::PlaceholderText);
    keysHint->setMinimumWidth(0);
    keysHint->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    slotLayout->addWidget(keysHint);
    layout->addWidget(bannerSlot);
    m_banner = new MessageBanner(central);
    m_banner->reserveSpace(bannerSlot);

    m_mainSplitter = new QSplitter(Qt::Horizontal, central);
    m_mainSplitter->setObjectName(QStringLiteral("mainSplitter"));
    m_mainSplitter->setChildrenCollapsible(false);
    m_composer = new ComposerPanel(m_mainSplitter);
    m_composer->setSession(m_session);

    m_tabs = new QTabWidget(m_mainSplitter);
    m_tabs->setObjectName(QStringLiteral("mainTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->setAccessibleName(tr("Messages and traffic"));
    m_outbox = new OutboxPage(m_tabs);
    m_outbox->setLedger(m_session->ledger());
    m_inbox = new InboxPage(m_tabs);
    m_timeline = new TimelinePage(m_tabs);
    m_timeline->setLedger(m_session->ledger());
    m_traffic = new TrafficPage(m_tabs);
    m_tabs->addTab(m_outbox, tr("Outbox"));
    m_tabs->addTab(m_inbox, tr("Inbox"));
    m_tabs->addTab(m_timeline, tr("Timeline"));
    m_tabs->addTab(m_traffic, tr("Traffic"));
    m_tabs->setTabToolTip(OutboxTab, tr("Downstream messages and their fate (Ctrl+1)"));
    m_tabs->setTabToolTip(InboxTab, tr("Upstream messages from devices (Ctrl+2)"));
    m_tabs->setTabToolTip(TimelineTab, tr("Delivery receipt timeline (Ctrl+3)"));
    m_tabs->setTabToolTip(TrafficTab, tr("Every stanza in and out (Ctrl+4)"));
    // Every session of the profile, kept on disk (ccscore/history).
    m_history = new HistoryPage(m_tabs);
    m_tabs->addTab(m_history, tr("History"));
    m_tabs->setTabToolTip(HistoryTab, tr("Everything this profile sent and received, across sessions"));
    m_history->attachSession(m_session);
    connect(m_history, &HistoryPage::problem, this,
        [this](const QString &text) { m_banner->showMessage(text, MessageBanner::Kind::Warning); });

    m_emulatorPanel = new EmulatorPanel(m_mainSplitter);
    m_emulatorPanel->setMinimumWidth(280);
    m_mainSplitter->addWidget(m_composer);
    m_mainSplitter->addWidget(m_tabs);
    m_mainSplitter->addWidget(m_emulatorPanel);
    m_mainSplitter->setStretchFactor(0, 0);
    m_mainSplitter->setStretchFactor(1, 1);
    m_mainSplitter->setStretchFactor(2, 0);
    m_mainSplitter->setSizes({390, 800, 310});
    layout->addWidget(m_mainSplitter, 1);
    setCentralWidget(central);

    m_gauge = new PendingWindowGauge(this);
    m_gauge->setSession(m_session);
    statusBar()->addPermanentWidget(m_gauge, 1);
    statusBar()->setSizeGripEnabled(true);

    connect(m_connectionBar, &ConnectionBar::profileChosen, this, &MainWindow::chooseProfile);
    connect(
        m_connectionBar, &ConnectionBar::connectRequested, this, [this] { connectProfile(m_profileName); });
    connect(m_connectionBar, &ConnectionBar::disconnectRequested, this, &MainWindow::disconnectSession);
    connect(m_connectionBar, &ConnectionBar::editProfilesRequested, this, &MainWindow::editProfiles);
    connect(m_composer, &ComposerPanel::messageSent, this, [this] {
        if (m_tabs->currentIndex() != OutboxTab && m_tabs->currentIndex() != TimelineTab)
            showTab(OutboxTab);
    });
    connect(m_inbox->model(), &InboxModel::rowsAppended, this, [this](int count) {
        if (m_tabs->currentIndex() != InboxTab) {
            m_inboxUnseen += count;
            updateInboxTabTitle();
        }
    });
    connect(m_inbox->model(), &InboxModel::devicesChanged, this, &MainWindow::updateKnownDevices);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int index) {
        if (index == InboxTab) {
            m_inboxUnseen = 0;
            updateInboxTabTitle();
        }
    });
    connect(m_emulatorPanel, &EmulatorPanel::notice, this,
        [this](const QString &text) { m_banner->showMessage(text, MessageBanner::Kind::Information); });
    auto exported = [this](const QString &path, int rows) {
        m_banner->showMessage(
            tr("Exported %1 to %2.").arg(rows == 1 ? tr("1 row") : tr("%1 rows").arg(rows), path),
            MessageBanner::Kind::Positive);
    };
    auto failed = [this](const QString &error) { m_banner->showMessage(error, MessageBanner::Kind::Error); };
    connect(m_outbox, &OutboxPage::exported, this, exported);
    connect(m_inbox, &InboxPage::exported, this, exported);
    connect(m_traffic, &TrafficPage::exported, this, exported);
    connect(m_outbox, &OutboxPage::exportFailed, this, failed);
    connect(m_inbox, &InboxPage::exportFailed, this, failed);
    connect(m_traffic, &TrafficPage::exportFailed, this, failed);
}

void MainWindow::buildMenus()
{
    auto file = menuBar()->addMenu(tr("&File"));
    auto exportShown = file->addAction(tr("&Export this list…"), this, [this] {
        const int tab = m_tabs->currentIndex();
        exportFrom(tab == InboxTab || tab == TrafficTab ? Tab(tab) : OutboxTab);
    });
    exportShown->setObjectName(QStringLiteral("exportShownAction"));
    // Ctrl+E alone is "end of line" in text fields.
    exportShown->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    exportShown->setToolTip(tr("Export the outbox, inbox or traffic log, whichever is shown"));
    file->addSeparator();
    file->addAction(tr("Export &outbox…"), this, [this] { exportFrom(OutboxTab); });
    file->addAction(tr("Export &inbox…"), this, [this] { exportFrom(InboxTab); });
    file->addAction(tr("Export &traffic log…"), this, [this] { exportFrom(TrafficTab); });
    file->addSeparator();
    auto quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    auto connection = menuBar()->addMenu(tr("&Connection"));
    auto connectAction
        = connection->addAction(tr("&Connect"), this, [this] { connectProfile(m_profileName); });
    connectAction->setToolTip(tr("Connect with the selected profile"));
    connection->addAction(tr("&Disconnect"), this, &MainWindow::disconnectSession);
    connection->addSeparator();
    connection->addAction(tr("&Profiles…"), this, &MainWindow::editProfiles);

    auto message = menuBar()->addMenu(tr("&Message"));
    auto send = message->addAction(tr("&Send"), m_composer, &ComposerPanel::send);
    send->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    send->setShortcutContext(Qt::WidgetShortcut); // the composer's own shortcut does the work
    message->addAction(tr("New message &id"), m_composer, &ComposerPanel::regenerateId);

    auto view = menuBar()->addMenu(tr("&View"));
    const QStringList names {tr("&Outbox"), tr("&Inbox"), tr("&Timeline"), tr("T&raffic")};
    for (int i = 0; i < names.size(); ++i) {
        auto action = view->addAction(names.at(i), this, [this, i] { showTab(Tab(i)); });
        action->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }
    view->addSeparator();
    auto composerToggle = view->addAction(tr("&Composer"));
    composerToggle->setCheckable(true);
    composerToggle->setChecked(true);
    composerToggle->setShortcut(QKeySequence(Qt::Key_F8));
    connect(composerToggle, &QAction::toggled, m_composer, &QWidget::setVisible);
    auto emulatorToggle = view->addAction(tr("&Emulator panel"));
    emulatorToggle->setCheckable(true);
    emulatorToggle->setChecked(true);
    emulatorToggle->setShortcut(QKeySequence(Qt::Key_F9));
    connect(emulatorToggle, &QAction::toggled, this,
        [this](bool on) { m_emulatorPanel->setVisible(on && m_emulator->isRunning()); });
    auto console = view->addAction(tr("Emulator c&onsole"), this, [this] {
        EmulatorConsole *c = emulatorConsole();
        c->show();
        c->raise();
        c->activateWindow();
    });
    console->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M));
    auto focusFilter = view->addAction(tr("&Find in list"));
    focusFilter->setShortcut(QKeySequence::Find);
    connect(focusFilter, &QAction::triggered, this, [this] {
        if (auto edit = m_tabs->currentWidget()->findChild<QLineEdit *>())
            edit->setFocus(Qt::ShortcutFocusReason);
    });

    auto help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Keyboard shortcuts"), this, [this] {
        m_banner->showMessage(
            tr("Ctrl+Return send · Ctrl+Shift+Return send copies · Ctrl+R new id · Ctrl+K connect · "
               "Ctrl+1…4 tabs · Ctrl+Shift+E export the list · Ctrl+F filter · End follow newest · F8 "
               "composer · F9 emulator · "
               "Ctrl+U upstream from the selected device · timeline: wheel/+/− zoom, drag/arrows "
               "pan, Home live, 0 fit"),
            MessageBanner::Kind::Information);
    });
    help->addAction(tr("&About CCS Admin"), this, [this] {
        m_banner->showMessage(
            tr("CCS Admin %1: a desktop tool for the GCM Cloud Connection Server, with a built-in "
               "emulator.")
                .arg(QStringLiteral(CCS_VERSION_STRING)),
            MessageBanner::Kind::Information);
    });
}

void MainWindow::wireSession()
{
    connect(m_session, &CcsSession::stateChanged, this, &MainWindow::updateConnectionState);
    connect(m_session, &CcsSession::connectionsChanged, this, &MainWindow::updateConnectionState);
    connect(m_session, &CcsSession::errorOccurred, this, [this](SessionError, const QString &message) {
        m_banner->showMessage(message,
            m_session->state() == SessionState::Error ? MessageBanner::Kind::Error
                                                      : MessageBanner::Kind::Warning);
    });
    connect(m_session, &CcsSession::upstreamReceived, this,
        [this](const UpstreamMessage &message, int connectionId, qint64 ackedAtMs) {
            const qint64 now = QDateTime::currentMSecsSinceEpoch();
            // The session ACKs before it tells us: the ACK time is the closest to arrival we have.
            const qint64 received = ackedAtMs > 0 ? std::min(now, ackedAtMs) : now;
            m_inbox->model()->append(message, connectionId, received, ackedAtMs);
        });
    connect(m_session, &CcsSession::duplicateReceived, this,
        [this](const QString &from, const QString &messageId, int timesSeen) {
            m_inbox->model()->markDuplicate(from, messageId, timesSeen);
        });
    connect(m_session, &CcsSession::trafficLogged, this,
        [this](TrafficDirection direction, int connectionId, const QString &xml) {
            m_traffic->model()->append(direction, connectionId, xml);
        });
}

void MainWindow::updateConnectionState()
{
    const auto connections = m_session->connections();
    int open = 0, draining = 0;
    for (const ConnectionStatus &c : connections) {
        if (c.authenticated)
            ++open;
        if (c.draining)
            ++draining;
    }
    const SessionState state = m_session->state();
    QString detail;
    if (state == SessionState::Error)
        detail = m_session->lastErrorString();
    else if (state != SessionState::Disconnected)
        detail = m_profileName;
    m_connectionBar->setSessionState(state, open, draining, detail);
    if (state == SessionState::Connected && m_banner->kind() == MessageBanner::Kind::Error)
        m_banner->clear(); // the problem is over
}

void MainWindow::updateInboxTabTitle()
{
    m_tabs->setTabText(
        InboxTab, m_inboxUnseen > 0 ? tr("Inbox (%1 new)").arg(formatCount(m_inboxUnseen)) : tr("Inbox"));
}

void MainWindow::updateKnownDevices()
{
    QList<QPair<QString, QString>> devices;
    QHash<QString, QString> names;
    QString firstOnline;
    if (m_emulator->isRunning()) {
        for (const auto &d : m_emulator->server()->devices()) {
            devices.append({d.spec.token, d.spec.name});
            names.insert(d.spec.token, d.spec.name);
            if (firstOnline.isEmpty() && d.online && d.spec.kind == emulator::DeviceKind::Registered)
                firstOnline = d.spec.token;
        }
    }
    // A first Send that works: the recipient is a device that answers at once.
    m_composer->suggestRecipient(firstOnline);
    for (const QString &token : m_inbox->model()->devices()) {
        if (!names.contains(token))
            devices.append({token, QString()});
    }
    m_composer->setKnownDevices(devices);
    m_inbox->model()->setDeviceNames(names);
}

EmulatorConsole *MainWindow::emulatorConsole()
{
    if (!m_console)
        m_console = new EmulatorConsole(m_secrets.get(), this);
    if (!m_console->client()->isAttached())
        m_console->setLocalAdmin(m_emulator->isRunning() ? m_emulator->adminApi() : nullptr);
    return m_console;
}

void MainWindow::showTab(Tab tab)
{
    m_tabs->setCurrentIndex(tab);
}

void MainWindow::chooseProfile(const QString &name)
{
    const auto profile = m_profiles->profile(name);
    if (!profile)
        return;
    m_profileName = name;
    m_profiles->setLastProfile(name);
    m_history->openProfile(name);
    m_emulatorPanel->setVisible(profile->localEmulator);
    setWindowTitle(tr("%1 — CCS Admin").arg(name));
}

void MainWindow::connectProfile(const QString &name)
{
    chooseProfile(name);
    // Profile, trust and API key: resolved by the same policy as ccsctl (app::ConnectionResolver).
    app::ResolvedConnection resolved = m_resolver.settingsFor(name);
    using Status = app::ResolvedConnection::Status;
    if (resolved.status == Status::NoSuchProfile) {
        m_banner->showMessage(tr("There is no profile named \"%1\".").arg(name), MessageBanner::Kind::Error);
        return;
    }
    if (m_session->state() != SessionState::Disconnected && m_session->state() != SessionState::Error)
        m_session->close();
    m_banner->clear();
    if (resolved.status == Status::LocalEmulator) {
        QString error;
        if (!m_emulator->start(&error)) {
            m_banner->showMessage(error, MessageBanner::Kind::Error);
            return;
        }
        m_emulatorPanel->setServer(m_emulator->server());
        m_emulatorPanel->show();
        connect(m_emulator->server(), &emulator::EmulatorServer::devicesChanged, this,
            &MainWindow::updateKnownDevices, Qt::UniqueConnection);
        updateKnownDevices();
        startSession(m_emulator->connectionSettings());
        return;
    }
    if (resolved.status == Status::NoSenderId) {
        m_banner->showMessage(tr("\"%1\" has no sender ID. Add it under Profiles… (Ctrl+,).").arg(name),
            MessageBanner::Kind::Error);
        return;
    }
    if (!resolved.ok()) {
        m_banner->showMessage(resolved.error, MessageBanner::Kind::Error);
        return;
    }
    m_connectionBar->setSessionState(SessionState::Connecting, 0, 0, tr("reading the API key…"));
    m_resolver.addApiKey(std::move(resolved), {}, this, [this, name](const app::ResolvedConnection &withKey) {
        if (m_profileName != name)
            return;
        if (!withKey.ok()) {
            updateConnectionState();
            const bool notFound = withKey.keyStatus == SecretResult::Status::NotFound;
            const QString why = notFound
                ? tr("No API key is stored for \"%1\". Enter it under Profiles… (Ctrl+,).").arg(name)
                : tr("%1 Enter the API key under Profiles… (Ctrl+,); it will be kept for this session only.")
                      .arg(withKey.error);
            m_banner->showMessage(why, notFound ? MessageBanner::Kind::Error : MessageBanner::Kind::Warning);
            return;
        }
        startSession(withKey.settings);
    });
}

void MainWindow::startSession(const ConnectionSettings &settings)
{
    m_traffic->model()->setSecrets({settings.apiKey, settings.senderId, settings.domain});
    m_session->setSettings(settings);
    m_session->open();
    updateConnectionState();
}

void MainWindow::disconnectSession()
{
    m_session->close();
    updateConnectionState();
}

void MainWindow::editProfiles()
{
    ProfileDialog dialog(m_profiles, m_secrets.get(), this);
    dialog.selectProfile(m_profileName);
    dialog.exec();
    m_connectionBar->setProfiles(m_profiles->names(), m_profileName);
}

void MainWindow::exportFrom(Tab tab)
{
    showTab(tab);
    const QString suggested = tab == OutboxTab ? QStringLiteral("outbox.jsonl")
        : tab == InboxTab                      ? QStringLiteral("inbox.jsonl")
                                               : QStringLiteral("traffic.log");
    const QString filter
        = tab == TrafficTab ? tr("Text (*.log *.txt)") : tr("JSON Lines (*.jsonl);;CSV (*.csv)");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export"), suggested, filter);
    if (path.isEmpty())
        return;
    QString error;
    bool ok = false;
    if (tab == OutboxTab)
        ok = m_outbox->exportTo(path, &error);
    else if (tab == InboxTab)
        ok = m_inbox->exportTo(path, &error);
    else
        ok = m_traffic->exportTo(path, &error);
    if (!ok)
        m_banner->showMessage(error, MessageBanner::Kind::Error);
}

void MainWindow::restoreLayout()
{
    auto settings = openUiSettings();
    if (restoreGeometry(settings->value(QStringLiteral("window/geometry")).toByteArray()))
        bringOnScreen();
    else
        placeOnScreen();
    restoreState(settings->value(QStringLiteral("window/state")).toByteArray());
    m_tabs->setCurrentIndex(settings->value(QStringLiteral("window/tab"), 0).toInt());
}

void MainWindow::placeOnScreen()
{
    QScreen *screen = QGuiApplication::primaryScreen();
    if (!screen) {
        resize(initialWindowSize(QRect()));
        return;
    }
    const QRect available = screen->availableGeometry();
    const QSize size = initialWindowSize(available, QSize(1440, 900), QSize(0, kTitleBarAllowance));
    resize(size);
    // Centred; the window manager adds its frame above and around.
    move(available.x() + (available.width() - size.width()) / 2,
        available.y() + std::max(0, (available.height() - size.height() - kTitleBarAllowance) / 2));
}

void MainWindow::bringOnScreen()
{
    if (isMaximized() || isFullScreen())
        return;
    QList<QRect> screens;
    for (const QScreen *screen : QGuiApplication::screens())
        screens.append(screen->availableGeometry());
    // The frame is around geometry(): it must be on screen too. Before the
    // window manager has told its size, allow for a title bar.
    QMargins frame = windowHandle() ? windowHandle()->frameMargins() : QMargins();
    frame.setTop(std::max(frame.top(), kTitleBarAllowance));
    const QRect withFrame = geometry().marginsAdded(frame);
    const QRect fitted = fitOnScreens(withFrame, screens);
    if (fitted != withFrame)
        setGeometry(fitted.marginsRemoved(frame));
}

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    // Splitter sizes only stick once the window has its real size.
    if (m_restoreLayout && !m_splittersRestored) {
        m_splittersRestored = true;
        bringOnScreen(); // again, now that the frame is known
        restoreSplitters();
    }
}

void MainWindow::restoreSplitters()
{
    auto settings = openUiSettings();
    m_mainSplitter->restoreState(settings->value(QStringLiteral("window/mainSplitter")).toByteArray());
    m_outbox->splitter()->restoreState(
        settings->value(QStringLiteral("window/outboxSplitter")).toByteArray());
    m_inbox->splitter()->restoreState(settings->value(QStringLiteral("window/inboxSplitter")).toByteArray());
    m_traffic->splitter()->restoreState(
        settings->value(QStringLiteral("window/trafficSplitter")).toByteArray());
}

void MainWindow::saveLayout()
{
    auto settings = openUiSettings();
    settings->setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings->setValue(QStringLiteral("window/state"), saveState());
    settings->setValue(QStringLiteral("window/mainSplitter"), m_mainSplitter->saveState());
    settings->setValue(QStringLiteral("window/outboxSplitter"), m_outbox->splitter()->saveState());
    settings->setValue(QStringLiteral("window/inboxSplitter"), m_inbox->splitter()->saveState());
    settings->setValue(QStringLiteral("window/trafficSplitter"), m_traffic->splitter()->saveState());
    settings->setValue(QStringLiteral("window/tab"), m_tabs->currentIndex());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_restoreLayout)
        saveLayout();
    m_session->close();
    QMainWindow::closeEvent(event);
}

} // namespace ccs::ui
