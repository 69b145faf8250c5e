#include "EmulatorConsole.h"

#include "ConsoleModels.h"
#include "common/ElideMiddleDelegate.h"
#include "common/FollowingTableView.h"
#include "common/Format.h"
#include "common/UiLog.h"
#include "emulator/DeviceModel.h"
#include "emulator/UpstreamDialog.h"
#include "server/EmulatorAdminApi.h"
#include "storage/SecretStore.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace ccs::ui {

namespace {
constexpr auto kUrlSetting = "console/adminUrl";

// Shows one connection's rows, or all of them.
class ConnectionFilter : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setConnection(int connection)
    {
        m_connection = connection;
        invalidateFilter();
    }
    int connection() const { return m_connection; }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        if (m_connection == 0)
            return true;
        return sourceModel()->index(row, 0, parent).data(ConsoleTrafficModel::ConnectionRole).toInt()
            == m_connection;
    }

private:
    int m_connection = 0;
};

void denseTable(QTableView *view, const QFontMetrics &fm)
{
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->verticalHeader()->hide();
    view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    view->verticalHeader()->setDefaultSectionSize(fm.height() + 6);
    view->setShowGrid(false);
    view->setAlternatingRowColors(true);
    view->horizontalHeader()->setHighlightSections(false);
    view->setWordWrap(false);
}

QLabel *heading(const QString &text, QWidget *parent)
{
    auto label = new QLabel(text, parent);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    return label;
}
} // namespace

EmulatorConsole::EmulatorConsole(storage::SecretStore *secrets, QWidget *parent)
    : QWidget(parent, Qt::Window)
    , m_secrets(secrets)
    , m_client(new AdminClient(this))
    , m_traffic(new ConsoleTrafficModel(this))
    , m_connections(new ConsoleConnectionModel(this))
    , m_rules(new ConsoleRuleModel(this))
    , m_devices(new DeviceModel(this))
    , m_trafficFilter(new ConnectionFilter(this))
{
    setObjectName(QStringLiteral("emulatorConsole"));
    setWindowTitle(tr("Emulator console — CCS Admin"));
    setAccessibleName(tr("Emulator console"));
    buildUi();

    m_batch.setSingleShot(true);
    m_batch.setInterval(kBatchIntervalMs);
    connect(&m_batch, &QTimer::timeout, this, &EmulatorConsole::flushEvents);
    m_deviceRefresh.setSingleShot(true);
    m_deviceRefresh.setInterval(250);
    connect(&m_deviceRefresh, &QTimer::timeout, this, &EmulatorConsole::refreshDevices);
    m_statusTimer.setInterval(1000);
    connect(&m_statusTimer, &QTimer::timeout, this, [this] {
        const qint64 n = m_client->eventsReceived();
        const qint64 ms = qMax<qint64>(1, m_statusClock.restart());
        m_eventsPerSecond = double(n - m_eventsAtLastStatus) * 1000.0 / double(ms);
        m_eventsAtLastStatus = n;
        updateStatus();
        // The devices' counters move with the traffic.
        if (m_client->isAttached() && !m_deviceRefresh.isActive())
            m_deviceRefresh.start();
    });

    connect(m_client, &AdminClient::events, this, &EmulatorConsole::onEvents);
    connect(m_client, &AdminClient::notice, this, &EmulatorConsole::showNotice);
    connect(m_client, &AdminClient::failed, this, [this](const QString &reason) {
        showNotice(reason);
        updateStatus();
        Q_EMIT attachedChanged(false);
    });
    connect(m_client, &AdminClient::streamStateChanged, this, [this] { updateStatus(); });
    connect(m_client, &AdminClient::attached, this, [this](const QJsonObject &status) {
        m_traffic->clear();
        m_connections->clear();
        m_rules->clear();
        m_pending.clear();
        showNotice({});
        loadFaults(status.value(QLatin1String("faults")).toObject());
        refreshDevices();
        m_client->get(QStringLiteral("conformance"), this, [this](const AdminClient::Reply &r) {
            if (r.ok()) {
                m_rules->setReport(r.body.toObject());
                m_conformanceNote->setText(tr("Rules settle as the app server's traffic exercises them."));
            } else {
                m_conformanceNote->setText(r.status == 404
                        ? tr("This emulator is not grading: start it with ccs-emulator --conformance to see "
                             "the scorecard fill in.")
                        : r.error);
            }
        });
        m_statusClock.start();
        m_eventsAtLastStatus = m_client->eventsReceived();
        m_statusTimer.start();
        m_attach->setText(tr("&Detach"));
        updateStatus();
        updateDeviceButtons();
        Q_EMIT attachedChanged(true);
    });
    connect(m_client, &AdminClient::detached, this, [this] {
        m_statusTimer.stop();
        m_attach->setText(tr("&Attach"));
        updateStatus();
        updateDeviceButtons();
        Q_EMIT attachedChanged(false);
    });

    QSettings settings;
    m_url->setText(settings.value(QLatin1String(kUrlSetting)).toString());
    readSavedToken();
    updateStatus();
    updateDeviceButtons();
    resize(1180, 760);
}

