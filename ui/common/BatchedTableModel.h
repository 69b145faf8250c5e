#pragma once

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QSet>
#include <QTimer>

#include <functional>
#include <vector>

namespace ccs::ui {

// The one policy of the tables that grow fast (outbox, inbox, traffic), as
// Wireshark's packet list does it: the records live in the derived model's
// own store, the filter is applied inside the model (a vector of the visible
// record indices, no proxy that remaps every row on each insert), and new rows
// are announced in batches by one timer whose pace the views set: the first
// row after a quiet spell goes out on the next event-loop pass, then at most
// one insert (one layout and repaint) per kBatchIntervalMs while a view shows
// the model, per kHiddenIntervalMs while its views are all hidden (another
// tab), and at once when one is shown again. A model no view has registered
// with (tests, exports) keeps the shown pace. Changed records are announced as
// one range, or, while filtered, re-tested against the filter and moved in or
// out of the visible rows.
class BatchedTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    // 100 ms: measured by ccs-bench for the inbox (8.6 s -> 1.8 s of CPU for
    // 200,000 messages at 18,000/s against one insert per event-loop pass).
    static constexpr int kBatchIntervalMs = 100;
    static constexpr int kHiddenIntervalMs = 1000;

    explicit BatchedTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const final;
    // Announces everything pending now (tests, exports, selection by id).
    void flush();

    bool isFiltered() const { return m_filtered; }
    // Records the views know about, shown or filtered out.
    int announcedRecords() const { return m_considered; }
    // The record index of a visible row, or -1.
    int recordForRow(int row) const;
    // The visible row of a record, or -1 (filtered out or not announced yet).
    int rowForRecord(int record) const;
    // A view tells whether it is on screen (FollowingTableView does, from its
    // show and hide events); detachView() when it goes or shows another model.
    void setViewShown(const QObject *view, bool shown);
    void detachView(const QObject *view);
    int batchInterval() const;

    // Memory held by the filter's row index.
    qsizetype visibleIndexBytes() const { return qsizetype(m_visible.capacity() * sizeof(int)); }

Q_SIGNALS:
    void rowsAppended(int count);

protected:
    // Records the backing store holds, announced or not; indices 0..n-1.
    virtual int storedRowCount() const = 0;
    // Whether the current filter shows a record (only asked while filtered).
    virtual bool acceptsRecord(int record) const;
    // Called at the start of each flush: a capped store trims itself here.
    virtual void beforeFlush() { }

    // New records were stored.
    void scheduleFlush();
    // A stored record changed.
    void markChanged(int record);
    // Applies new filter criteria: `apply` changes them, then every record is re-tested.
    void setFilterActive(bool filtered, const std::function<void()> &apply = {});
    // The store was rebuilt or cleared: call between begin/endResetModel.
    void resetBatches();
    // The store drops its oldest `count` records (every index moves down by
    // `count`); `erase` does it between begin/endRemoveRows.
    void dropFrontRecords(int count, const std::function<void()> &erase);

private:
    void rebuildVisible();
    void applyFilteredChanges();
    void emitChangedRows(int first, int last);

    bool m_filtered = false;
    std::vector<int> m_visible; // record indices of the rows, while filtered
    int m_considered = 0; // records flush() has looked at
    int m_rows = 0; // rows the views know
    int m_changedMin = -1, m_changedMax = -1; // changed records, unfiltered
    std::vector<int> m_changed; // changed records, filtered
    QTimer m_timer;
    QElapsedTimer m_sinceFlush;
    QSet<const QObject *> m_views, m_shownViews;
};

} // namespace ccs::ui
