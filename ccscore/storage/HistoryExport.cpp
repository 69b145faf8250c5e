#include "HistoryExport.h"

#include "protocol/JsonCodec.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

namespace ccs::storage {

namespace {

QJsonValue isoTime(qint64 ms)
{
    if (ms <= 0)
        return QJsonValue::Null;
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

} // namespace

ExportFormat exportFormatForPath(const QString &path)
{
    return path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive) ? ExportFormat::Csv
                                                                     : ExportFormat::JsonLines;
}

QJsonObject ledgerEntryToJson(const LedgerEntry &entry)
{
    QJsonObject row;
    row.insert(QStringLiteral("message_id"), entry.message.messageId);
    row.insert(QStringLiteral("to"), entry.message.to);
    row.insert(QStringLiteral("state"), stateName(entry.state));
    row.insert(QStringLiteral("queued_at"), isoTime(entry.queuedAtMs));
    row.insert(QStringLiteral("sent_at"), isoTime(entry.sentAtMs));
    row.insert(QStringLiteral("acked_at"), isoTime(entry.ackedAtMs));
    row.insert(QStringLiteral("delivered_at"), isoTime(entry.deliveredAtMs));
    const auto ack = entry.ackLatencyMs();
    const auto delivery = entry.deliveryLatencyMs();
    row.insert(QStringLiteral("ack_latency_ms"), ack ? QJsonValue(double(*ack)) : QJsonValue::Null);
    row.insert(
        QStringLiteral("delivery_latency_ms"), delivery ? QJsonValue(double(*delivery)) : QJsonValue::Null);
    row.insert(
        QStringLiteral("nack"), entry.nackText.isEmpty() ? QJsonValue::Null : QJsonValue(entry.nackText));
    row.insert(QStringLiteral("error_description"),
        entry.errorDescription.isEmpty() ? QJsonValue::Null : QJsonValue(entry.errorDescription));
    row.insert(QStringLiteral("attempts"), entry.attempts);
    row.insert(QStringLiteral("retries"), entry.retries);
    row.insert(QStringLiteral("connection"), entry.connectionId);
    QJsonArray history;
    for (const LedgerTransition &t : entry.history) {
        QJsonObject step;
        step.insert(QStringLiteral("state"), stateName(t.state));
        step.insert(QStringLiteral("at"), isoTime(t.atMs));
        if (t.connectionId)
            step.insert(QStringLiteral("connection"), t.connectionId);
        if (!t.detail.isEmpty())
            step.insert(QStringLiteral("detail"), t.detail);
        history.append(step);
    }
    row.insert(QStringLiteral("history"), history);
    row.insert(QStringLiteral("message"), entry.message.toJson());
    return row;
}

QStringList ledgerCsvColumns()
{
    return {QStringLiteral("message_id"), QStringLiteral("to"), QStringLiteral("state"),
        QStringLiteral("queued_at"), QStringLiteral("sent_at"), QStringLiteral("acked_at"),
        QStringLiteral("delivered_at"), QStringLiteral("ack_latency_ms"),
        QStringLiteral("delivery_latency_ms"), QStringLiteral("nack"), QStringLiteral("error_description"),
        QStringLiteral("attempts"), QStringLiteral("retries"), QStringLiteral("connection"),
        QStringLiteral("message")};
}

QJsonObject upstreamToJson(
    const UpstreamMessage &message, qint64 receivedAtMs, qint64 ackedAtMs, int connectionId, int timesSeen)
{
    QJsonObject row;
    row.insert(QStringLiteral("received_at"), isoTime(receivedAtMs));
    row.insert(QStringLiteral("acked_at"), isoTime(ackedAtMs));
    row.insert(QStringLiteral("from"), message.from);
    row.insert(QStringLiteral("category"), message.category);
    row.insert(QStringLiteral("message_id"), message.messageId);
    row.insert(QStringLiteral("connection"), connectionId);
    row.insert(QStringLiteral("times_seen"), timesSeen);
    row.insert(QStringLiteral("data"), message.data);
    return row;
}

QStringList upstreamCsvColumns()
{
    return {QStringLiteral("received_at"), QStringLiteral("acked_at"), QStringLiteral("from"),
        QStringLiteral("category"), QStringLiteral("message_id"), QStringLiteral("connection"),
        QStringLiteral("times_seen"), QStringLiteral("data")};
}

HistoryWriter::HistoryWriter() = default;
HistoryWriter::~HistoryWriter()
{
    if (m_file)
        m_file->cancelWriting();
}

bool HistoryWriter::open(
    const QString &path, ExportFormat format, const QStringList &csvColumns, QString *error)
{
    m_file = std::make_unique<QSaveFile>(path);
    m_format = format;
    m_columns = csvColumns;
    m_rows = 0;
    if (!m_file->open(QIODevice::WriteOnly)) {
        if (error)
            *error = QStringLiteral("Cannot write %1: %2").arg(path, m_file->errorString());
        m_file.reset();
        return false;
    }
    if (m_format == ExportFormat::Csv) {
        QByteArray header;
        for (int i = 0; i < m_columns.size(); ++i) {
            if (i)
                header += ',';
            header += csvField(m_columns.at(i));
        }
        m_file->write(header + "\r\n");
    }
    return true;
}

QString HistoryWriter::cellText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return {};
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double: {
        const double d = value.toDouble();
        if (d == double(qint64(d)))
            return QString::number(qint64(d));
        return QString::number(d, 'g', 17);
    }
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Object:
        return QString::fromUtf8(json::serialize(value.toObject()));
    }
    return {};
}

QByteArray HistoryWriter::csvField(const QString &value)
{
    QByteArray bytes = value.toUtf8();
    if (bytes.contains(',') || bytes.contains('"') || bytes.contains('\n') || bytes.contains('\r')) {
        bytes.replace('"', "\"\"");
        return '"' + bytes + '"';
    }
    return bytes;
}

void HistoryWriter::write(const QJsonObject &row)
{
    if (!m_file)
        return;
    if (m_format == ExportFormat::JsonLines) {
        m_file->write(json::serialize(row));
        m_file->write("\n");
    } else {
        QByteArray line;
        for (int i = 0; i < m_columns.size(); ++i) {
            if (i)
                line += ',';
            line += csvField(cellText(row.value(m_columns.at(i))));
        }
        m_file->write(line + "\r\n");
    }
    ++m_rows;
}

bool HistoryWriter::commit(QString *error)
{
    if (!m_file) {
        if (error)
            *error = QStringLiteral("No export file is open.");
        return false;
    }
    const bool ok = m_file->commit();
    if (!ok && error)
        *error = QStringLiteral("Cannot save %1: %2").arg(m_file->fileName(), m_file->errorString());
    m_file.reset();
    return ok;
}

} // namespace ccs::storage