EmulatorConsole::~EmulatorConsole() = default;

void EmulatorConsole::buildUi()
{
    auto layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 10, 10, 10);
    layout->setSpacing(8);

    // The source: this window's emulator, or a ccs-emulator's admin API.
    auto bar = new QHBoxLayout;
    bar->setSpacing(6);
    m_source = new QComboBox(this);
    m_source->setObjectName(QStringLiteral("consoleSource"));
    m_source->setAccessibleName(tr("Which emulator"));
    m_source->addItem(tr("This window's emulator"));
    m_source->addItem(tr("ccs-emulator at…"));
    m_source->setCurrentIndex(1);
    auto sourceLabel = new QLabel(tr("&Emulator"), this);
    sourceLabel->setBuddy(m_source);
    m_url = new QLineEdit(this);
    m_url->setObjectName(QStringLiteral("consoleUrl"));
    m_url->setAccessibleName(tr("Admin API URL"));
    m_url->setPlaceholderText(tr("admin URL, e.g. http://127.0.0.1:5237"));
    m_url->setClearButtonEnabled(true);
    m_token = new QLineEdit(this);
    m_token->setObjectName(QStringLiteral("consoleToken"));
    m_token->setAccessibleName(tr("Admin token"));
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setToolTip(tr("The admin API's bearer token (ccs-emulator prints it, or reads it from "
                           "--admin-token-file). It is kept in the system keychain, never in a file."));
    m_attach = new QPushButton(tr("&Attach"), this);
    m_attach->setObjectName(QStringLiteral("consoleAttach"));
    m_attach->setDefault(true);
    bar->addWidget(sourceLabel);
    bar->addWidget(m_source);
    bar->addWidget(m_url, 3);
    bar->addWidget(m_token, 2);
    bar->addWidget(m_attach);
    layout->addLayout(bar);

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("consoleStatus"));
    m_status->setForegroundRole(QPalette::PlaceholderText);
    m_notice = new QLabel(this);
    m_notice->setObjectName(QStringLiteral("consoleNotice"));
    m_notice->setWordWrap(true);
    auto statusRow = new QHBoxLayout;
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_notice, 2);
    layout->addLayout(statusRow);

    // Connections | traffic
    auto top = new QSplitter(Qt::Horizontal, this);
    auto connectionsBox = new QWidget(top);
    auto connectionsLayout = new QVBoxLayout(connectionsBox);
    connectionsLayout->setContentsMargins(0, 0, 0, 0);
    connectionsLayout->addWidget(heading(tr("App-server connections"), connectionsBox));
    m_connectionView = new QTableView(connectionsBox);
    m_connectionView->setObjectName(QStringLiteral("consoleConnections"));
    m_connectionView->setAccessibleName(tr("App-server connections"));
    m_connectionView->setModel(m_connections);
    denseTable(m_connectionView, fontMetrics());
    m_connectionView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_connectionView->horizontalHeader()->setSectionResizeMode(
        ConsoleConnectionModel::StateColumn, QHeaderView::Stretch);
    m_connectionView->setItemDelegateForColumn(
        ConsoleConnectionModel::StateColumn, new ElideMiddleDelegate(m_connectionView));
    m_connectionView->setToolTip(tr("Pick a connection to see only its traffic; Esc shows all again"));
    connectionsLayout->addWidget(m_connectionView, 1);
    auto trafficBox = new QWidget(top);
    auto trafficLayout = new QVBoxLayout(trafficBox);
    trafficLayout->setContentsMargins(0, 0, 0, 0);
    trafficLayout->addWidget(heading(tr("Traffic, both directions"), trafficBox));
    m_trafficView = new FollowingTableView(trafficBox);
    m_trafficView->setObjectName(QStringLiteral("consoleTraffic"));
    m_trafficView->setAccessibleName(tr("Traffic on the app-server connections"));
    m_trafficView->setModel(m_traffic);
    denseTable(m_trafficView, fontMetrics());
    const int digit = fontMetrics().horizontalAdvance(QLatin1Char('0'));
    auto *th = m_trafficView->horizontalHeader();
    th->setSectionResizeMode(QHeaderView::Interactive);
    th->resizeSection(ConsoleTrafficModel::TimeColumn, digit * 8);
    th->resizeSection(ConsoleTrafficModel::ConnectionColumn, digit * 6);
    th->resizeSection(ConsoleTrafficModel::DirectionColumn, fontMetrics().horizontalAdvance(tr("↑ downstream")) + 16);
    th->resizeSection(ConsoleTrafficModel::MessageIdColumn, digit * 14);
    th->resizeSection(ConsoleTrafficModel::DeviceColumn, digit * 17);
    th->resizeSection(ConsoleTrafficModel::AnswerColumn, fontMetrics().horizontalAdvance(
                                                             QStringLiteral("NACK INTERNAL_SERVER_ERROR")) + 8);
    // Generated ids and tokens differ at their end.
    m_trafficView->setItemDelegateForColumn(
        ConsoleTrafficModel::MessageIdColumn, new ElideMiddleDelegate(m_trafficView));
    m_trafficView->setItemDelegateForColumn(
        ConsoleTrafficModel::DeviceColumn, new ElideMiddleDelegate(m_trafficView));
    th->setStretchLastSection(true);
    trafficLayout->addWidget(m_trafficView, 1);
    top->addWidget(connectionsBox);
    top->addWidget(trafficBox);
    top->setStretchFactor(0, 2);
    top->setStretchFactor(1, 5);
    top->setSizes({440, 760});

    // Devices | faults | conformance
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("consoleTabs"));
    m_tabs->setDocumentMode(true);

    auto devicesPage = new QWidget(m_tabs);
    auto devicesLayout = new QHBoxLayout(devicesPage);
    devicesLayout->setContentsMargins(0, 6, 0, 0);
    m_deviceView = new QTableView(devicesPage);
    m_deviceView->setObjectName(QStringLiteral("consoleDevices"));
    m_deviceView->setAccessibleName(tr("Simulated devices"));
    m_deviceView->setModel(m_devices);
    denseTable(m_deviceView, fontMetrics());
    m_deviceView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_deviceView->horizontalHeader()->setSectionResizeMode(DeviceModel::TokenColumn, QHeaderView::Stretch);
    devicesLayout->addWidget(m_deviceView, 1);
    auto deviceButtons = new QVBoxLayout;
    m_upstream = new QPushButton(tr("&Upstream…"), devicesPage);
    m_upstream->setObjectName(QStringLiteral("consoleUpstream"));
    m_upstream->setToolTip(tr("The selected device sends an upstream message: its id, category, data and time "
                              "to live"));
    m_wake = new QPushButton(tr("&Sleep"), devicesPage);
    m_wake->setObjectName(QStringLiteral("consoleWake"));
    m_wake->setToolTip(tr("Take the selected device offline (messages to it are held) or bring it back"));
    m_unregister = new QPushButton(tr("U&nregister"), devicesPage);
    m_unregister->setObjectName(QStringLiteral("consoleUnregister"));
    m_unregister->setToolTip(tr("The app is uninstalled: messages to this token get DEVICE_UNREGISTERED"));
    m_topics = new QLineEdit(devicesPage);
    m_topics->setObjectName(QStringLiteral("consoleTopics"));
    m_topics->setAccessibleName(tr("Topics the selected device subscribes to"));
    m_topics->setPlaceholderText(tr("topics: news, sport"));
    m_topics->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("topics: news, sport")) + 24);
    m_topics->setToolTip(tr("Topics the selected device subscribes to; Enter applies"));
    deviceButtons->addWidget(m_upstream);
    deviceButtons->addWidget(m_wake);
    deviceButtons->addWidget(m_unregister);
    deviceButtons->addWidget(m_topics);
    deviceButtons->addStretch(1);
    devicesLayout->addLayout(deviceButtons);
    m_tabs->addTab(devicesPage, tr("De&vices"));

    auto faultsPage = new QWidget(m_tabs);
    auto faultsLayout = new QHBoxLayout(faultsPage);
    faultsLayout->setContentsMargins(0, 6, 0, 0);
    auto form = new QFormLayout;
    m_nackShare = new QDoubleSpinBox(faultsPage);
    m_nackShare->setObjectName(QStringLiteral("consoleNackShare"));
    m_nackShare->setRange(0, 1);
    m_nackShare->setSingleStep(0.05);
    m_nackShare->setDecimals(2);
    m_nackCode = new QComboBox(faultsPage);
    m_nackCode->setObjectName(QStringLiteral("consoleNackCode"));
    m_nackCode->addItems({QStringLiteral("SERVICE_UNAVAILABLE"), QStringLiteral("INTERNAL_SERVER_ERROR")});
    m_ackDelay = new QSpinBox(faultsPage);
    m_ackDelay->setObjectName(QStringLiteral("consoleAckDelay"));
    m_ackDelay->setRange(0, 600000);
    m_ackDelay->setSuffix(tr(" ms"));
    m_dropEvery = new QSpinBox(faultsPage);
    m_dropEvery->setObjectName(QStringLiteral("consoleDropEvery"));
    m_dropEvery->setRange(0, 1000000);
    m_dropEvery->setSpecialValueText(tr("never"));
    m_drainEvery = new QSpinBox(faultsPage);
    m_drainEvery->setObjectName(QStringLiteral("consoleDrainEvery"));
    m_drainEvery->setRange(0, 1000000);
    m_drainEvery->setSpecialValueText(tr("never"));
    form->addRow(tr("NACK &share"), m_nackShare);
    form->addRow(tr("NACK &code"), m_nackCode);
    form->addRow(tr("Answer &delay"), m_ackDelay);
    form->addRow(tr("Drop every N stanzas"), m_dropEvery);
    form->addRow(tr("Drain every N stanzas"), m_drainEvery);
    faultsLayout->addLayout(form);
    auto faultButtons = new QVBoxLayout;
    m_applyFaults = new QPushButton(tr("A&pply faults"), faultsPage);
    m_applyFaults->setObjectName(QStringLiteral("consoleApplyFaults"));
    auto drainAll = new QPushButton(tr("D&rain all connections"), faultsPage);
    drainAll->setObjectName(QStringLiteral("consoleDrainAll"));
    auto dropAll = new QPushButton(tr("Dr&op all connections"), faultsPage);
    dropAll->setObjectName(QStringLiteral("consoleDropAll"));
    auto redeliver = new QPushButton(tr("Deliver the next upstream &twice"), faultsPage);
    redeliver->setObjectName(QStringLiteral("consoleRedeliver"));
    faultButtons->addWidget(m_applyFaults);
    faultButtons->addWidget(drainAll);
    faultButtons->addWidget(dropAll);
    faultButtons->addWidget(redeliver);
    faultButtons->addStretch(1);
    faultsLayout->addSpacing(24);
    faultsLayout->addLayout(faultButtons);
    faultsLayout->addStretch(1);
    m_tabs->addTab(faultsPage, tr("&Faults"));

    auto rulesPage = new QWidget(m_tabs);
    auto rulesLayout = new QVBoxLayout(rulesPage);
    rulesLayout->setContentsMargins(0, 6, 0, 0);
    m_conformanceNote = new QLabel(rulesPage);
    m_conformanceNote->setObjectName(QStringLiteral("consoleConformanceNote"));
    m_conformanceNote->setForegroundRole(QPalette::PlaceholderText);
    m_conformanceNote->setWordWrap(true);
    rulesLayout->addWidget(m_conformanceNote);
    m_ruleView = new QTableView(rulesPage);
    m_ruleView->setObjectName(QStringLiteral("consoleRules"));
    m_ruleView->setAccessibleName(tr("Conformance scorecard"));
    m_ruleView->setModel(m_rules);
    denseTable(m_ruleView, fontMetrics());
    m_ruleView->horizontalHeader()->setSectionResizeMode(ConsoleRuleModel::RuleColumn, QHeaderView::ResizeToContents);
    m_ruleView->horizontalHeader()->setSectionResizeMode(
        ConsoleRuleModel::StatusColumn, QHeaderView::ResizeToContents);
    m_ruleView->horizontalHeader()->setStretchLastSection(true);
    rulesLayout->addWidget(m_ruleView, 1);
    m_tabs->addTab(rulesPage, tr("&Conformance"));

    auto split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({500, 240});
    layout->addWidget(split, 1);

    connect(m_attach, &QPushButton::clicked, this, &EmulatorConsole::onAttachClicked);
    connect(m_url, &QLineEdit::returnPressed, this, &EmulatorConsole::onAttachClicked);
    connect(m_token, &QLineEdit::returnPressed, this, &EmulatorConsole::onAttachClicked);
    connect(m_url, &QLineEdit::editingFinished, this, &EmulatorConsole::readSavedToken);
    connect(m_source, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_url->setEnabled(i == 1);
        m_token->setEnabled(i == 1);
    });
    connect(m_connectionView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        [this](const QModelIndex &current) { filterConnection(m_connections->connectionId(current.row())); });
    connect(m_deviceView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        [this] { updateDeviceButtons(); });
    connect(m_devices, &QAbstractItemModel::modelReset, this, &EmulatorConsole::updateDeviceButtons);
    connect(m_devices, &QAbstractItemModel::dataChanged, this, &EmulatorConsole::updateDeviceButtons);
    connect(m_upstream, &QPushButton::clicked, this, &EmulatorConsole::composeUpstreamFromSelected);
    connect(m_wake, &QPushButton::clicked, this, &EmulatorConsole::toggleSelectedOnline);
    connect(m_unregister, &QPushButton::clicked, this, &EmulatorConsole::unregisterSelected);
    connect(m_topics, &QLineEdit::returnPressed, this, &EmulatorConsole::applyTopics);
    connect(m_applyFaults, &QPushButton::clicked, this, &EmulatorConsole::applyFaults);
    auto post = [this](const QString &path) {
        m_client->send("POST", path, {}, this, [this](const AdminClient::Reply &r) {
            if (!r.ok())
                showNotice(r.error);
        });
    };
    connect(drainAll, &QPushButton::clicked, this, [post] { post(QStringLiteral("connections/drain")); });
    connect(dropAll, &QPushButton::clicked, this, [post] { post(QStringLiteral("connections/drop")); });
    connect(redeliver, &QPushButton::clicked, this, [post] { post(QStringLiteral("faults/redeliver-next")); });
}

