#include "ConsoleModels.h"

#include "common/Format.h"

#include <QGuiApplication>
#include <QJsonArray>

namespace ccs::ui {

namespace {
QString str(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString();
}
qint64 num(const QJsonObject &o, const char *key, qint64 fallback = -1)
{
    const QJsonValue v = o.value(QLatin1String(key));
    return v.isDouble() ? qint64(v.toDouble()) : fallback;
}
QString seconds(qint64 ms)
{
    return QString::number(double(ms) / 1000.0, 'f', 3);
}
QColor good()
{
    return stateColor(MessageState::Delivered, QGuiApplication::palette());
}
QColor bad()
{
    return stateColor(MessageState::Failed, QGuiApplication::palette());
}
QColor quiet()
{
    return QGuiApplication::palette().color(QPalette::PlaceholderText);
}
} // namespace

// --- traffic -----------------------------------------------------------------

ConsoleTrafficModel::ConsoleTrafficModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void ConsoleTrafficModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_open.clear();
    m_base = 0;
    endResetModel();
}

ConsoleTrafficModel::Row *ConsoleTrafficModel::open(const QString &key)
{
    const auto it = m_open.constFind(key);
    if (it == m_open.constEnd())
        return nullptr;
    const qint64 at = *it - m_base;
    m_open.erase(it);
    if (at < 0 || at >= qint64(m_rows.size()))
        return nullptr;
    return &m_rows[size_t(at)];
}

void ConsoleTrafficModel::apply(const QList<QJsonObject> &events)
{
    const int before = int(m_rows.size());
    int changedMin = -1, changedMax = -1;
    for (const QJsonObject &e : events) {
        const QString type = str(e, "type");
        const int connection = int(num(e, "connection", 0));
        Row row;
        row.tMs = num(e, "t", 0);
        row.connection = connection;
        if (type == QLatin1String("downstream")) {
            row.kind = Kind::Down;
            row.messageId = str(e, "message_id");
            row.device = str(e, "to");
            row.key = QString::number(connection) + QLatin1Char('\n') + row.messageId;
        } else if (type == QLatin1String("upstream")) {
            row.kind = e.value(QLatin1String("receipt")).toBool() ? Kind::Receipt : Kind::Up;
            row.messageId = str(e, "message_id");
            row.device = str(e, "from");
            row.key = QString::number(connection) + QLatin1Char('\n') + row.device + QLatin1Char('\n')
                + row.messageId;
        } else if (type == QLatin1String("answer") || type == QLatin1String("ack")) {
            const bool ack = type == QLatin1String("ack");
            const QString key = ack ? QString::number(connection) + QLatin1Char('\n') + str(e, "to")
                    + QLatin1Char('\n') + str(e, "message_id")
                                    : QString::number(connection) + QLatin1Char('\n') + str(e, "message_id");
            const qint64 absolute = m_open.value(key, -1);
            Row *target = open(key);
            if (ack && !e.value(QLatin1String("matched")).toBool()) {
                // An ACK that names nothing delivered here: its own row, marked.
                row.kind = Kind::Down;
                row.messageId = str(e, "message_id");
                row.device = str(e, "to");
                row.answer = tr("ACK of nothing: BAD_ACK");
                row.problem = true;
                m_rows.push_back(row);
                continue;
            }
            if (!target)
                continue;
            const QString answer = str(e, "answer");
            target->answer = ack ? tr("ACKed")
                : answer == QLatin1String("ack")  ? tr("ACK")
                : answer == QLatin1String("nack") ? tr("NACK %1").arg(str(e, "code"))
                                                  : tr("error: %1").arg(str(e, "description"));
            target->problem = !ack && answer != QLatin1String("ack");
            target->latencyMs = num(e, "latency_ms");
            const int r = int(absolute - m_base);
            if (r < before) {
                changedMin = changedMin < 0 ? r : qMin(changedMin, r);
                changedMax = qMax(changedMax, r);
            }
            continue;
        } else if (type == QLatin1String("connection")) {
            row.kind = Kind::State;
            const QString state = str(e, "state");
            row.answer = state == QLatin1String("closed") ? tr("closed (%1)").arg(str(e, "end"))
                : state == QLatin1String("authenticated") ? tr("authenticated as %1").arg(str(e, "sender_id"))
                                                          : state;
            row.problem = state == QLatin1String("auth_failed") || state == QLatin1String("tls_failed");
        } else if (type == QLatin1String("unparsable")) {
            row.kind = Kind::State;
            row.answer = tr("unparsable: %1").arg(str(e, "error"));
            row.problem = true;
        } else {
            continue; // devices, faults and rules have their own views
        }
        if (!row.key.isEmpty())
            m_open.insert(row.key, m_base + qint64(m_rows.size()));
        m_rows.push_back(std::move(row));
    }
    if (changedMin >= 0)
        Q_EMIT dataChanged(index(changedMin, 0), index(changedMax, ColumnCount - 1));
    if (int(m_rows.size()) > before) {
        beginInsertRows({}, before, int(m_rows.size()) - 1);
        endInsertRows();
    }
    // Keep the newest kMaxRows; trim in chunks so removal is rare.
    const int excess = int(m_rows.size()) - kMaxRows;
    if (excess > kMaxRows / 10) {
        beginRemoveRows({}, 0, excess - 1);
        for (int i = 0; i < excess; ++i) {
            const Row &r = m_rows.front();
            if (!r.key.isEmpty()) {
                const auto it = m_open.constFind(r.key);
                if (it != m_open.constEnd() && *it == m_base)
                    m_open.erase(it);
            }
            m_rows.pop_front();
            ++m_base;
        }
        endRemoveRows();
    }
}

int ConsoleTrafficModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ConsoleTrafficModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ConsoleTrafficModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time (s)");
    case ConnectionColumn:
        return tr("Conn.");
    case DirectionColumn:
        return tr("Stanza");
    case MessageIdColumn:
        return tr("Message id");
    case DeviceColumn:
        return tr("Device");
    case AnswerColumn:
        return tr("Answer / ACK");
    case LatencyColumn:
        return tr("Latency");
    }
    return {};
}

QVariant ConsoleTrafficModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const Row &r = m_rows[size_t(index.row())];
    if (role == ConnectionRole)
        return r.connection;
    if (role == Qt::ForegroundRole) {
        if (r.problem && (index.column() == AnswerColumn || index.column() == DirectionColumn))
            return bad();
        if (index.column() == AnswerColumn && r.answer.isEmpty())
            return quiet();
        if (r.kind == Kind::State)
            return quiet();
        return {};
    }
    if (role == Qt::TextAlignmentRole && (index.column() == LatencyColumn || index.column() == TimeColumn))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    switch (index.column()) {
    case TimeColumn:
        return seconds(r.tMs);
    case ConnectionColumn:
        return r.connection > 0 ? QVariant(r.connection) : QVariant();
    case DirectionColumn:
        switch (r.kind) {
        case Kind::Down:
            return tr("↓ downstream");
        case Kind::Up:
            return tr("↑ upstream");
        case Kind::Receipt:
            return tr("↑ receipt");
        case Kind::State:
            return tr("• connection");
        }
        return {};
    case MessageIdColumn:
        return r.messageId;
    case DeviceColumn:
        return r.device;
    case AnswerColumn:
        if (r.answer.isEmpty() && r.kind != Kind::State)
            return r.kind == Kind::Down ? tr("waiting for the answer") : tr("waiting for the ACK");
        return r.answer;
    case LatencyColumn:
        return r.latencyMs >= 0 ? formatLatency(r.latencyMs) : QString();
    }
    return {};
}

// --- connections -------------------------------------------------------------

ConsoleConnectionModel::ConsoleConnectionModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void ConsoleConnectionModel::clear()
{
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

int ConsoleConnectionModel::connectionId(int row) const
{
    return row >= 0 && row < int(m_rows.size()) ? m_rows[size_t(row)].id : 0;
}

ConsoleConnectionModel::Row *ConsoleConnectionModel::row(int id, bool create)
{
    // Ids grow: the newest connections are at the end.
    for (auto it = m_rows.rbegin(); it != m_rows.rend(); ++it) {
        if (it->id == id)
            return &*it;
    }
    if (!create)
        return nullptr;
    Row r;
    r.id = id;
    r.state = tr("opened");
    m_rows.push_back(r);
    return &m_rows.back();
}

void ConsoleConnectionModel::apply(const QList<QJsonObject> &events)
{
    const int before = int(m_rows.size());
    bool touched = false;
    for (const QJsonObject &e : events) {
        const int id = int(num(e, "connection", 0));
        if (id <= 0)
            continue;
        const QString type = str(e, "type");
        Row *r = row(id, type == QLatin1String("connection"));
        if (!r)
            continue;
        touched = true;
        if (type == QLatin1String("connection")) {
            const QString state = str(e, "state");
            if (state == QLatin1String("authenticated"))
                r->sender = str(e, "sender_id");
            r->closed = state == QLatin1String("closed");
            r->state = r->closed ? tr("closed (%1)").arg(str(e, "end")) : state;
        } else if (type == QLatin1String("downstream")) {
            ++r->downstream;
        } else if (type == QLatin1String("answer")) {
            ++r->answered;
            r->nacks += str(e, "answer") != QLatin1String("ack") ? 1 : 0;
        } else if (type == QLatin1String("upstream")) {
            ++r->upstream;
        } else if (type == QLatin1String("ack")) {
            const qint64 latency = num(e, "latency_ms");
            if (latency >= 0) {
                ++r->acked;
                r->latencySum += latency;
                ++r->latencyCount;
                r->lastLatency = latency;
            }
        }
    }
    if (int(m_rows.size()) > before) {
        beginInsertRows({}, before, int(m_rows.size()) - 1);
        endInsertRows();
    }
    if (touched && before > 0)
        Q_EMIT dataChanged(index(0, 0), index(before - 1, ColumnCount - 1));
    if (int(m_rows.size()) > kMaxRows) {
        for (size_t i = 0; i < m_rows.size() && int(m_rows.size()) > kMaxRows; ++i) {
            if (!m_rows[i].closed)
                continue;
            beginRemoveRows({}, int(i), int(i));
            m_rows.erase(m_rows.begin() + std::ptrdiff_t(i));
            endRemoveRows();
            --i;
        }
    }
}

int ConsoleConnectionModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ConsoleConnectionModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ConsoleConnectionModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case IdColumn:
        return tr("Conn.");
    case StateColumn:
        return tr("State");
    case DownstreamColumn:
        return tr("Down / answ.");
    case PendingColumn:
        return tr("Pending");
    case UpstreamColumn:
        return tr("Up / ACKed");
    case AckLatencyColumn:
        return tr("ACK avg");
    }
    return {};
}

