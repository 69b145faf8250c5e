#include "EmulatorPanel.h"

#include "DeviceModel.h"
#include "UpstreamDialog.h"

#include <QCheckBox>
#include <QDateTime>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace ccs::ui {

EmulatorPanel::EmulatorPanel(QWidget *parent)
    : QWidget(parent)
    , m_model(new DeviceModel(this))
    , m_status(new QLabel(this))
    , m_token(new QLabel(this))
    , m_view(new QTableView(this))
    , m_upstream(new QPushButton(tr("Send upstream"), this))
    , m_wake(new QPushButton(tr("Wake"), this))
    , m_compose(new QPushButton(tr("Upstream…"), this))
    , m_topics(new QLineEdit(this))
    , m_drain(new QPushButton(tr("Drain"), this))
    , m_drop(new QPushButton(tr("Drop"), this))
    , m_nack(new QCheckBox(tr("NACK faults"), this))
    , m_rate(new QDoubleSpinBox(this))
{
    setObjectName(QStringLiteral("emulatorPanel"));
    setAccessibleName(tr("Local emulator"));
    auto layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->setSpacing(6);
    auto heading = new QLabel(tr("Local emulator"), this);
    QFont f = heading->font();
    f.setBold(true);
    heading->setFont(f);
    layout->addWidget(heading);
    m_status->setObjectName(QStringLiteral("emulatorStatus"));
    m_status->setForegroundRole(QPalette::PlaceholderText);
    m_status->setWordWrap(true);
    layout->addWidget(m_status);

    m_view->setObjectName(QStringLiteral("deviceView"));
    m_view->setAccessibleName(tr("Simulated devices"));
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_view->setShowGrid(false);
    m_view->setAlternatingRowColors(true);
    m_view->setColumnHidden(DeviceModel::TokenColumn, true);
    m_view->setColumnHidden(DeviceModel::UpstreamColumn, true);
    m_view->horizontalHeader()->setSectionResizeMode(DeviceModel::NameColumn, QHeaderView::Stretch);
    m_view->horizontalHeader()->setSectionResizeMode(DeviceModel::StateColumn, QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(
        DeviceModel::ReceivedColumn, QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(
        DeviceModel::UpstreamColumn, QHeaderView::ResizeToContents);
    m_view->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    layout->addWidget(m_view, 1);
    m_token->setObjectName(QStringLiteral("deviceToken"));
    m_token->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_token->setForegroundRole(QPalette::PlaceholderText);
    m_token->setWordWrap(true);
    m_token->setAccessibleName(tr("Registration token of the selected device"));
    layout->addWidget(m_token);

    auto deviceButtons = new QGridLayout;
    m_upstream->setObjectName(QStringLiteral("sendUpstreamButton"));
    m_upstream->setToolTip(tr("Make the selected device send an upstream message (Ctrl+U)"));
    m_upstream->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_U));
    m_wake->setObjectName(QStringLiteral("wakeButton"));
    m_wake->setToolTip(tr("Wake the selected device (it receives what it held) or put it to sleep"));
    m_compose->setObjectName(QStringLiteral("composeUpstreamButton"));
    m_compose->setToolTip(
        tr("Compose an upstream message from the selected device: its id, category, data and time to live"));
    m_wake->setToolTip(tr("Take the selected device offline (messages to it are held, then delivered in "
                          "order when it is back) or bring it back"));
    deviceButtons->addWidget(m_upstream, 0, 0);
    deviceButtons->addWidget(m_wake, 0, 1);
    deviceButtons->addWidget(m_compose, 1, 0);
    layout->addLayout(deviceButtons);
    auto topicsRow = new QHBoxLayout;
    auto topicsLabel = new QLabel(tr("Topic&s"), this);
    topicsLabel->setBuddy(m_topics);
    m_topics->setObjectName(QStringLiteral("deviceTopicsEdit"));
    m_topics->setAccessibleName(tr("Topics the selected device subscribes to"));
    m_topics->setPlaceholderText(tr("e.g. news, sport"));
    m_topics->setToolTip(tr("Topics the selected device subscribes to; press Enter to apply. "
                            "A message to /topics/NAME reaches every subscriber."));
    topicsRow->addWidget(topicsLabel);
    topicsRow->addWidget(m_topics, 1);
    layout->addLayout(topicsRow);

    auto faults = new QLabel(tr("Faults"), this);
    faults->setFont(f);
    layout->addWidget(faults);
    auto faultButtons = new QGridLayout;
    m_drain->setObjectName(QStringLiteral("drainButton"));
    m_drain->setToolTip(tr("Send CONNECTION_DRAINING on every connection: the session moves to a new one"));
    m_drop->setObjectName(QStringLiteral("dropButton"));
    m_drop->setToolTip(
        tr("Cut every connection abruptly: pending messages are sent again after reconnecting"));
    m_nack->setObjectName(QStringLiteral("nackFaultsCheck"));
    m_nack->setToolTip(
        tr("NACK a third of downstream messages with SERVICE_UNAVAILABLE (retried with back-off)"));
    m_rate->setObjectName(QStringLiteral("upstreamRateSpin"));
    m_rate->setRange(0, 5000);
    m_rate->setDecimals(1);
    m_rate->setSingleStep(0.5);
    m_rate->setSuffix(tr(" /s"));
    m_rate->setAccessibleName(tr("Upstream messages per second"));
    m_rate->setToolTip(tr("Spontaneous upstream traffic from the devices, per second"));
    faultButtons->addWidget(m_drain, 0, 0);
    faultButtons->addWidget(m_drop, 0, 1);
    faultButtons->addWidget(m_nack, 1, 0, 1, 2);
    auto rateLabel = new QLabel(tr("Upstream"), this);
    rateLabel->setBuddy(m_rate);
    faultButtons->addWidget(rateLabel, 2, 0);
    faultButtons->addWidget(m_rate, 2, 1);
    layout->addLayout(faultButtons);

    connect(m_upstream, &QPushButton::clicked, this, &EmulatorPanel::sendUpstreamFromSelected);
    connect(m_wake, &QPushButton::clicked, this, &EmulatorPanel::toggleSelectedOnline);
    connect(m_compose, &QPushButton::clicked, this, &EmulatorPanel::composeUpstreamFromSelected);
    connect(m_topics, &QLineEdit::returnPressed, this, [this] { setSelectedTopics(m_topics->text()); });
    connect(m_drain, &QPushButton::clicked, this, &EmulatorPanel::drain);
    connect(m_drop, &QPushButton::clicked, this, &EmulatorPanel::drop);
    connect(m_nack, &QCheckBox::toggled, this, &EmulatorPanel::setNackFaults);
    connect(m_rate, &QDoubleSpinBox::valueChanged, this, [this](double rate) {
        if (m_server)
            m_server->setUpstreamRatePerSecond(rate);
    });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
        &EmulatorPanel::updateButtons);
    connect(m_model, &QAbstractItemModel::dataChanged, this, &EmulatorPanel::updateButtons);
    // Received counters move without a devicesChanged: refresh them gently.
    auto timer = new QTimer(this);
    timer->setInterval(1000);
    connect(timer, &QTimer::timeout, this, [this] {
        if (isVisible())
            m_model->refresh();
        if (m_server)
            m_status->setText(tr("Listening on 127.0.0.1:%1 · %2")
                                  .arg(m_server->port())
                                  .arg(m_server->openConnections() == 1
                                          ? tr("1 connection")
                                          : tr("%1 connections").arg(m_server->openConnections())));
    });
    timer->start();
    updateButtons();
}

