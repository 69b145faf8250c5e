#include "InboxModel.h"

#include "common/Format.h"
#include "protocol/JsonCodec.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace ccs::ui {

namespace {

size_t idHash(QByteArrayView id)
{
    return qHash(id, size_t(0x9e3779b97f4a7c15ull));
}

QString valueText(const QJsonValue &value)
{
    if (value.isString())
        return value.toString();
    if (value.isObject())
        return QString::fromUtf8(json::serialize(value.toObject()));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    return value.toVariant().toString();
}

} // namespace

InboxModel::InboxModel(QObject *parent)
    : BatchedTableModel(parent)
{ }

quint32 InboxModel::intern(
    QStringList &list, QHash<QString, quint32> &index, const QString &value, bool *added)
{
    const auto it = index.constFind(value);
    if (it != index.constEnd())
        return *it;
    const quint32 i = quint32(list.size());
    list.append(value);
    index.insert(value, i);
    if (added)
        *added = true;
    return i;
}

void InboxModel::append(
    const UpstreamMessage &message, int connectionId, qint64 receivedAtMs, qint64 ackedAtMs)
{
    // Everything but from/category/message_id, which the record keeps apart.
    QJsonObject rest = message.extra;
    rest.insert(QStringLiteral("data"), message.data);
    if (message.timeToLive)
        rest.insert(QStringLiteral("time_to_live"), double(*message.timeToLive));
    const QByteArray restJson = json::serialize(rest);
    QByteArray id = message.messageId.toUtf8();
    if (id.size() > 0xffff)
        id.truncate(0xffff);

    Record r;
    r.receivedMs = receivedAtMs;
    r.idLength = quint16(id.size());
    r.restLength = quint32(restJson.size());
    r.text = m_arena.append(id + restJson); // one span: the id, then the rest
    bool newDevice = false;
    r.device = intern(m_devices, m_deviceIndex, message.from, &newDevice);
    r.category = intern(m_categories, m_categoryIndex, message.category, &newDevice);
    r.ackDelayMs = ackedAtMs > 0 ? qint32(std::clamp<qint64>(ackedAtMs - receivedAtMs, 0, INT32_MAX)) : -1;
    r.connection = quint16(std::clamp(connectionId, 0, 0xffff));
    m_byId.insert(idHash(id), quint32(m_records.size()));
    m_records.push_back(r);
    if (newDevice)
        Q_EMIT devicesChanged();
    scheduleFlush();
}

int InboxModel::findRecord(const QString &from, const QString &messageId) const
{
    const QByteArray id = messageId.toUtf8();
    const auto device = m_deviceIndex.constFind(from);
    if (!from.isEmpty() && device == m_deviceIndex.constEnd())
        return -1;
    const auto range = m_byId.equal_range(idHash(id));
    int found = -1;
    for (auto it = range.first; it != range.second; ++it) {
        const Record &r = m_records[*it];
        if (idBytes(r) != QByteArrayView(id) || (!from.isEmpty() && r.device != *device))
            continue;
        // The hash keeps the newest first; the oldest match is the first one received.
        if (found < 0 || int(*it) < found)
            found = int(*it);
    }
    return found;
}

bool InboxModel::markDuplicate(const QString &from, const QString &messageId, int timesSeen)
{
    const int found = findRecord(from, messageId);
    if (found < 0)
        return false;
    Record &r = m_records[size_t(found)];
    r.timesSeen = quint16(std::clamp(timesSeen, int(r.timesSeen) + 1, 0xffff));
    ++m_duplicates;
    const int row = rowForRecord(found);
    if (row >= 0)
        Q_EMIT dataChanged(index(row, SeenColumn), index(row, SeenColumn), {Qt::DisplayRole});
    return true;
}

void InboxModel::clear()
{
    beginResetModel();
    m_records.clear();
    m_records.shrink_to_fit();
    m_arena.clear();
    m_byId.clear();
    m_duplicates = 0;
    m_summaryCache.clear();
    resetBatches();
    endResetModel();
}

bool InboxModel::accepts(const Record &record) const
{
    if (!m_filter.device.isEmpty()) {
        const QString &token = m_devices.at(record.device);
        if (token != m_filter.device && m_deviceNames.value(token) != m_filter.device)
            return false;
    }
    if (!m_filter.category.isEmpty() && m_categories.at(record.category) != m_filter.category)
        return false;
    if (!m_filter.text.isEmpty()) {
        const QString &token = m_devices.at(record.device);
        if (token.contains(m_filter.text, Qt::CaseInsensitive))
            return true;
        const QString text
            = QString::fromUtf8(m_arena.view(record.text, record.idLength + record.restLength));
        return text.contains(m_filter.text, Qt::CaseInsensitive);
    }
    return true;
}

void InboxModel::setFilter(const Filter &filter)
{
    flush(); // what was pending is filtered with the rest
    setFilterActive(!filter.isEmpty(), [&] { m_filter = filter; });
}

void InboxModel::setDeviceNames(const QHash<QString, QString> &names)
{
    m_deviceNames = names;
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, DeviceColumn), index(rowCount() - 1, DeviceColumn), {Qt::DisplayRole});
}

int InboxModel::rowForMessageId(const QString &messageId, const QString &from) const
{
    return rowForRecord(findRecord(from, messageId));
}

QByteArrayView InboxModel::idBytes(const Record &record) const
{
    return m_arena.view(record.text, record.idLength);
}

QByteArrayView InboxModel::restBytes(const Record &record) const
{
    return m_arena.view(record.text, record.idLength + record.restLength).sliced(record.idLength);
}