void EmulatorConsole::setLocalAdmin(emulator::EmulatorAdminApi *admin)
{
    m_localAdmin = admin;
    // Offered first, unless a ccs-emulator's URL was used before.
    if (!admin)
        m_source->setCurrentIndex(1);
    else if (m_url->text().isEmpty())
        m_source->setCurrentIndex(0);
}

QString EmulatorConsole::keychainName() const
{
    return QStringLiteral("ccs-emulator admin %1").arg(m_url->text().trimmed());
}

void EmulatorConsole::readSavedToken()
{
    m_savedToken.clear();
    m_token->setPlaceholderText(tr("admin token"));
    if (!m_secrets || m_url->text().trimmed().isEmpty())
        return;
    const QString url = m_url->text().trimmed();
    m_secrets->readKey(keychainName(), this, [this, url](const storage::SecretResult &r) {
        if (!r.ok() || url != m_url->text().trimmed())
            return;
        m_savedToken = r.secret;
        m_token->setPlaceholderText(tr("token saved in the keychain"));
    });
}

void EmulatorConsole::onAttachClicked()
{
    if (m_client->isAttached()) {
        detach();
        return;
    }
    if (m_source->currentIndex() == 0) {
        attachLocal();
        return;
    }
    const QUrl url = QUrl::fromUserInput(m_url->text().trimmed());
    const QString token = m_token->text().isEmpty() ? m_savedToken : m_token->text();
    if (!url.isValid() || url.host().isEmpty()) {
        showNotice(tr("Enter the admin API's URL, e.g. http://127.0.0.1:5237 (ccs-emulator prints it)."));
        return;
    }
    if (token.isEmpty()) {
        showNotice(tr("Enter the admin token (ccs-emulator prints it, or it is in its --admin-token-file)."));
        return;
    }
    attachRemote(url, token, !m_token->text().isEmpty());
}

