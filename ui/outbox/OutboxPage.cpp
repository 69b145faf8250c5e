#include "OutboxPage.h"

#include "OutboxModel.h"
#include "common/ElideMiddleDelegate.h"
#include "common/FollowingTableView.h"
#include "common/Format.h"
#include "protocol/NackCatalogue.h"
#include "protocol/Stanza.h"
#include "storage/HistoryExport.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QSplitter>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

namespace ccs::ui {

OutboxPage::OutboxPage(QWidget *parent)
    : QWidget(parent)
    , m_model(new OutboxModel(this))
    , m_search(new QLineEdit(this))
    , m_stateFilter(new QComboBox(this))
    , m_export(new QToolButton(this))
    , m_count(new QLabel(this))
    , m_view(new FollowingTableView(this))
    , m_details(new QTextBrowser(this))
    , m_splitter(new QSplitter(Qt::Vertical, this))
{
    setObjectName(QStringLiteral("outboxPage"));

    auto layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 6, 0, 0);
    layout->setSpacing(4);
    auto bar = new QHBoxLayout;
    bar->setContentsMargins(6, 0, 6, 0);
    m_search->setObjectName(QStringLiteral("outboxSearch"));
    m_search->setPlaceholderText(tr("Filter by message id, recipient, NACK code…"));
    m_search->setClearButtonEnabled(true);
    m_search->setAccessibleName(tr("Outbox filter"));
    m_search->setToolTip(
        tr("Show only messages whose id, recipient, collapse key or error contains this text"));
    m_stateFilter->setObjectName(QStringLiteral("outboxStateFilter"));
    m_stateFilter->setAccessibleName(tr("Outbox state filter"));
    m_stateFilter->setToolTip(tr("Show messages in these states"));
    m_stateFilter->addItem(tr("All states"), int(OutboxModel::StateGroup::All));
    m_stateFilter->addItem(tr("Queued or in flight"), int(OutboxModel::StateGroup::Open));
    m_stateFilter->addItem(tr("ACKed or delivered"), int(OutboxModel::StateGroup::Delivered));
    m_stateFilter->addItem(tr("NACKed, failed, retrying"), int(OutboxModel::StateGroup::Problems));
    m_count->setForegroundRole(QPalette::PlaceholderText);
    m_export->setObjectName(QStringLiteral("outboxExport"));
    m_export->setText(tr("Export…"));
    m_export->setToolTip(tr("Save the messages shown as JSON Lines (.jsonl) or CSV (.csv)"));
    m_export->setAccessibleName(tr("Export outbox"));
    bar->addWidget(m_search, 1);
    bar->addWidget(m_stateFilter);
    bar->addWidget(m_count);
    bar->addWidget(m_export);
    layout->addLayout(bar);

    m_view->setObjectName(QStringLiteral("outboxView"));
    m_view->setAccessibleName(tr("Outbox"));
    m_view->setModel(m_model);
    auto header = m_view->horizontalHeader();
    auto fit = [&](int column, const QString &sample) {
        header->resizeSection(column, m_view->fontMetrics().horizontalAdvance(sample) + 18);
    };
    fit(OutboxModel::TimeColumn, QStringLiteral("00:00:00.000"));
    fit(OutboxModel::IdColumn, QStringLiteral("m-2026…94ad-000002"));
    fit(OutboxModel::ToColumn, QStringLiteral("emu-pixel-7-re"));
    fit(OutboxModel::StateColumn, QStringLiteral("Retry waiting (3)"));
    fit(OutboxModel::RetriesColumn, QStringLiteral("Retry"));
    fit(OutboxModel::NackColumn, QStringLiteral("DEVICE_UNREGIST"));
    fit(OutboxModel::AckColumn, QStringLiteral("99 ms"));
    fit(OutboxModel::DeliveryColumn, QStringLiteral("Delivery"));
    m_view->setItemDelegateForColumn(OutboxModel::IdColumn, new ElideMiddleDelegate(m_view));

    m_details->setObjectName(QStringLiteral("outboxDetails"));
    m_details->setAccessibleName(tr("Message details"));
    m_details->setOpenLinks(false);
    m_details->setPlaceholderText(tr("Select a message to see its state history and the stanza as sent."));
    m_splitter->setObjectName(QStringLiteral("outboxSplitter"));
    m_splitter->addWidget(m_view);
    m_splitter->addWidget(m_details);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    m_splitter->setChildrenCollapsible(false);
    layout->addWidget(m_splitter, 1);

    connect(m_search, &QLineEdit::textChanged, m_model, &OutboxModel::setFilterText);
    connect(m_stateFilter, &QComboBox::currentIndexChanged, this, [this] {
        m_model->setStateGroup(OutboxModel::StateGroup(m_stateFilter->currentData().toInt()));
    });
    connect(
        m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &OutboxPage::showDetails);
    connect(m_export, &QToolButton::clicked, this, &OutboxPage::chooseExport);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &OutboxPage::updateCount);
    connect(m_model, &QAbstractItemModel::modelReset, this, &OutboxPage::updateCount);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &OutboxPage::updateCount);
    updateCount();
}

void OutboxPage::setLedger(const MessageLedger *ledger)
{
    if (m_ledger)
        disconnect(m_ledger, nullptr, this, nullptr);
    m_ledger = ledger;
    m_model->setLedger(ledger);
    if (ledger) {
        connect(ledger, &MessageLedger::entryChanged, this, [this](int index) {
            if (index == m_detailIndex)
                showDetails();
        });
    }
}

