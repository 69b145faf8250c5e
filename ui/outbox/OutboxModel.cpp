#include "OutboxModel.h"

#include "common/Format.h"
#include "protocol/NackCatalogue.h"

#include <QGuiApplication>
#include <QPalette>

namespace ccs::ui {

OutboxModel::OutboxModel(QObject *parent)
    : BatchedTableModel(parent)
{ }

void OutboxModel::setLedger(const MessageLedger *ledger)
{
    beginResetModel();
    for (const auto &c : std::as_const(m_connections))
        disconnect(c);
    m_connections.clear();
    m_ledger = ledger;
    if (ledger) {
        m_connections << connect(ledger, &MessageLedger::entryAdded, this, [this] { scheduleFlush(); });
        m_connections << connect(
            ledger, &MessageLedger::entryChanged, this, [this](int index) { markChanged(index); });
        m_connections << connect(ledger, &MessageLedger::cleared, this, [this] {
            beginResetModel();
            resetBatches();
            endResetModel();
        });
    }
    resetBatches();
    endResetModel();
}

int OutboxModel::storedRowCount() const
{
    return m_ledger ? m_ledger->size() : 0;
}

void OutboxModel::setStateGroup(StateGroup group)
{
    applyFilter(group, m_text);
}

void OutboxModel::setFilterText(const QString &text)
{
    applyFilter(m_group, text.trimmed());
}

void OutboxModel::applyFilter(StateGroup group, const QString &text)
{
    if (group == m_group && text == m_text)
        return;
    flush(); // what was pending is filtered with the rest
    setFilterActive(group != StateGroup::All || !text.isEmpty(), [&] {
        m_group = group;
        m_text = text;
    });
}

bool OutboxModel::acceptsRecord(int record) const
{
    if (!m_ledger || record >= m_ledger->size())
        return false;
    const LedgerEntry &e = m_ledger->at(record);
    const MessageState state = e.state;
    switch (m_group) {
    case StateGroup::All:
        break;
    case StateGroup::Open:
        if (isTerminal(state) || state == MessageState::Acked)
            return false;
        break;
    case StateGroup::Delivered:
        if (state != MessageState::Delivered && state != MessageState::Acked)
            return false;
        break;
    case StateGroup::Problems:
        if (state != MessageState::Nacked && state != MessageState::Failed && state != MessageState::Expired
            && state != MessageState::RetryWaiting)
            return false;
        break;
    }
    if (m_text.isEmpty())
        return true;
    for (const QString *field :
        {&e.message.messageId, &e.message.to, &e.nackText, &e.errorDescription, &e.message.collapseKey}) {
        if (field->contains(m_text, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

int OutboxModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant OutboxModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case TimeColumn:
            return tr("Time");
        case IdColumn:
            return tr("Message id");
        case ToColumn:
            return tr("To");
        case StateColumn:
            return tr("State");
        case RetriesColumn:
            return tr("Retry");
        case NackColumn:
            return tr("NACK");
        case AckColumn:
            return tr("ACK");
        case DeliveryColumn:
            return tr("Delivery");
        case ConnectionColumn:
            return tr("Conn");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case TimeColumn:
            return tr("When the message was queued");
        case RetriesColumn:
            return tr("Retries after retryable NACKs");
        case AckColumn:
            return tr("Latency from first send to the ACK");
        case DeliveryColumn:
            return tr("Latency from first send to the delivery receipt");
        case ConnectionColumn:
            return tr("The connection it last went out on");
        case NackColumn:
            return tr("NACK code or stanza error");
        }
    } else if (role == Qt::TextAlignmentRole) {
        if (section == RetriesColumn || section == AckColumn || section == DeliveryColumn
            || section == ConnectionColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

QVariant OutboxModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || !m_ledger)
        return {};
    const int ledgerIndex = recordForRow(index.row());
    if (ledgerIndex < 0 || ledgerIndex >= m_ledger->size())
        return {};
    const LedgerEntry &e = m_ledger->at(ledgerIndex);
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn:
            return formatClock(e.queuedAtMs);
        case IdColumn:
            return e.message.messageId;
        case ToColumn:
            return e.message.to;
        case StateColumn:
            if (e.state == MessageState::RetryWaiting)
                return tr("Retry waiting (%1)").arg(e.retries);
            if (e.state == MessageState::InFlight && e.connectionId)
                return tr("In flight on %1").arg(e.connectionId);
            return stateLabel(e.state);
        case RetriesColumn:
            return e.retries ? QVariant(e.retries) : QVariant();
        case NackColumn:
            if (!e.nackText.isEmpty())
                return e.nackText;
            if (e.state == MessageState::Failed && !e.errorDescription.isEmpty())
                return tr("stanza error");
            return {};
        case AckColumn:
            if (const auto l = e.ackLatencyMs())
                return formatLatency(*l);
            return {};
        case DeliveryColumn:
            if (const auto l = e.deliveryLatencyMs())
                return formatLatency(*l);
            return {};
        case ConnectionColumn:
            return e.connectionId ? QVariant(e.connectionId) : QVariant();
        }
        return {};
    case Qt::ForegroundRole:
        if (index.column() == StateColumn || index.column() == NackColumn)
            return stateColor(e.state, QGuiApplication::palette());
        return {};
    case Qt::ToolTipRole:
        if (index.column() == NackColumn && e.nackCode)
            return QStringLiteral("%1: %2\n%3")
                .arg(e.nackText, QString::fromUtf8(NackCatalogue::info(*e.nackCode).meaning),
                    e.errorDescription);
        if (!e.errorDescription.isEmpty())
            return e.errorDescription;
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == RetriesColumn || index.column() == AckColumn || index.column() == DeliveryColumn
            || index.column() == ConnectionColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case LedgerIndexRole:
        return ledgerIndex;
    case StateRole:
        return int(e.state);
    }
    return {};
}

} // namespace ccs::ui