void EmulatorConsole::attachLocal()
{
    if (!m_localAdmin) {
        showNotice(tr("This window's emulator is not running."));
        return;
    }
    m_source->setCurrentIndex(0);
    m_client->attach(QUrl(m_localAdmin->baseUrl()), m_localAdmin->token());
}

void EmulatorConsole::attachRemote(const QUrl &url, const QString &token, bool remember)
{
    m_source->setCurrentIndex(1);
    QString shown = url.toString(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash);
    m_url->setText(shown);
    QSettings().setValue(QLatin1String(kUrlSetting), shown); // the URL only, never the token
    m_client->attach(url, token);
    if (!remember || !m_secrets)
        return;
    // Saved once the token has been accepted.
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = connect(m_client, &AdminClient::attached, this, [this, token, connection] {
        disconnect(*connection);
        m_token->clear();
        m_savedToken = token;
        m_secrets->writeKey(keychainName(), token, this, [this](const storage::SecretResult &r) {
            m_token->setPlaceholderText(r.ok() && !r.sessionOnly ? tr("token saved in the keychain")
                                                                 : tr("token kept for this session"));
        });
    });
    connect(m_client, &AdminClient::failed, this, [connection] { QObject::disconnect(*connection); });
}

void EmulatorConsole::detach()
{
    m_client->detach();
}

