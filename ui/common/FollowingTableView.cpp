#include "FollowingTableView.h"

#include "BatchedTableModel.h"

#include <QHeaderView>
#include <QKeyEvent>
#include <QScrollBar>

namespace ccs::ui {

FollowingTableView::FollowingTableView(QWidget *parent)
    : QTableView(parent)
{
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setAlternatingRowColors(true);
    setShowGrid(false);
    setWordWrap(false);
    setTextElideMode(Qt::ElideRight);
    setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    verticalHeader()->hide();
    // Uniform row heights: the view never measures rows, so a million stay cheap.
    verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    horizontalHeader()->setHighlightSections(false);
    horizontalHeader()->setStretchLastSection(true);
    horizontalHeader()->setSectionsMovable(true);
    // Scroll at most every 50 ms however fast rows arrive.
    m_scrollTimer.setSingleShot(true);
    m_scrollTimer.setInterval(50);
    connect(&m_scrollTimer, &QTimer::timeout, this, [this] {
        m_programmaticScroll = true;
        scrollToBottom();
        m_programmaticScroll = false;
    });
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, &FollowingTableView::onScrolled);
}

FollowingTableView::~FollowingTableView()
{
    if (m_batched)
        m_batched->detachView(this);
}

void FollowingTableView::setModel(QAbstractItemModel *model)
{
    if (this->model())
        disconnect(this->model(), nullptr, this, nullptr);
    if (m_batched)
        m_batched->detachView(this);
    QTableView::setModel(model);
    m_batched = qobject_cast<BatchedTableModel *>(model);
    if (m_batched)
        m_batched->setViewShown(this, isVisible());
    if (model)
        connect(model, &QAbstractItemModel::rowsInserted, this, &FollowingTableView::onRowsInserted);
}

void FollowingTableView::showEvent(QShowEvent *event)
{
    QTableView::showEvent(event);
    if (m_batched)
        m_batched->setViewShown(this, true);
}

void FollowingTableView::hideEvent(QHideEvent *event)
{
    QTableView::hideEvent(event);
    if (m_batched)
        m_batched->setViewShown(this, false);
}

void FollowingTableView::setFollowing(bool follow)
{
    if (follow) {
        m_unseen = 0;
        Q_EMIT unseenRowsChanged(0);
        m_scrollTimer.start();
    }
    if (m_follow == follow)
        return;
    m_follow = follow;
    Q_EMIT followingChanged(follow);
}

void FollowingTableView::onRowsInserted(const QModelIndex &parent, int first, int last)
{
    if (parent.isValid())
        return;
    if (m_follow) {
        if (!m_scrollTimer.isActive())
            m_scrollTimer.start();
    } else {
        m_unseen += last - first + 1;
        Q_EMIT unseenRowsChanged(m_unseen);
    }
}

void FollowingTableView::onScrolled(int value)
{
    if (m_programmaticScroll)
        return;
    const bool atBottom = value >= verticalScrollBar()->maximum();
    if (atBottom && !m_follow && !selectionModel()->hasSelection())
        setFollowing(true);
    else if (!atBottom && m_follow)
        setFollowing(false);
}

void FollowingTableView::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_End && event->modifiers() == Qt::NoModifier) {
        clearSelection();
        setFollowing(true);
        return;
    }
    QTableView::keyPressEvent(event);
}

void FollowingTableView::mousePressEvent(QMouseEvent *event)
{
    QTableView::mousePressEvent(event);
    // Picking a row means reading it: stop moving the list under the reader.
    if (selectionModel() && selectionModel()->hasSelection())
        setFollowing(false);
}

} // namespace ccs::ui