UpstreamMessage InboxModel::message(int recordIndex) const
{
    UpstreamMessage m;
    if (recordIndex < 0 || recordIndex >= int(m_records.size()))
        return m;
    const Record &r = m_records[size_t(recordIndex)];
    QJsonObject object = QJsonDocument::fromJson(restBytes(r).toByteArray()).object();
    object.insert(QStringLiteral("from"), m_devices.at(r.device));
    object.insert(QStringLiteral("category"), m_categories.at(r.category));
    object.insert(QStringLiteral("message_id"), QString::fromUtf8(idBytes(r)));
    m.from = m_devices.at(r.device);
    m.category = m_categories.at(r.category);
    m.messageId = QString::fromUtf8(idBytes(r));
    m.data = object.value(QStringLiteral("data")).toObject();
    if (object.contains(QStringLiteral("time_to_live")))
        m.timeToLive = qint64(object.value(QStringLiteral("time_to_live")).toDouble());
    for (auto it = object.begin(); it != object.end(); ++it) {
        static const QStringList known {QStringLiteral("from"), QStringLiteral("category"),
            QStringLiteral("message_id"), QStringLiteral("data"), QStringLiteral("time_to_live")};
        if (!known.contains(it.key()))
            m.extra.insert(it.key(), it.value());
    }
    return m;
}

qint64 InboxModel::receivedAtMs(int recordIndex) const
{
    return recordIndex >= 0 && recordIndex < int(m_records.size()) ? m_records[size_t(recordIndex)].receivedMs
                                                                   : 0;
}

qint64 InboxModel::ackedAtMs(int recordIndex) const
{
    if (recordIndex < 0 || recordIndex >= int(m_records.size()))
        return 0;
    const Record &r = m_records[size_t(recordIndex)];
    return r.ackDelayMs < 0 ? 0 : r.receivedMs + r.ackDelayMs;
}

int InboxModel::connectionId(int recordIndex) const
{
    return recordIndex >= 0 && recordIndex < int(m_records.size()) ? m_records[size_t(recordIndex)].connection
                                                                   : 0;
}

int InboxModel::timesSeen(int recordIndex) const
{
    return recordIndex >= 0 && recordIndex < int(m_records.size()) ? m_records[size_t(recordIndex)].timesSeen
                                                                   : 0;
}

qsizetype InboxModel::approximateBytes() const
{
    return qsizetype(m_records.capacity() * sizeof(Record)) + m_arena.bytesReserved()
        + m_byId.capacity() * qsizetype(sizeof(size_t) + sizeof(quint32) + 16) + visibleIndexBytes();
}

QString InboxModel::summary(int recordIndex) const
{
    if (QString *cached = m_summaryCache.object(quint32(recordIndex)))
        return *cached;
    const Record &r = m_records[size_t(recordIndex)];
    const QJsonObject object = QJsonDocument::fromJson(restBytes(r).toByteArray()).object();
    const QJsonObject data = object.value(QStringLiteral("data")).toObject();
    QString text;
    for (auto it = data.begin(); it != data.end() && text.size() < 160; ++it) {
        if (!text.isEmpty())
            text += QStringLiteral("  ");
        text += it.key() + QLatin1Char('=') + valueText(it.value()).left(80);
    }
    text.replace(QLatin1Char('\n'), QLatin1Char(' '));
    m_summaryCache.insert(quint32(recordIndex), new QString(text));
    return text;
}

int InboxModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant InboxModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case TimeColumn:
            return tr("Time");
        case DeviceColumn:
            return tr("Device");
        case CategoryColumn:
            return tr("Category");
        case IdColumn:
            return tr("Message id");
        case DataColumn:
            return tr("Data");
        case AckColumn:
            return tr("ACK sent");
        case SeenColumn:
            return tr("Seen");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case AckColumn:
            return tr("When the ACK went out, after the message arrived");
        case SeenColumn:
            return tr("How many times CCS delivered it (redeliveries are ACKed again, not listed again)");
        }
    }
    return {};
}

QVariant InboxModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int record = recordIndex(index.row());
    if (record < 0)
        return {};
    const Record &r = m_records[size_t(record)];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn:
            return formatClock(r.receivedMs);
        case DeviceColumn: {
            const QString &token = m_devices.at(r.device);
            const QString name = m_deviceNames.value(token);
            return name.isEmpty() ? token : name; // the token is in the tooltip and the detail pane
        }
        case CategoryColumn:
            return m_categories.at(r.category);
        case IdColumn:
            return QString::fromUtf8(idBytes(r));
        case DataColumn:
            return summary(record);
        case AckColumn:
            return r.ackDelayMs < 0 ? QString() : formatClock(r.receivedMs + r.ackDelayMs);
        case SeenColumn:
            return r.timesSeen > 1 ? QVariant(int(r.timesSeen)) : QVariant();
        }
        return {};
    case Qt::ToolTipRole:
        if (index.column() == DeviceColumn)
            return m_devices.at(r.device);
        if (index.column() == AckColumn && r.ackDelayMs >= 0)
            return tr("ACKed at %1 on connection %2")
                .arg(formatClock(r.receivedMs + r.ackDelayMs))
                .arg(r.connection);
        if (index.column() == SeenColumn && r.timesSeen > 1)
            return tr("Redelivered: seen %1 times, listed once").arg(r.timesSeen);
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == SeenColumn || index.column() == AckColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case RecordIndexRole:
        return record;
    }
    return {};
}

} // namespace ccs::ui