void EmulatorConsole::onEvents(const QList<QJsonObject> &events)
{
    m_pending += events;
    if (!m_batch.isActive())
        m_batch.start();
}

void EmulatorConsole::flushEvents()
{
    if (m_pending.isEmpty())
        return;
    const QList<QJsonObject> batch = std::exchange(m_pending, {});
    m_connections->apply(batch);
    m_traffic->apply(batch);
    m_rules->apply(batch);
    for (const QJsonObject &e : batch) {
        const QString type = e.value(QLatin1String("type")).toString();
        if (type == QLatin1String("device") && !m_deviceRefresh.isActive())
            m_deviceRefresh.start();
        else if (type == QLatin1String("faults"))
            loadFaults(e.value(QLatin1String("faults")).toObject());
    }
}

void EmulatorConsole::showNotice(const QString &text)
{
    m_notice->setText(text);
    m_notice->setToolTip(text);
}

QString EmulatorConsole::statusText() const
{
    return m_status->text();
}

QString EmulatorConsole::noticeText() const
{
    return m_notice->text();
}

void EmulatorConsole::updateStatus()
{
    if (!m_client->isAttached()) {
        m_status->setText(tr("Not attached"));
        return;
    }
    const QString where = m_source->currentIndex() == 0 ? tr("this window's emulator")
                                                        : m_client->baseUrl().toString(QUrl::RemoveUserInfo);
    m_status->setText(tr("Attached to %1 · event %2 · %3 events/s · %4 rows shown")
                          .arg(where, formatCount(qint64(m_client->lastSeq())),
                              formatCount(qint64(m_eventsPerSecond + 0.5)), formatCount(m_traffic->rowCount())));
}

