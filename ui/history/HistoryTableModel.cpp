#include "HistoryTableModel.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>

namespace ccs::ui {

HistoryTableModel::HistoryTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

bool HistoryTableModel::setQuery(const history::HistoryQuery &query)
{
    m_announcing = true;
    beginResetModel();
    m_query = query;
    m_query.limit = kPageSize;
    m_query.after.reset();
    m_rows.clear();
    m_more = false;
    bool ok = true;
    if (m_store) {
        ok = m_store->search(m_query, &m_rows);
        m_lastError = ok ? QString() : m_store->lastError();
        m_more = ok && m_rows.size() == kPageSize;
    }
    // A view may ask for more while the reset is still being announced; that waits
    // until every listener has seen the reset.
    endResetModel();
    m_announcing = false;
    return ok;
}

void HistoryTableModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_more = false;
    endResetModel();
}

int HistoryTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int HistoryTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

bool HistoryTableModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_more && m_store;
}

void HistoryTableModel::fetchMore(const QModelIndex &parent)
{
    if (m_announcing) {
        QMetaObject::invokeMethod(
            this, [this] { fetchMore({}); }, Qt::QueuedConnection);
        return;
    }
    if (!canFetchMore(parent) || m_rows.isEmpty())
        return;
    history::HistoryQuery next = m_query;
    next.after = history::HistoryStore::cursorAfter(m_rows.last());
    QVector<history::HistoryRow> page;
    if (!m_store->search(next, &page)) {
        m_lastError = m_store->lastError();
        m_more = false;
        return;
    }
    m_more = page.size() == kPageSize;
    if (page.isEmpty())
        return;
    // A view asks for the next page while this one is being announced: that waits.
    m_announcing = true;
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + page.size() - 1));
    m_rows.append(page);
    endInsertRows();
    m_announcing = false;
}

QVariant HistoryTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const history::HistoryRow &row = m_rows.at(index.row());
    if (role == Qt::ToolTipRole && index.column() == PayloadColumn)
        return row.json;
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case TimeColumn:
        return QDateTime::fromMSecsSinceEpoch(row.atMs).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
    case KindColumn:
        return row.kind == history::RowKind::Downstream ? tr("sent")
            : row.kind == history::RowKind::Upstream    ? tr("received")
                                                        : tr("receipt");
    case MessageIdColumn:
        return row.messageId;
    case TokenColumn:
        return row.token;
    case StateColumn:
        return row.state;
    case NackColumn:
        return row.nackCode;
    case ConnectionColumn:
        return row.connection ? QVariant(row.connection) : QVariant();
    case PayloadColumn: {
        // The data of the message, on one line (display strings are made only for visible rows).
        const QJsonObject object = QJsonDocument::fromJson(row.json.toUtf8()).object();
        const QJsonValue data = object.value(QLatin1String("data"));
        if (data.isObject())
            return QString::fromUtf8(QJsonDocument(data.toObject()).toJson(QJsonDocument::Compact));
        return row.kind == history::RowKind::Receipt ? tr("for %1").arg(row.originalMessageId) : QString();
    }
    }
    return {};
}

QVariant HistoryTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case KindColumn:
        return tr("Kind");
    case MessageIdColumn:
        return tr("Message ID");
    case TokenColumn:
        return tr("Device");
    case StateColumn:
        return tr("State");
    case NackColumn:
        return tr("NACK");
    case ConnectionColumn:
        return tr("Conn.");
    case PayloadColumn:
        return tr("Data");
    }
    return {};
}

} // namespace ccs::ui
