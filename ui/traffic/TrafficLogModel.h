#pragma once

#include "client/SessionTypes.h"
#include "common/BatchedTableModel.h"
#include "protocol/Redaction.h"

#include <deque>
#include <vector>

namespace ccs::ui {

// Every stanza in and out, capped in memory (the oldest go first), inserted
// in batches and searched inside the model (BatchedTableModel's policy).
// Credentials are redacted on the way in, whatever the source did.
class TrafficLogModel : public BatchedTableModel
{
    Q_OBJECT
public:
    enum Column { TimeColumn, DirectionColumn, ConnectionColumn, StanzaColumn, ColumnCount };
    enum Role { XmlRole = Qt::UserRole + 1, DirectionRole, TimeRole };

    explicit TrafficLogModel(QObject *parent = nullptr);

    void append(TrafficDirection direction, int connectionId, const QString &xml, qint64 atMs = 0);
    void setCapacity(int rows);
    int capacity() const { return m_capacity; }
    // What must never appear (the credentials in use): hidden by ccs::redactSecrets.
    void setSecrets(const RedactionSecrets &secrets) { m_redact = Redactor(secrets); }
    void setSecret(const QString &apiKey) { setSecrets({apiKey, {}, {}}); }
    void clear();
    int droppedCount() const { return m_dropped; }
    // Shows only stanzas containing this text (case-insensitive); empty: all.
    void setFilterText(const QString &text);
    QString filterText() const { return m_filterText; }

    // Indented XML with the gcm JSON pretty-printed inside it.
    static QString prettyPrint(const QString &xml);

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    int storedRowCount() const override { return int(m_rows.size()); }
    bool acceptsRecord(int record) const override;
    void beforeFlush() override;

private:
    struct Entry {
        qint64 atMs;
        QString xml;
        int connectionId;
        TrafficDirection direction;
    };
    std::deque<Entry> m_rows; // stored (announced by the flush under way or before)
    std::vector<Entry> m_pending; // appended since the last flush
    int m_capacity = 20000;
    int m_dropped = 0;
    Redactor m_redact;
    QString m_filterText;
};

} // namespace ccs::ui
