#include "BatchedTableModel.h"

namespace ccs::ui {

BatchedTableModel::BatchedTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{
    // 0 ms: once per event-loop pass, after the burst that queued the rows.
    m_timer.setSingleShot(true);
    m_timer.setInterval(0);
    connect(&m_timer, &QTimer::timeout, this, &BatchedTableModel::flush);
}

int BatchedTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_visibleRows;
}

void BatchedTableModel::scheduleFlush()
{
    if (!m_timer.isActive())
        m_timer.start();
}

void BatchedTableModel::markChanged(int row)
{
    if (row >= m_visibleRows)
        return; // not announced yet: it will be read fresh when inserted
    m_changedMin = m_changedMin < 0 ? row : std::min(m_changedMin, row);
    m_changedMax = std::max(m_changedMax, row);
    scheduleFlush();
}

void BatchedTableModel::resetBatches()
{
    m_timer.stop();
    m_visibleRows = storedRowCount();
    m_changedMin = m_changedMax = -1;
}

void BatchedTableModel::flush()
{
    m_timer.stop();
    if (m_changedMin >= 0 && m_changedMin < m_visibleRows) {
        const int last = std::min(m_changedMax, m_visibleRows - 1);
        Q_EMIT dataChanged(index(m_changedMin, 0), index(last, columnCount() - 1),
            {Qt::DisplayRole, Qt::ForegroundRole, Qt::ToolTipRole});
    }
    m_changedMin = m_changedMax = -1;
    const int stored = storedRowCount();
    if (stored > m_visibleRows) {
        const int first = m_visibleRows;
        beginInsertRows({}, first, stored - 1);
        m_visibleRows = stored;
        endInsertRows();
        Q_EMIT rowsAppended(first, stored - 1);
    }
}

} // namespace ccs::ui