void EmulatorConsole::filterConnection(int connection)
{
    // Without a filter the view reads the model itself: the proxy's mapping
    // would be kept up to date for every batch for nothing.
    static_cast<ConnectionFilter *>(m_trafficFilter)->setConnection(connection);
    QAbstractItemModel *wanted
        = connection == 0 ? static_cast<QAbstractItemModel *>(m_traffic) : m_trafficFilter;
    if (m_trafficView->model() == wanted)
        return;
    m_trafficFilter->setSourceModel(connection == 0 ? nullptr : m_traffic);
    const QByteArray header = m_trafficView->horizontalHeader()->saveState();
    m_trafficView->setModel(wanted);
    m_trafficView->horizontalHeader()->restoreState(header);
}

QString EmulatorConsole::selectedToken() const
{
    const QModelIndex i = m_deviceView->currentIndex();
    return i.isValid() ? m_devices->index(i.row(), 0).data(DeviceModel::TokenRole).toString() : QString();
}

void EmulatorConsole::selectToken(const QString &token)
{
    for (int row = 0; row < m_devices->rowCount(); ++row) {
        if (m_devices->index(row, 0).data(DeviceModel::TokenRole).toString() == token) {
            m_deviceView->setCurrentIndex(m_devices->index(row, 0));
            return;
        }
    }
}

