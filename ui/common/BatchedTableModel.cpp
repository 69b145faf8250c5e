#include "BatchedTableModel.h"

#include <algorithm>

namespace ccs::ui {

namespace {
// Above this many runs of adjacent rows moving in or out of the filter at
// once, one reset is cheaper for the views than that many removals and
// inserts (each costs the views time in proportion to all their rows).
// Messages change state mostly in the order they were sent, so the rows that
// leave a filter ("Open") in one batch form a run or a few, however many.
constexpr size_t kMaxMoves = 64;
} // namespace

BatchedTableModel::BatchedTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &BatchedTableModel::flush);
}

int BatchedTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_rows;
}

bool BatchedTableModel::acceptsRecord(int) const
{
    return true;
}

int BatchedTableModel::batchInterval() const
{
    return !m_views.isEmpty() && m_shownViews.isEmpty() ? kHiddenIntervalMs : kBatchIntervalMs;
}

void BatchedTableModel::scheduleFlush()
{
    if (m_timer.isActive())
        return;
    const int interval = batchInterval();
    const qint64 since = m_sinceFlush.isValid() ? m_sinceFlush.elapsed() : interval;
    m_timer.start(int(std::max<qint64>(0, interval - since)));
}

void BatchedTableModel::setViewShown(const QObject *view, bool shown)
{
    m_views.insert(view);
    const bool wasShown = !m_shownViews.isEmpty();
    if (shown)
        m_shownViews.insert(view);
    else
        m_shownViews.remove(view);
    // Shown again: what piled up while hidden goes out now, not at the hidden pace.
    if (!wasShown && !m_shownViews.isEmpty() && m_timer.isActive())
        m_timer.start(0);
}

void BatchedTableModel::detachView(const QObject *view)
{
    m_views.remove(view);
    m_shownViews.remove(view);
}

void BatchedTableModel::markChanged(int record)
{
    if (record < 0 || record >= m_considered)
        return; // not announced yet: it will be read fresh when it is
    if (m_filtered) {
        m_changed.push_back(record);
    } else {
        m_changedMin = m_changedMin < 0 ? record : std::min(m_changedMin, record);
        m_changedMax = std::max(m_changedMax, record);
    }
    scheduleFlush();
}

int BatchedTableModel::recordForRow(int row) const
{
    if (row < 0 || row >= m_rows)
        return -1;
    return m_filtered ? m_visible[size_t(row)] : row;
}

int BatchedTableModel::rowForRecord(int record) const
{
    if (record < 0 || record >= m_considered)
        return -1;
    if (!m_filtered)
        return record < m_rows ? record : -1;
    const auto pos = std::lower_bound(m_visible.begin(), m_visible.end(), record);
    return pos != m_visible.end() && *pos == record ? int(pos - m_visible.begin()) : -1;
}

void BatchedTableModel::rebuildVisible()
{
    m_visible.clear();
    m_considered = storedRowCount();
    if (m_filtered) {
        for (int i = 0; i < m_considered; ++i) {
            if (acceptsRecord(i))
                m_visible.push_back(i);
        }
    }
    m_rows = m_filtered ? int(m_visible.size()) : m_considered;
    m_changed.clear();
    m_changedMin = m_changedMax = -1;
}

void BatchedTableModel::resetBatches()
{
    m_timer.stop();
    rebuildVisible();
}

void BatchedTableModel::setFilterActive(bool filtered, const std::function<void()> &apply)
{
    beginResetModel();
    if (apply)
        apply();
    m_filtered = filtered;
    resetBatches();
    endResetModel();
}

void BatchedTableModel::dropFrontRecords(int count, const std::function<void()> &erase)
{
    if (count <= 0)
        return;
    int rowsGone = 0;
    if (m_filtered)
        rowsGone = int(std::lower_bound(m_visible.begin(), m_visible.end(), count) - m_visible.begin());
    else
        rowsGone = std::min(count, m_rows);
    if (rowsGone > 0)
        beginRemoveRows({}, 0, rowsGone - 1);
    erase();
    if (m_filtered) {
        m_visible.erase(m_visible.begin(), m_visible.begin() + rowsGone);
        for (int &record : m_visible)
            record -= count;
        std::erase_if(m_changed, [count](int &record) { return (record -= count) < 0; });
    } else if (m_changedMin >= 0) {
        m_changedMin = std::max(0, m_changedMin - count);
        m_changedMax -= count;
        if (m_changedMax < 0)
            m_changedMin = m_changedMax = -1;
    }
    m_rows -= rowsGone;
    m_considered = std::max(0, m_considered - count);
    if (rowsGone > 0)
        endRemoveRows();
}