QVariant ConsoleConnectionModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const Row &r = m_rows[size_t(index.row())];
    if (role == Qt::ForegroundRole)
        return r.closed ? QVariant(quiet()) : QVariant();
    if (role == Qt::ToolTipRole && index.column() == StateColumn)
        return r.sender.isEmpty() ? r.state : tr("%1, sender %2").arg(r.state, r.sender);
    if (role == Qt::ToolTipRole && index.column() == AckLatencyColumn && r.latencyCount > 0)
        return tr("The app server's ACK latency: last %1, average %2 over %3 ACKs")
            .arg(formatLatency(r.lastLatency), formatLatency(r.latencySum / r.latencyCount))
            .arg(r.latencyCount);
    if (role == Qt::TextAlignmentRole && index.column() != StateColumn)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case IdColumn:
        return r.id;
    case StateColumn:
        return r.state;
    case DownstreamColumn:
        return QStringLiteral("%1 / %2").arg(formatCount(r.downstream), formatCount(r.answered));
    case PendingColumn:
        return formatCount(r.downstream - r.answered);
    case UpstreamColumn:
        return QStringLiteral("%1 / %2").arg(formatCount(r.upstream), formatCount(r.acked));
    case AckLatencyColumn:
        return r.latencyCount > 0 ? formatLatency(r.latencySum / r.latencyCount) : QString();
    }
    return {};
}

// --- conformance -------------------------------------------------------------

ConsoleRuleModel::ConsoleRuleModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void ConsoleRuleModel::clear()
{
    beginResetModel();
    m_rules.clear();
    endResetModel();
}

QString ConsoleRuleModel::status(const QString &rule) const
{
    for (const Rule &r : m_rules) {
        if (r.id == rule)
            return r.status;
    }
    return {};
}

void ConsoleRuleModel::set(const QString &id, const QString &status, const QString &summary, bool settled)
{
    for (int i = 0; i < m_rules.size(); ++i) {
        Rule &r = m_rules[i];
        if (r.id != id)
            continue;
        if (r.settled && !settled)
            return; // a settled rule stays as it settled
        r.status = status;
        r.summary = summary;
        r.settled = settled;
        Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
        return;
    }
    beginInsertRows({}, int(m_rules.size()), int(m_rules.size()));
    m_rules.append({id, status, summary, settled});
    endInsertRows();
}

void ConsoleRuleModel::setReport(const QJsonObject &report)
{
    for (const QJsonValue &v : report.value(QLatin1String("rules")).toArray()) {
        const QJsonObject r = v.toObject();
        const QString status = str(r, "status");
        // Not exercised so far is not a verdict yet while the run goes on.
        set(str(r, "id"), status == QLatin1String("not_exercised") ? QString() : status,
            str(r, "explanation"), status != QLatin1String("not_exercised"));
    }
}

void ConsoleRuleModel::apply(const QList<QJsonObject> &events)
{
    for (const QJsonObject &e : events) {
        if (str(e, "type") == QLatin1String("rule"))
            set(str(e, "rule"), str(e, "status"), str(e, "summary"), true);
    }
}

int ConsoleRuleModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rules.size());
}

int ConsoleRuleModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ConsoleRuleModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case RuleColumn:
        return tr("Rule");
    case StatusColumn:
        return tr("Status");
    case SummaryColumn:
        return tr("Evidence / what it asks");
    }
    return {};
}

QVariant ConsoleRuleModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rules.size())
        return {};
    const Rule &r = m_rules.at(index.row());
    if (role == Qt::ForegroundRole && index.column() == StatusColumn) {
        if (r.status == QLatin1String("pass"))
            return good();
        if (r.status == QLatin1String("fail"))
            return bad();
        return quiet();
    }
    if (role == Qt::ToolTipRole && index.column() == SummaryColumn)
        return r.summary;
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case RuleColumn:
        return r.id;
    case StatusColumn:
        if (r.status == QLatin1String("pass"))
            return tr("PASS");
        if (r.status == QLatin1String("fail"))
            return tr("FAIL");
        if (r.status == QLatin1String("not_exercised"))
            return tr("NOT EXERCISED");
        return tr("grading…");
    case SummaryColumn:
        return r.summary;
    }
    return {};
}

} // namespace ccs::ui
