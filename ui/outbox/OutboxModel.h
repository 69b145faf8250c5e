#pragma once

#include "client/MessageLedger.h"
#include "common/BatchedTableModel.h"

#include <QPointer>

namespace ccs::ui {

// Every downstream message of the session's ledger, one row per ledger index.
class OutboxModel : public BatchedTableModel
{
    Q_OBJECT
public:
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
    enum Role { LedgerIndexRole = Qt::UserRole + 1, StateRole, SearchTextRole };

    explicit OutboxModel(QObject *parent = nullptr);

    void setLedger(const MessageLedger *ledger);
    const MessageLedger *ledger() const { return m_ledger; }

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    int storedRowCount() const override;

private:
    QPointer<const MessageLedger> m_ledger;
    QList<QMetaObject::Connection> m_connections;
};

} // namespace ccs::ui
