#pragma once

#include "server/EmulatorServer.h"

#include <QAbstractTableModel>
#include <QPointer>

namespace ccs::ui {

// The local emulator's simulated devices.
class DeviceModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { NameColumn, TokenColumn, StateColumn, ReceivedColumn, UpstreamColumn, ColumnCount };
    enum Role { TokenRole = Qt::UserRole + 1 };

    explicit DeviceModel(QObject *parent = nullptr);
    void setServer(emulator::EmulatorServer *server);
    void refresh();
    // Without a server: the devices as a remote emulator's admin API lists them.
    void setDevices(const QList<emulator::DeviceStatus> &devices);
    const QList<emulator::DeviceStatus> &devices() const { return m_devices; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QPointer<emulator::EmulatorServer> m_server;
    QList<emulator::DeviceStatus> m_devices;
};

} // namespace ccs::ui
