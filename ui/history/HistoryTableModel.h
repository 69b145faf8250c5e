#pragma once

#include "history/HistoryStore.h"

#include <QAbstractTableModel>

namespace ccs::ui {

// A page-by-page view of a history search: the first page on setQuery(), the
// next ones when the view scrolls near the end (fetchMore, keyset cursor), so a
// million stored messages are never loaded at once.
class HistoryTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        TimeColumn,
        KindColumn,
        MessageIdColumn,
        TokenColumn,
        StateColumn,
        NackColumn,
        ConnectionColumn,
        PayloadColumn,
        ColumnCount
    };
    static constexpr int kPageSize = 200;

    explicit HistoryTableModel(QObject *parent = nullptr);

    void setStore(history::HistoryStore *store) { m_store = store; }
    // Runs the search from its first page. false: the store said why (lastError()).
    bool setQuery(const history::HistoryQuery &query);
    void clear();
    QString lastError() const { return m_lastError; }
    const history::HistoryQuery &query() const { return m_query; }
    const history::HistoryRow &rowAt(int row) const { return m_rows.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

private:
    history::HistoryStore *m_store = nullptr;
    history::HistoryQuery m_query;
    QVector<history::HistoryRow> m_rows;
    bool m_more = false;
    bool m_announcing = false; // inside endResetModel / endInsertRows
    QString m_lastError;
};

} // namespace ccs::ui
