#pragma once

#include "common/BatchedTableModel.h"
#include "common/TextArena.h"
#include "protocol/Messages.h"

#include <QCache>
#include <QHash>
#include <QStringList>

#include <vector>

namespace ccs::ui {

// Upstream messages, built to hold a million rows while thousands arrive a
// second: compact records over a text arena, rows inserted and filtered by
// BatchedTableModel's policy, display strings computed when a view asks (and cached).
class InboxModel : public BatchedTableModel
{
    Q_OBJECT
public:
    enum Column {
        TimeColumn,
        DeviceColumn,
        CategoryColumn,
        IdColumn,
        DataColumn,
        AckColumn,
        SeenColumn,
        ColumnCount
    };
    enum Role { RecordIndexRole = Qt::UserRole + 1 };

    struct Filter {
        QString device; // exact token or device name; empty: any
        QString category; // exact; empty: any
        QString text; // case-insensitive, in the id, the token and the data
        bool isEmpty() const { return device.isEmpty() && category.isEmpty() && text.isEmpty(); }
    };

    explicit InboxModel(QObject *parent = nullptr);

    // Adds one message (the row appears on the next event-loop pass).
    void append(const UpstreamMessage &message, int connectionId, qint64 receivedAtMs, qint64 ackedAtMs);
    // A redelivered message: counted on its row, not listed again. False if unknown.
    // A redelivery of the message (from, messageId): devices choose their own
    // ids, so the id alone does not identify a message.
    bool markDuplicate(const QString &from, const QString &messageId, int timesSeen);
    void clear();

    void setFilter(const Filter &filter);
    const Filter &filter() const { return m_filter; }
    // Friendly names for tokens ("Pixel 7"), shown beside the token.
    void setDeviceNames(const QHash<QString, QString> &names);

    int totalCount() const { return int(m_records.size()); }
    int duplicateCount() const { return m_duplicates; }
    int recordIndex(int row) const { return recordForRow(row); }
    // The visible row of (from, messageId), or -1; an empty `from` takes the
    // first message with that id.
    int rowForMessageId(const QString &messageId, const QString &from = {}) const;
    UpstreamMessage message(int recordIndex) const;
    qint64 receivedAtMs(int recordIndex) const;
    qint64 ackedAtMs(int recordIndex) const;
    int connectionId(int recordIndex) const;
    int timesSeen(int recordIndex) const;
    QStringList devices() const { return m_devices; }
    QStringList categories() const { return m_categories; }
    qsizetype approximateBytes() const;

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void devicesChanged();

protected:
    int storedRowCount() const override { return int(m_records.size()); }
    bool acceptsRecord(int record) const override { return accepts(m_records[size_t(record)]); }

private:
    struct Record {
        qint64 receivedMs = 0;
        TextArena::Handle text = 0; // message id, then the rest of the JSON (compact)
        quint32 restLength = 0;
        quint16 idLength = 0;
        quint16 timesSeen = 1;
        quint32 device = 0;
        quint32 category = 0;
        qint32 ackDelayMs = 0;
        quint16 connection = 0;
    };
    static_assert(sizeof(Record) <= 48);

    int findRecord(const QString &from, const QString &messageId) const; // -1: none
    quint32 intern(QStringList &list, QHash<QString, quint32> &index, const QString &value, bool *added);
    bool accepts(const Record &record) const;
    QByteArrayView idBytes(const Record &record) const;
    QByteArrayView restBytes(const Record &record) const;
    QString summary(int recordIndex) const;

    std::vector<Record> m_records;
    TextArena m_arena;
    QMultiHash<size_t, quint32> m_byId; // hash of the id -> record (collisions checked)
    QStringList m_devices, m_categories;
    QHash<QString, quint32> m_deviceIndex, m_categoryIndex;
    QHash<QString, QString> m_deviceNames;
    Filter m_filter;
    int m_duplicates = 0;
    mutable QCache<quint32, QString> m_summaryCache {4096};
};

} // namespace ccs::ui
