#pragma once

#include <QTimer>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSplitter;
class QToolButton;

namespace ccs::ui {

class FollowingTableView;
class InboxModel;

// The inbox: upstream messages as they arrive (already ACKed by the session),
// filters by device, category and text, a pretty-printed detail pane, and
// auto-scroll that pauses while the user reads.
class InboxPage : public QWidget
{
    Q_OBJECT
public:
    explicit InboxPage(QWidget *parent = nullptr);

    InboxModel *model() const { return m_model; }
    FollowingTableView *view() const { return m_view; }
    QSplitter *splitter() const { return m_splitter; }
    bool exportTo(const QString &path, QString *error = nullptr);
    QString detailText() const;

Q_SIGNALS:
    void exported(const QString &path, int rows);
    void exportFailed(const QString &error);

private:
    void applyFilter();
    void refreshFilterLists();
    void showDetails();
    void updateStatus();
    void chooseExport();

    InboxModel *m_model;
    QComboBox *m_device;
    QComboBox *m_category;
    QLineEdit *m_search;
    QLabel *m_count;
    QToolButton *m_follow;
    QToolButton *m_export;
    FollowingTableView *m_view;
    QPlainTextEdit *m_details;
    QSplitter *m_splitter;
    QTimer m_filterTimer;
    QTimer m_statusTimer;
};

} // namespace ccs::ui
