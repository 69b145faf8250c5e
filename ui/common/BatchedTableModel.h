#pragma once

#include <QAbstractTableModel>
#include <QTimer>

namespace ccs::ui {

// Shared by the row models that grow fast: new rows are counted and inserted
// once per event-loop pass (one beginInsertRows for the batch), changed rows
// are collected and announced as ranges, as Wireshark's packet list does.
class BatchedTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    explicit BatchedTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const final;
    // Inserts everything pending now (tests, exports).
    void flush();

Q_SIGNALS:
    void rowsAppended(int first, int last);

protected:
    // Rows the backing store holds, announced or not.
    virtual int storedRowCount() const = 0;
    void scheduleFlush();
    void markChanged(int row);
    // Call inside begin/endResetModel or when the store is cleared.
    void resetBatches();

private:
    int m_visibleRows = 0;
    int m_changedMin = -1;
    int m_changedMax = -1;
    QTimer m_timer;
};

} // namespace ccs::ui
