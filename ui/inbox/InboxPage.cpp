#include "InboxPage.h"

#include "InboxModel.h"
#include "common/ElideMiddleDelegate.h"
#include "common/FollowingTableView.h"
#include "common/Format.h"
#include "storage/HistoryExport.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

namespace ccs::ui {

InboxPage::InboxPage(QWidget *parent)
    : QWidget(parent)
    , m_model(new InboxModel(this))
    , m_device(new QComboBox(this))
    , m_category(new QComboBox(this))
    , m_search(new QLineEdit(this))
    , m_count(new QLabel(this))
    , m_follow(new QToolButton(this))
    , m_export(new QToolButton(this))
    , m_view(new FollowingTableView(this))
    , m_details(new QPlainTextEdit(this))
    , m_splitter(new QSplitter(Qt::Vertical, this))
{
    setObjectName(QStringLiteral("inboxPage"));
    auto layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 6, 0, 0);
    layout->setSpacing(4);
    auto bar = new QHBoxLayout;
    bar->setContentsMargins(6, 0, 6, 0);
    m_device->setObjectName(QStringLiteral("inboxDeviceFilter"));
    m_device->setAccessibleName(tr("Device filter"));
    m_device->setToolTip(tr("Show messages from one device"));
    m_device->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_category->setObjectName(QStringLiteral("inboxCategoryFilter"));
    m_category->setAccessibleName(tr("Category filter"));
    m_category->setToolTip(tr("Show messages of one app (category)"));
    m_category->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_search->setObjectName(QStringLiteral("inboxSearch"));
    m_search->setPlaceholderText(tr("Filter by text in id, token or data…"));
    m_search->setClearButtonEnabled(true);
    m_search->setAccessibleName(tr("Inbox text filter"));
    m_search->setToolTip(tr("Show only messages whose id, token or data contains this text"));
    m_count->setObjectName(QStringLiteral("inboxCount"));
    m_count->setForegroundRole(QPalette::PlaceholderText);
    m_follow->setObjectName(QStringLiteral("inboxFollow"));
    m_follow->setCheckable(true);
    m_follow->setChecked(true);
    m_follow->setText(tr("Following"));
    m_follow->setToolTip(tr("Scroll to new messages as they arrive (End). Pauses while you read."));
    m_follow->setAccessibleName(tr("Follow new messages"));
    m_export->setObjectName(QStringLiteral("inboxExport"));
    m_export->setText(tr("Export…"));
    m_export->setToolTip(tr("Save the messages shown as JSON Lines (.jsonl) or CSV (.csv)"));
    m_export->setAccessibleName(tr("Export inbox"));
    bar->addWidget(m_search, 1);
    bar->addWidget(m_device);
    bar->addWidget(m_category);
    bar->addWidget(m_count);
    bar->addWidget(m_follow);
    bar->addWidget(m_export);
    layout->addLayout(bar);

    m_view->setObjectName(QStringLiteral("inboxView"));
    m_view->setAccessibleName(tr("Inbox"));
    m_view->setModel(m_model);
    auto header = m_view->horizontalHeader();
    auto fit = [&](int column, const QString &sample) {
        header->resizeSection(column, m_view->fontMetrics().horizontalAdvance(sample) + 18);
    };
    fit(InboxModel::TimeColumn, QStringLiteral("00:00:00.000"));
    fit(InboxModel::DeviceColumn, QStringLiteral("Galaxy Tab S8 (idle)"));
    m_view->setItemDelegateForColumn(InboxModel::IdColumn, new ElideMiddleDelegate(m_view));
    fit(InboxModel::CategoryColumn, QStringLiteral("com.example.ccsadmin"));
    fit(InboxModel::IdColumn, QStringLiteral("up-4e4d7b50-1000"));
    fit(InboxModel::DataColumn, QStringLiteral("text=Hello from the device (#1)  sent_at=2026"));
    fit(InboxModel::AckColumn, QStringLiteral("00:00:00.000"));

    m_details->setObjectName(QStringLiteral("inboxDetails"));
    m_details->setAccessibleName(tr("Upstream message details"));
    m_details->setReadOnly(true);
    m_details->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_details->setPlaceholderText(tr("Select a message to see it in full."));
    m_splitter->setObjectName(QStringLiteral("inboxSplitter"));
    m_splitter->addWidget(m_view);
    m_splitter->addWidget(m_details);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    m_splitter->setChildrenCollapsible(false);
    layout->addWidget(m_splitter, 1);

    m_filterTimer.setSingleShot(true);
    m_filterTimer.setInterval(200);
    connect(&m_filterTimer, &QTimer::timeout, this, &InboxPage::applyFilter);
    // Counters change thousands of times a second under load: repaint them at 4 Hz.
    m_statusTimer.setInterval(250);
    connect(&m_statusTimer, &QTimer::timeout, this, &InboxPage::updateStatus);
    m_statusTimer.start();