void EmulatorPanel::setServer(emulator::EmulatorServer *server)
{
    m_server = server;
    m_model->setServer(server);
    if (server) {
        QSignalBlocker block(m_rate);
        m_rate->setValue(server->config().upstreamRatePerSecond);
        QSignalBlocker blockNack(m_nack);
        m_nack->setChecked(server->faults().nackShare > 0);
        m_status->setText(tr("Listening on 127.0.0.1:%1").arg(server->port()));
        if (m_model->rowCount() > 0)
            m_view->selectRow(0);
    } else {
        m_status->setText(tr("Not running"));
    }
    updateButtons();
}

QString EmulatorPanel::selectedToken() const
{
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() ? current.data(DeviceModel::TokenRole).toString() : QString();
}

void EmulatorPanel::selectToken(const QString &token)
{
    for (int row = 0; row < m_model->rowCount(); ++row) {
        if (m_model->index(row, 0).data(DeviceModel::TokenRole).toString() == token) {
            m_view->selectRow(row);
            return;
        }
    }
}

void EmulatorPanel::updateButtons()
{
    const bool running = m_server != nullptr;
    const QString token = selectedToken();
    m_upstream->setEnabled(running && !token.isEmpty());
    m_wake->setEnabled(running && !token.isEmpty());
    m_compose->setEnabled(running && !token.isEmpty());
    m_topics->setEnabled(running && !token.isEmpty());
    m_token->setText(token.isEmpty() ? tr("Select a device.") : tr("Token: %1").arg(token));
    for (const auto &d : m_model->devices()) {
        if (d.spec.token != token)
            continue;
        m_wake->setText(d.online ? tr("Sleep") : tr("Wake"));
        if (!m_topics->hasFocus())
            m_topics->setText(d.topics.join(QStringLiteral(", ")));
    }
    m_drain->setEnabled(running);
    m_drop->setEnabled(running);
    m_nack->setEnabled(running);
    m_rate->setEnabled(running);
}

