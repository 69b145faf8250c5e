#pragma once

#include "client/SessionTypes.h"
#include "protocol/Redaction.h"

#include <QAbstractTableModel>
#include <QTimer>

#include <deque>
#include <vector>

namespace ccs::ui {

// Every stanza in and out, capped in memory (the oldest go first), inserted
// in batches. Credentials are redacted on the way in, whatever the source did.
class TrafficLogModel : public QAbstractTableModel
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
    void flush();
    int droppedCount() const { return m_dropped; }

    // Indented XML with the gcm JSON pretty-printed inside it.
    static QString prettyPrint(const QString &xml);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Entry {
        qint64 atMs;
        QString xml;
        int connectionId;
        TrafficDirection direction;
    };
    std::deque<Entry> m_rows;
    std::vector<Entry> m_pending;
    int m_capacity = 20000;
    int m_dropped = 0;
    Redactor m_redact;
    QTimer m_flushTimer;
};

} // namespace ccs::ui
