#pragma once

#include "client/MessageLedger.h"
#include "common/BatchedTableModel.h"

#include <QPointer>

namespace ccs::ui {

// Every downstream message of the session's ledger, one record per ledger
// index, filtered inside the model by state group and text (a million rows
// never go through a proxy).
class OutboxModel : public BatchedTableModel
{
    Q_OBJECT
public:
    enum class StateGroup { All, Open, Delivered, Problems };

    enum Column {
        TimeColumn,
        IdColumn,
        ToColumn,
        StateColumn,
        RetriesColumn,
        NackColumn,
        AckColumn,
        DeliveryColumn,
        ConnectionColumn,
        ColumnCount
    };
    enum Role { LedgerIndexRole = Qt::UserRole + 1, StateRole };

    explicit OutboxModel(QObject *parent = nullptr);

    void setLedger(const MessageLedger *ledger);
    const MessageLedger *ledger() const { return m_ledger; }

    void setStateGroup(StateGroup group);
    StateGroup stateGroup() const { return m_group; }
    // Case-insensitive, in the id, the recipient, the NACK code, the error and the collapse key.
    void setFilterText(const QString &text);
    QString filterText() const { return m_text; }
    // The ledger index shown on a row, or -1.
    int ledgerIndex(int row) const { return recordForRow(row); }
    // The row showing a ledger index, or -1.
    int rowForLedgerIndex(int index) const { return rowForRecord(index); }

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    int storedRowCount() const override;
    bool acceptsRecord(int record) const override;

private:
    void applyFilter(StateGroup group, const QString &text);

    StateGroup m_group = StateGroup::All;
    QString m_text;
    QPointer<const MessageLedger> m_ledger;
    QList<QMetaObject::Connection> m_connections;
};

} // namespace ccs::ui