QString EmulatorPanel::sendUpstreamFromSelected()
{
    const QString token = selectedToken();
    if (!m_server || token.isEmpty())
        return {};
    QJsonObject data {{QStringLiteral("text"), tr("Hello from the device (#%1)").arg(++m_upstreamCounter)},
        {QStringLiteral("sent_at"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)}};
    const QString id = m_server->sendUpstream(token, data);
    Q_EMIT notice(tr("%1 sent an upstream message.").arg(token));
    return id;
}

void EmulatorPanel::composeUpstreamFromSelected()
{
    const QString token = selectedToken();
    if (!m_server || token.isEmpty())
        return;
    QString name = token, category;
    for (const auto &d : m_model->devices()) {
        if (d.spec.token == token) {
            name = d.spec.name;
            category = d.spec.category;
        }
    }
    UpstreamDialog dialog(name, category, this);
    if (dialog.exec() == QDialog::Accepted)
        sendUpstream(dialog.request());
}

QString EmulatorPanel::sendUpstream(const emulator::UpstreamRequest &request)
{
    const QString token = selectedToken();
    if (!m_server || token.isEmpty())
        return {};
    QString error;
    const QString id = m_server->sendUpstreamMessage(token, request, &error);
    if (id.isEmpty())
        Q_EMIT notice(tr("%1 could not send: %2").arg(token, error));
    else
        Q_EMIT notice(tr("%1 sent upstream message %2.").arg(token, id));
    m_model->refresh();
    return id;
}

bool EmulatorPanel::setSelectedTopics(const QString &topics)
{
    const QString token = selectedToken();
    if (!m_server || token.isEmpty())
        return false;
    static const QRegularExpression separators(QStringLiteral("[,\\s]+"));
    QStringList wanted = topics.split(separators, Qt::SkipEmptyParts);
    for (QString &t : wanted) {
        if (t.startsWith(QLatin1String("/topics/")))
            t = t.mid(8);
    }
    QStringList current;
    for (const auto &d : m_model->devices()) {
        if (d.spec.token == token)
            current = d.topics;
    }
    QStringList refused;
    for (const QString &t : wanted) {
        if (!current.contains(t) && !m_server->setDeviceSubscribed(token, t, true))
            refused.append(t);
    }
    for (const QString &t : current) {
        if (!wanted.contains(t))
            m_server->setDeviceSubscribed(token, t, false);
    }
    if (!refused.isEmpty())
        Q_EMIT notice(tr("Not a topic name: %1 (letters, digits and - _ . ~ % only)")
                          .arg(refused.join(QStringLiteral(", "))));
    m_model->refresh();
    updateButtons();
    return refused.isEmpty();
}

void EmulatorPanel::toggleSelectedOnline()
{
    const QString token = selectedToken();
    if (!m_server || token.isEmpty())
        return;
    for (const auto &d : m_model->devices()) {
        if (d.spec.token == token) {
            m_server->setDeviceOnline(token, !d.online);
            break;
        }
    }
    m_model->refresh();
    updateButtons();
}

void EmulatorPanel::drain()
{
    if (!m_server)
        return;
    m_server->drainConnections();
    Q_EMIT notice(tr("The emulator sent CONNECTION_DRAINING: the session opens a new connection."));
}

void EmulatorPanel::drop()
{
    if (!m_server)
        return;
    m_server->dropConnections();
    Q_EMIT notice(
        tr("The emulator dropped every connection: the session reconnects and resends what was pending."));
}

void EmulatorPanel::setNackFaults(bool on)
{
    if (!m_server)
        return;
    emulator::FaultSchedule faults = m_server->faults();
    faults.nackShare = on ? 0.33 : 0.0;
    faults.nackCode = NackCode::ServiceUnavailable;
    m_server->setFaults(faults);
    if (m_nack->isChecked() != on) {
        QSignalBlocker block(m_nack);
        m_nack->setChecked(on);
    }
}

} // namespace ccs::ui
