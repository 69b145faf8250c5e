#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSplitter;
class QToolButton;

namespace ccs::ui {

class FollowingTableView;
class TrafficLogModel;

// Every stanza in and out: searchable, pretty-printed, exportable, capped.
class TrafficPage : public QWidget
{
    Q_OBJECT
public:
    explicit TrafficPage(QWidget *parent = nullptr);

    TrafficLogModel *model() const { return m_model; }
    FollowingTableView *view() const { return m_view; }
    QSplitter *splitter() const { return m_splitter; }
    // The stanzas shown, as text: one header line and the pretty XML each.
    bool exportTo(const QString &path, QString *error = nullptr);

Q_SIGNALS:
    void exported(const QString &path, int rows);
    void exportFailed(const QString &error);

private:
    void showDetails();
    void updateCount();

    TrafficLogModel *m_model;
    QLineEdit *m_search;
    QLabel *m_count;
    QToolButton *m_clear;
    QToolButton *m_export;
    FollowingTableView *m_view;
    QPlainTextEdit *m_details;
    QSplitter *m_splitter;
};

} // namespace ccs::ui
