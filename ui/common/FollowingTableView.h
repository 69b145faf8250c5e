#pragma once

#include <QPointer>
#include <QTableView>
#include <QTimer>

namespace ccs::ui {

class BatchedTableModel;

// A dense table for fast-growing lists: fixed row heights (no per-row
// measuring), and auto-scroll to the newest row that pauses while the user
// reads (scrolled up or picked a row) and resumes at the bottom or on End.
class FollowingTableView : public QTableView
{
    Q_OBJECT
public:
    explicit FollowingTableView(QWidget *parent = nullptr);
    ~FollowingTableView() override;

    void setModel(QAbstractItemModel *model) override;
    bool isFollowing() const { return m_follow; }
    void setFollowing(bool follow);
    int unseenRows() const { return m_unseen; }

Q_SIGNALS:
    void followingChanged(bool following);
    void unseenRowsChanged(int rows);

protected:
    void keyPressEvent(QKeyEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    // A BatchedTableModel inserts at the shown pace only while a view shows it.
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void onRowsInserted(const QModelIndex &parent, int first, int last);
    void onScrolled(int value);

    bool m_follow = true;
    bool m_programmaticScroll = false;
    int m_unseen = 0;
    QTimer m_scrollTimer;
    QPointer<BatchedTableModel> m_batched;
};

} // namespace ccs::ui