void OutboxPage::updateCount()
{
    const int shown = m_model->rowCount();
    const int total = m_model->announcedRecords();
    m_count->setText(shown == total
            ? (total == 1 ? tr("1 message") : tr("%1 messages").arg(formatCount(total)))
            : tr("%1 of %2").arg(formatCount(shown), formatCount(total)));
}

void OutboxPage::selectMessage(const QString &messageId)
{
    if (!m_ledger)
        return;
    m_model->flush();
    const int index = m_ledger->indexOf(messageId);
    if (index < 0)
        return;
    const int row = m_model->rowForLedgerIndex(index);
    if (row >= 0) {
        const QModelIndex shown = m_model->index(row, 0);
        m_view->setCurrentIndex(shown);
        m_view->scrollTo(shown);
    }
}

QString OutboxPage::detailText() const
{
    return m_details->toPlainText();
}

void OutboxPage::showDetails()
{
    const QModelIndex current = m_view->currentIndex();
    m_detailIndex = current.isValid() ? current.data(OutboxModel::LedgerIndexRole).toInt() : -1;
    if (!m_ledger || m_detailIndex < 0 || m_detailIndex >= m_ledger->size()) {
        m_details->clear();
        return;
    }
    const LedgerEntry &e = m_ledger->at(m_detailIndex);
    const QPalette pal = palette();
    const QString muted = pal.color(QPalette::PlaceholderText).name();
    QString html;
    html += QStringLiteral(
        "<h3 style='margin:0'>%1 <span style='font-weight:normal;color:%2'>→ %3</span></h3>")
                .arg(e.message.messageId.toHtmlEscaped(), muted, e.message.to.toHtmlEscaped());
    html += QStringLiteral("<p style='margin-top:4px'><b style='color:%1'>%2</b>")
                .arg(stateColor(e.state, pal).name(), stateLabel(e.state));
    if (const auto ack = e.ackLatencyMs())
        html += tr(" · ACK after %1").arg(formatLatency(*ack));
    if (const auto dlv = e.deliveryLatencyMs())
        html += tr(" · delivered after %1").arg(formatLatency(*dlv));
    html += e.attempts == 1 ? tr(" · 1 attempt") : tr(" · %1 attempts").arg(e.attempts);
    if (e.retries)
        html += e.retries == 1 ? tr(" · 1 retry") : tr(" · %1 retries").arg(e.retries);
    html += QStringLiteral("</p>");
    if (!e.nackText.isEmpty() || !e.errorDescription.isEmpty()) {
        QString meaning;
        if (e.nackCode)
            meaning = QString::fromUtf8(NackCatalogue::info(*e.nackCode).meaning);
        html += QStringLiteral("<p style='color:%1'><b>%2</b> %3<br>%4</p>")
                    .arg(stateColor(MessageState::Failed, pal).name(), e.nackText.toHtmlEscaped(),
                        meaning.toHtmlEscaped(), e.errorDescription.toHtmlEscaped());
    }
    html += QStringLiteral("<table cellspacing='0' cellpadding='2'>");
    const qint64 start = e.history.isEmpty() ? 0 : e.history.first().atMs;
    for (const LedgerTransition &t : e.history) {
        html += QStringLiteral(
            "<tr><td style='color:%1'>%2</td><td>&nbsp;%3&nbsp;</td>"
            "<td style='color:%4' align='right'>+%5&nbsp;</td><td style='color:%4'>%6</td></tr>")
                    .arg(stateColor(t.state, pal).name(), stateLabel(t.state), formatClock(t.atMs), muted,
                        formatLatency(t.atMs - start),
                        (t.connectionId ? tr("connection %1 ").arg(t.connectionId) : QString())
                            + t.detail.toHtmlEscaped());
    }
    html += QStringLiteral("</table>");
    html += QStringLiteral("<p style='margin-bottom:2px'><b>%1</b></p><pre>%2</pre>")
                .arg(tr("Message"),
                    QString::fromUtf8(QJsonDocument(e.message.toJson()).toJson(QJsonDocument::Indented))
                        .toHtmlEscaped());
    html += QStringLiteral(
        "<p style='margin-bottom:2px'><b>%1</b></p><pre style='white-space:pre-wrap'>%2</pre>")
                .arg(tr("Stanza"),
                    QString::fromUtf8(stanza::gcmMessage(e.message.messageId, e.message.toJsonBytes()))
                        .toHtmlEscaped());
    m_details->setHtml(html);
}

void OutboxPage::chooseExport()
{
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export outbox"), QStringLiteral("outbox.jsonl"), tr("JSON Lines (*.jsonl);;CSV (*.csv)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportTo(path, &error))
        Q_EMIT exportFailed(error);
}

bool OutboxPage::exportTo(const QString &path, QString *error)
{
    if (!m_ledger) {
        if (error)
            *error = tr("There is nothing to export.");
        return false;
    }
    m_model->flush();
    storage::HistoryWriter writer;
    if (!writer.open(path, storage::exportFormatForPath(path), storage::ledgerCsvColumns(), error))
        return false;
    for (int row = 0; row < m_model->rowCount(); ++row)
        writer.write(storage::ledgerEntryToJson(m_ledger->at(m_model->ledgerIndex(row))));
    const int rows = writer.rowsWritten();
    if (!writer.commit(error))
        return false;
    Q_EMIT exported(path, rows);
    return true;
}

} // namespace ccs::ui
