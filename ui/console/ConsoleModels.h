#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QJsonObject>
#include <QList>

#include <deque>
#include <vector>

namespace ccs::ui {

// The console's models take the admin event stream in batches (apply(), from
// a timer: one insert per batch, never one per event).

// Every stanza on every app-server connection, both directions, newest last:
// a downstream message with the emulator's answer and how long it took; an
// upstream message or receipt with the app server's ACK and its latency;
// connection state changes. Keeps the newest kMaxRows rows.
class ConsoleTrafficModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    static constexpr int kMaxRows = 20000;
    enum Column {
        TimeColumn,
        ConnectionColumn,
        DirectionColumn,
        MessageIdColumn,
        DeviceColumn,
        AnswerColumn,
        LatencyColumn,
        ColumnCount
    };
    enum Role { ConnectionRole = Qt::UserRole + 1 };

    explicit ConsoleTrafficModel(QObject *parent = nullptr);
    void apply(const QList<QJsonObject> &events);
    void clear();
    qint64 rowsDropped() const { return m_base; } // the oldest rows let go to keep kMaxRows

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    enum class Kind : quint8 { Down, Up, Receipt, State };
    struct Row {
        qint64 tMs = 0;
        qint64 latencyMs = -1;
        int connection = 0;
        Kind kind = Kind::State;
        bool problem = false; // a NACK, a stanza error, a BAD_ACK
        QString messageId, device, answer, key;
    };
    Row *open(const QString &key);

    std::deque<Row> m_rows;
    qint64 m_base = 0; // the absolute number of m_rows.front()
    QHash<QString, qint64> m_open; // a stanza waiting for its answer or ACK -> absolute row
};

// One row per app-server connection: its state, traffic and ACK latency.
class ConsoleConnectionModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    static constexpr int kMaxRows = 200; // the oldest closed connections go first
    enum Column {
        IdColumn,
        StateColumn,
        DownstreamColumn,
        PendingColumn,
        UpstreamColumn,
        AckLatencyColumn,
        ColumnCount
    };
    explicit ConsoleConnectionModel(QObject *parent = nullptr);
    void apply(const QList<QJsonObject> &events);
    void clear();
    int connectionId(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row {
        int id = 0;
        QString state, sender;
        bool closed = false;
        qint64 downstream = 0, answered = 0, nacks = 0, upstream = 0, acked = 0;
        qint64 latencySum = 0, latencyCount = 0, lastLatency = -1;
    };
    Row *row(int id, bool create);
    std::vector<Row> m_rows;
};

// The conformance scorecard: each rule, its status and summary.
class ConsoleRuleModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { RuleColumn, StatusColumn, SummaryColumn, ColumnCount };
    explicit ConsoleRuleModel(QObject *parent = nullptr);
    // The report of GET /api/v1/conformance ({"rules": [...]}).
    void setReport(const QJsonObject &report);
    void apply(const QList<QJsonObject> &events);
    void clear();
    QString status(const QString &rule) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Rule {
        QString id, status, summary;
        bool settled = false;
    };
    void set(const QString &id, const QString &status, const QString &summary, bool settled);
    QList<Rule> m_rules;
};

} // namespace ccs::ui