void EmulatorConsole::updateDeviceButtons()
{
    const QString token = selectedToken();
    const bool on = m_client->isAttached() && !token.isEmpty();
    m_upstream->setEnabled(on);
    m_wake->setEnabled(on);
    m_unregister->setEnabled(on);
    m_topics->setEnabled(on);
    m_applyFaults->setEnabled(m_client->isAttached());
    for (const emulator::DeviceStatus &d : m_devices->devices()) {
        if (d.spec.token != token)
            continue;
        m_wake->setText(d.online ? tr("&Sleep") : tr("&Wake"));
        m_unregister->setEnabled(on && d.spec.kind != emulator::DeviceKind::Unregistered);
        if (!m_topics->hasFocus())
            m_topics->setText(d.topics.join(QStringLiteral(", ")));
    }
}

void EmulatorConsole::refreshDevices()
{
    if (!m_client->isAttached())
        return;
    m_client->get(QStringLiteral("devices"), this, [this](const AdminClient::Reply &r) {
        if (!r.ok())
            return;
        QList<emulator::DeviceStatus> devices;
        for (const QJsonValue &v : r.body.toArray()) {
            emulator::DeviceStatus d;
            if (AdminClient::deviceFromJson(v.toObject(), &d))
                devices.append(d);
        }
        const QString selected = selectedToken();
        m_devices->setDevices(devices);
        if (!selected.isEmpty() && selectedToken() != selected)
            selectToken(selected);
        updateDeviceButtons();
    });
}

void EmulatorConsole::composeUpstreamFromSelected()
{
    const QString token = selectedToken();
    if (token.isEmpty())
        return;
    QString name = token, category;
    for (const emulator::DeviceStatus &d : m_devices->devices()) {
        if (d.spec.token == token) {
            name = d.spec.name;
            category = d.spec.category;
        }
    }
    auto dialog = new UpstreamDialog(name, category, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, token] {
        const emulator::UpstreamRequest request = dialog->request();
        QJsonObject body {{QStringLiteral("data"), request.data}};
        if (!request.messageId.isEmpty())
            body.insert(QStringLiteral("message_id"), request.messageId);
        if (!request.category.isEmpty())
            body.insert(QStringLiteral("category"), request.category);
        if (request.timeToLive >= 0)
            body.insert(QStringLiteral("time_to_live"), request.timeToLive);
        m_client->send("POST", QStringLiteral("devices/%1/upstream").arg(QString::fromLatin1(QUrl::toPercentEncoding(token))),
            body, this, [this](const AdminClient::Reply &r) {
                showNotice(r.ok() ? tr("Upstream message %1 queued.")
                                        .arg(r.body.toObject().value(QLatin1String("message_id")).toString())
                                  : r.error);
                refreshDevices();
            });
    });
    dialog->open();
}

