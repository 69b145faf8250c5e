#pragma once

#include "client/MessageLedger.h"

#include <QPointer>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QSplitter;
class QTextBrowser;
class QToolButton;

namespace ccs::ui {

class FollowingTableView;
class OutboxModel;

// The outbox: every downstream message, its state and latencies; a detail
// pane with the message, its state history and the stanza.
class OutboxPage : public QWidget
{
    Q_OBJECT
public:
    explicit OutboxPage(QWidget *parent = nullptr);

    void setLedger(const MessageLedger *ledger);
    OutboxModel *model() const { return m_model; }
    FollowingTableView *view() const { return m_view; }
    QSplitter *splitter() const { return m_splitter; }
    // Writes the rows shown (after filtering) as JSON Lines or CSV, by extension.
    bool exportTo(const QString &path, QString *error = nullptr);
    void selectMessage(const QString &messageId);
    QString detailText() const;

Q_SIGNALS:
    void exported(const QString &path, int rows);
    void exportFailed(const QString &error);

private:
    void showDetails();
    void chooseExport();
    void updateCount();

    QPointer<const MessageLedger> m_ledger;
    OutboxModel *m_model;
    QLineEdit *m_search;
    QComboBox *m_stateFilter;
    QToolButton *m_export;
    QLabel *m_count;
    FollowingTableView *m_view;
    QTextBrowser *m_details;
    QSplitter *m_splitter;
    int m_detailIndex = -1;
};

} // namespace ccs::ui
