#include "DeviceModel.h"

#include "common/Format.h"

#include <QGuiApplication>

namespace ccs::ui {

DeviceModel::DeviceModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void DeviceModel::setServer(emulator::EmulatorServer *server)
{
    if (m_server)
        disconnect(m_server, nullptr, this, nullptr);
    m_server = server;
    if (server)
        connect(server, &emulator::EmulatorServer::devicesChanged, this, &DeviceModel::refresh);
    beginResetModel();
    m_devices = server ? server->devices() : QList<emulator::DeviceStatus> {};
    endResetModel();
}

void DeviceModel::refresh()
{
    setDevices(m_server ? m_server->devices() : QList<emulator::DeviceStatus> {});
}

void DeviceModel::setDevices(const QList<emulator::DeviceStatus> &devices)
{
    bool sameTokens = devices.size() == m_devices.size();
    for (qsizetype i = 0; sameTokens && i < devices.size(); ++i)
        sameTokens = devices[i].spec.token == m_devices[i].spec.token;
    if (!sameTokens) {
        beginResetModel();
        m_devices = devices;
        endResetModel();
        return;
    }
    m_devices = devices;
    if (!m_devices.isEmpty())
        Q_EMIT dataChanged(
            index(0, 0), index(rowCount() - 1, ColumnCount - 1), {Qt::DisplayRole, Qt::ForegroundRole});
}

int DeviceModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_devices.size());
}

int DeviceModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DeviceModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return tr("Device");
    case TokenColumn:
        return tr("Token");
    case StateColumn:
        return tr("State");
    case ReceivedColumn:
        return tr("Recv");
    case UpstreamColumn:
        return tr("Sent");
    }
    return {};
}

QVariant DeviceModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const emulator::DeviceStatus &d = m_devices.at(index.row());
    auto stateText = [&]() -> QString {
        QString text;
        switch (d.spec.kind) {
        case emulator::DeviceKind::Unregistered:
            return tr("unregistered");
        case emulator::DeviceKind::RateLimited:
            text = d.online ? tr("rate-limited") : tr("rate-limited, offline");
            break;
        case emulator::DeviceKind::Idle:
            text = d.online ? tr("awake") : tr("idle");
            break;
        case emulator::DeviceKind::Registered:
            text = d.online ? tr("online") : tr("offline");
            break;
        }
        // Messages waiting for the device to come back.
        return d.held > 0 ? tr("%1, %n held", nullptr, d.held).arg(text) : text;
    };
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case NameColumn:
            return d.spec.name;
        case TokenColumn:
            return d.spec.token;
        case StateColumn:
            return stateText();
        case ReceivedColumn:
            return d.received;
        case UpstreamColumn:
            return d.upstreamSent;
        }
        return {};
    case Qt::ForegroundRole:
        if (index.column() == StateColumn) {
            const auto pal = QGuiApplication::palette();
            if (d.spec.kind == emulator::DeviceKind::Unregistered)
                return stateColor(MessageState::Failed, pal);
            return d.online ? stateColor(MessageState::Delivered, pal)
                            : stateColor(MessageState::Queued, pal);
        }
        return {};
    case Qt::ToolTipRole:
        return tr("%1 (%2)\nToken: %3\nApp: %4").arg(d.spec.name, stateText(), d.spec.token, d.spec.category);
    case Qt::TextAlignmentRole:
        if (index.column() == ReceivedColumn || index.column() == UpstreamColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case TokenRole:
        return d.spec.token;
    }
    return {};
}

} // namespace ccs::ui