void EmulatorConsole::toggleSelectedOnline()
{
    const QString token = selectedToken();
    for (const emulator::DeviceStatus &d : m_devices->devices()) {
        if (d.spec.token != token)
            continue;
        m_client->send("POST", QStringLiteral("devices/%1/online").arg(QString::fromLatin1(QUrl::toPercentEncoding(token))),
            QJsonObject {{QStringLiteral("online"), !d.online}}, this, [this](const AdminClient::Reply &r) {
                if (!r.ok())
                    showNotice(r.error);
                refreshDevices();
            });
    }
}

void EmulatorConsole::unregisterSelected()
{
    const QString token = selectedToken();
    if (token.isEmpty())
        return;
    m_client->send("POST", QStringLiteral("devices/%1/unregister").arg(QString::fromLatin1(QUrl::toPercentEncoding(token))),
        {}, this, [this](const AdminClient::Reply &r) {
            if (!r.ok())
                showNotice(r.error);
            refreshDevices();
        });
}

void EmulatorConsole::applyTopics()
{
    const QString token = selectedToken();
    QStringList current;
    for (const emulator::DeviceStatus &d : m_devices->devices()) {
        if (d.spec.token == token)
            current = d.topics;
    }
    const QStringList wanted
        = m_topics->text().split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts);
    const QString base = QStringLiteral("devices/%1/topics").arg(QString::fromLatin1(QUrl::toPercentEncoding(token)));
    // One request after another, so the device subscribes in the order given.
    struct Step {
        QByteArray verb;
        QString path;
        QJsonObject body;
    };
    auto steps = std::make_shared<QList<Step>>();
    for (const QString &t : wanted) {
        if (!current.contains(t))
            steps->append({"POST", base, QJsonObject {{QStringLiteral("topic"), t}}});
    }
    for (const QString &t : current) {
        if (!wanted.contains(t))
            steps->append({"DELETE", base + QLatin1Char('/') + QString::fromLatin1(QUrl::toPercentEncoding(t)), {}});
    }
    // The pending reply's callback holds the chain; the chain holds itself only weakly.
    auto next = std::make_shared<std::function<void()>>();
    std::weak_ptr<std::function<void()>> weak = next;
    *next = [this, steps, weak] {
        if (steps->isEmpty()) {
            refreshDevices();
            return;
        }
        const Step step = steps->takeFirst();
        m_client->send(step.verb, step.path, step.body, this,
            [this, chain = weak.lock()](const AdminClient::Reply &r) {
                if (!r.ok())
                    showNotice(r.error);
                (*chain)();
            });
    };
    (*next)();
}

void EmulatorConsole::loadFaults(const QJsonObject &f)
{
    if (f.isEmpty())
        return;
    m_nackShare->setValue(f.value(QLatin1String("nack_share")).toDouble());
    m_nackCode->setCurrentText(f.value(QLatin1String("nack_code")).toString());
    m_ackDelay->setValue(f.value(QLatin1String("ack_delay_ms")).toInt());
    m_dropEvery->setValue(f.value(QLatin1String("drop_every_stanzas")).toInt());
    m_drainEvery->setValue(f.value(QLatin1String("drain_every_stanzas")).toInt());
}

void EmulatorConsole::applyFaults()
{
    const QJsonObject body {{QStringLiteral("nack_share"), m_nackShare->value()},
        {QStringLiteral("nack_code"), m_nackCode->currentText()},
        {QStringLiteral("ack_delay_ms"), m_ackDelay->value()},
        {QStringLiteral("drop_every_stanzas"), m_dropEvery->value()},
        {QStringLiteral("drain_every_stanzas"), m_drainEvery->value()}};
    m_client->send("PUT", QStringLiteral("faults"), body, this, [this](const AdminClient::Reply &r) {
        showNotice(r.ok() ? tr("Faults applied.") : r.error);
    });
}

} // namespace ccs::ui
