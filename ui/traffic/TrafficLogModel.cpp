#include "TrafficLogModel.h"

#include "common/Format.h"
#include "protocol/JsonCodec.h"
#include "protocol/Redaction.h"

#include <QDateTime>
#include <QDomDocument>
#include <QGuiApplication>
#include <QJsonDocument>
#include <QPalette>

namespace ccs::ui {

TrafficLogModel::TrafficLogModel(QObject *parent)
    : BatchedTableModel(parent)
{ }

QString TrafficLogModel::prettyPrint(const QString &xml)
{
    QDomDocument doc;
    // Stream fragments (<stream:stream> without its end) do not parse: show them as they are.
    if (!doc.setContent(xml, true))
        return xml;
    // Pretty-print the JSON inside <gcm> first, so the XML indentation wraps it.
    auto gcms = doc.elementsByTagName(QStringLiteral("gcm"));
    for (int i = 0; i < gcms.size(); ++i) {
        QDomElement gcm = gcms.at(i).toElement();
        const QString text = gcm.text();
        QJsonParseError error;
        const QJsonDocument json = QJsonDocument::fromJson(text.toUtf8(), &error);
        if (error.error != QJsonParseError::NoError || !json.isObject())
            continue;
        while (gcm.hasChildNodes())
            gcm.removeChild(gcm.firstChild());
        gcm.appendChild(
            doc.createTextNode(QLatin1Char('\n') + QString::fromUtf8(json.toJson(QJsonDocument::Indented))));
    }
    return doc.toString(2).trimmed();
}

void TrafficLogModel::append(TrafficDirection direction, int connectionId, const QString &xml, qint64 atMs)
{
    m_pending.push_back(Entry {
        atMs > 0 ? atMs : QDateTime::currentMSecsSinceEpoch(), m_redact(xml), connectionId, direction});
    scheduleFlush();
}

void TrafficLogModel::setCapacity(int rows)
{
    m_capacity = std::max(1, rows);
    flush();
}

void TrafficLogModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_pending.clear();
    m_dropped = 0;
    resetBatches();
    endResetModel();
}

void TrafficLogModel::setFilterText(const QString &text)
{
    if (text == m_filterText)
        return;
    flush();
    setFilterActive(!text.isEmpty(), [&] { m_filterText = text; });
}

bool TrafficLogModel::acceptsRecord(int record) const
{
    return m_rows[size_t(record)].xml.contains(m_filterText, Qt::CaseInsensitive);
}

void TrafficLogModel::beforeFlush()
{
    // Pending rows beyond the capacity would be removed at once: skip them.
    if (qsizetype(m_pending.size()) > m_capacity) {
        const auto skip = qsizetype(m_pending.size()) - m_capacity;
        m_dropped += int(skip);
        m_pending.erase(m_pending.begin(), m_pending.begin() + skip);
    }
    const qsizetype overflow = qsizetype(m_rows.size() + m_pending.size()) - m_capacity;
    if (overflow > 0) {
        m_dropped += int(overflow);
        dropFrontRecords(int(overflow), [&] { m_rows.erase(m_rows.begin(), m_rows.begin() + overflow); });
    }
    // Stored now; the flush announces them.
    for (auto &e : m_pending)
        m_rows.push_back(std::move(e));
    m_pending.clear();
}

int TrafficLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant TrafficLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case DirectionColumn:
        return tr("Dir");
    case ConnectionColumn:
        return tr("Conn");
    case StanzaColumn:
        return tr("Stanza");
    }
    return {};
}

QVariant TrafficLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int record = recordForRow(index.row());
    if (record < 0 || record >= int(m_rows.size()))
        return {};
    const Entry &e = m_rows[size_t(record)];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn:
            return formatClock(e.atMs);
        case DirectionColumn:
            return e.direction == TrafficDirection::In ? tr("← in") : tr("→ out");
        case ConnectionColumn:
            return e.connectionId;
        case StanzaColumn: {
            QString line = e.xml.left(400);
            line.replace(QLatin1Char('\n'), QLatin1Char(' '));
            return line;
        }
        }
        return {};
    case Qt::ForegroundRole:
        if (index.column() == DirectionColumn)
            return stateColor(
                e.direction == TrafficDirection::In ? MessageState::Delivered : MessageState::InFlight,
                QGuiApplication::palette());
        return {};
    case Qt::ToolTipRole:
        if (index.column() == TimeColumn)
            return QDateTime::fromMSecsSinceEpoch(e.atMs).toString(Qt::ISODateWithMs);
        return {};
    case XmlRole:
        return e.xml;
    case DirectionRole:
        return int(e.direction);
    case TimeRole:
        return e.atMs;
    }
    return {};
}

} // namespace ccs::ui