void BatchedTableModel::emitChangedRows(int first, int last)
{
    Q_EMIT dataChanged(
        index(first, 0), index(last, columnCount() - 1), {Qt::DisplayRole, Qt::ForegroundRole, Qt::ToolTipRole});
}

void BatchedTableModel::applyFilteredChanges()
{
    std::sort(m_changed.begin(), m_changed.end());
    m_changed.erase(std::unique(m_changed.begin(), m_changed.end()), m_changed.end());
    std::vector<int> leaving, arriving;
    int firstRow = -1, lastRow = -1;
    for (const int record : m_changed) {
        const int row = rowForRecord(record);
        const bool accepted = acceptsRecord(record);
        if (row >= 0 && accepted) {
            firstRow = firstRow < 0 ? row : std::min(firstRow, row);
            lastRow = std::max(lastRow, row);
        } else if (row >= 0) {
            leaving.push_back(record);
        } else if (accepted) {
            arriving.push_back(record);
        }
    }
    m_changed.clear();
    if (firstRow >= 0)
        emitChangedRows(firstRow, lastRow);
    if (leaving.empty() && arriving.empty())
        return;
    // Runs of rows: leaving ones adjacent in the view, arriving ones with no
    // shown record between them (they land side by side).
    struct Run {
        int first, count;
    };
    std::vector<Run> removals, inserts;
    for (const int record : leaving) {
        const int row = rowForRecord(record);
        if (!removals.empty() && removals.back().first + removals.back().count == row)
            ++removals.back().count;
        else
            removals.push_back({row, 1});
    }
    int lastSlot = -1;
    for (const int record : arriving) {
        const int slot = int(std::lower_bound(m_visible.begin(), m_visible.end(), record) - m_visible.begin());
        if (!inserts.empty() && slot == lastSlot)
            ++inserts.back().count;
        else
            inserts.push_back({record, 1}); // first: the run's first record
        lastSlot = slot;
    }
    if (removals.size() + inserts.size() > kMaxMoves) {
        beginResetModel();
        const int considered = m_considered;
        rebuildVisible();
        // Only what was announced: newer records are announced by the flush.
        m_considered = considered;
        std::erase_if(m_visible, [considered](int r) { return r >= considered; });
        m_rows = int(m_visible.size());
        endResetModel();
        return;
    }
    for (auto it = removals.rbegin(); it != removals.rend(); ++it) {
        beginRemoveRows({}, it->first, it->first + it->count - 1);
        m_visible.erase(m_visible.begin() + it->first, m_visible.begin() + it->first + it->count);
        m_rows -= it->count;
        endRemoveRows();
    }
    auto next = arriving.cbegin();
    for (const Run &run : inserts) {
        const int row = int(std::lower_bound(m_visible.begin(), m_visible.end(), run.first) - m_visible.begin());
        beginInsertRows({}, row, row + run.count - 1);
        m_visible.insert(m_visible.begin() + row, next, next + run.count);
        next += run.count;
        m_rows += run.count;
        endInsertRows();
    }
}

void BatchedTableModel::flush()
{
    m_timer.stop();
    m_sinceFlush.start();
    beforeFlush();
    if (m_filtered) {
        applyFilteredChanges();
    } else if (m_changedMin >= 0 && m_changedMin < m_rows) {
        emitChangedRows(m_changedMin, std::min(m_changedMax, m_rows - 1));
    }
    m_changedMin = m_changedMax = -1;

    const int stored = storedRowCount();
    if (stored <= m_considered)
        return;
    int added = 0;
    if (m_filtered) {
        std::vector<int> fresh;
        for (int i = m_considered; i < stored; ++i) {
            if (acceptsRecord(i))
                fresh.push_back(i);
        }
        m_considered = stored;
        added = int(fresh.size());
        if (added > 0) {
            beginInsertRows({}, m_rows, m_rows + added - 1);
            m_visible.insert(m_visible.end(), fresh.begin(), fresh.end());
            m_rows += added;
            endInsertRows();
        }
    } else {
        added = stored - m_considered;
        beginInsertRows({}, m_rows, m_rows + added - 1);
        m_considered = m_rows = stored;
        endInsertRows();
    }
    if (added > 0)
        Q_EMIT rowsAppended(added);
}

} // namespace ccs::ui