    connect(m_search, &QLineEdit::textChanged, this, [this] { m_filterTimer.start(); });
    connect(m_device, &QComboBox::activated, this, &InboxPage::applyFilter);
    connect(m_category, &QComboBox::activated, this, &InboxPage::applyFilter);
    connect(m_model, &InboxModel::devicesChanged, this, &InboxPage::refreshFilterLists);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &InboxPage::showDetails);
    connect(m_model, &QAbstractItemModel::modelReset, this, &InboxPage::showDetails);
    connect(m_follow, &QToolButton::clicked, this, [this](bool on) {
        if (on)
            m_view->clearSelection();
        m_view->setFollowing(on);
    });
    connect(m_view, &FollowingTableView::followingChanged, this, [this](bool on) {
        m_follow->setChecked(on);
        updateStatus();
    });
    connect(m_view, &FollowingTableView::unseenRowsChanged, this, [this] { updateStatus(); });
    connect(m_export, &QToolButton::clicked, this, &InboxPage::chooseExport);
    // Tab follows the bar from left to right, then the list and the details.
    setTabOrder(m_search, m_device);
    setTabOrder(m_device, m_category);
    setTabOrder(m_category, m_follow);
    setTabOrder(m_follow, m_export);
    setTabOrder(m_export, m_view);
    setTabOrder(m_view, m_details);
    refreshFilterLists();
    updateStatus();
}

void InboxPage::refreshFilterLists()
{
    auto refill = [](QComboBox *combo, const QString &all, const QStringList &values) {
        const QString current = combo->currentData().toString();
        QSignalBlocker blocker(combo);
        combo->clear();
        combo->addItem(all, QString());
        for (const QString &v : values)
            combo->addItem(v, v);
        combo->setCurrentIndex(std::max(0, combo->findData(current)));
    };
    refill(m_device, tr("All devices"), m_model->devices());
    refill(m_category, tr("All categories"), m_model->categories());
}

void InboxPage::applyFilter()
{
    InboxModel::Filter filter;
    filter.device = m_device->currentData().toString();
    filter.category = m_category->currentData().toString();
    filter.text = m_search->text().trimmed();
    m_model->setFilter(filter);
    updateStatus();
}

void InboxPage::updateStatus()
{
    const int total = m_model->totalCount();
    const int shown = m_model->rowCount();
    QString text = shown == total || m_model->filter().isEmpty()
        ? (total == 1 ? tr("1 message") : tr("%1 messages").arg(formatCount(total)))
        : tr("%1 of %2").arg(formatCount(shown), formatCount(total));
    if (m_model->duplicateCount())
        text += tr(" · %1 redelivered").arg(formatCount(m_model->duplicateCount()));
    m_count->setText(text);
    m_follow->setText(m_view->isFollowing() || m_view->unseenRows() == 0
            ? tr("Following")
            : tr("↓ %1 new").arg(formatCount(m_view->unseenRows())));
}

QString InboxPage::detailText() const
{
    return m_details->toPlainText();
}

void InboxPage::showDetails()
{
    const QModelIndex current = m_view->currentIndex();
    const int record = current.isValid() ? m_model->recordIndex(current.row()) : -1;
    if (record < 0) {
        m_details->clear();
        return;
    }
    const UpstreamMessage message = m_model->message(record);
    QString text;
    text += tr("Received  %1 on connection %2\n")
                .arg(formatClock(m_model->receivedAtMs(record)))
                .arg(m_model->connectionId(record));
    if (const qint64 acked = m_model->ackedAtMs(record))
        text += tr("ACKed     %1 (+%2)\n")
                    .arg(formatClock(acked), formatLatency(acked - m_model->receivedAtMs(record)));
    if (m_model->timesSeen(record) > 1)
        text += tr("Seen      %1 times (redelivered; ACKed each time, listed once)\n")
                    .arg(m_model->timesSeen(record));
    text += QLatin1Char('\n');
    text += QString::fromUtf8(QJsonDocument(message.toJson()).toJson(QJsonDocument::Indented));
    m_details->setPlainText(text);
}

void InboxPage::chooseExport()
{
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export inbox"), QStringLiteral("inbox.jsonl"), tr("JSON Lines (*.jsonl);;CSV (*.csv)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportTo(path, &error))
        Q_EMIT exportFailed(error);
}

bool InboxPage::exportTo(const QString &path, QString *error)
{
    m_model->flush();
    storage::HistoryWriter writer;
    if (!writer.open(path, storage::exportFormatForPath(path), storage::upstreamCsvColumns(), error))
        return false;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const int r = m_model->recordIndex(row);
        writer.write(storage::upstreamToJson(m_model->message(r), m_model->receivedAtMs(r),
            m_model->ackedAtMs(r), m_model->connectionId(r), m_model->timesSeen(r)));
    }
    const int rows = writer.rowsWritten();
    if (!writer.commit(error))
        return false;
    Q_EMIT exported(path, rows);
    return true;
}

} // namespace ccs::ui
