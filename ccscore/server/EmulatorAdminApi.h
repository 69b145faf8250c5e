#pragma once

#include "EmulatorTypes.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>

#include <memory>

namespace ccs::emulator {

class EmulatorServer;
class EmulatorEventStream;
class ConformanceGrader;

// The emulator's admin API: JSON over HTTP (Qt HttpServer), on loopback only
// (another address only with an operator-chosen token), every request guarded
// by a bearer token (random unless set). See README "Admin API".
//   GET    /api/v1/status                      listening port, senders, connections, counters
//   GET    /api/v1/devices                     the simulated devices
//   POST   /api/v1/devices                     {"token","name","kind","category","max_messages_per_minute"}
//   DELETE /api/v1/devices/TOKEN
//   POST   /api/v1/devices/TOKEN/upstream      {"data":{...}} -> {"message_id"}
//   POST   /api/v1/devices/TOKEN/online        {"online":true|false}
//   POST   /api/v1/devices/TOKEN/unregister    the app is uninstalled: DEVICE_UNREGISTERED from now on
//   GET    /api/v1/connections
//   POST   /api/v1/connections/drain           {"id":N} or {} for all
//   POST   /api/v1/connections/drop            {"id":N} or {} for all
//   GET    /api/v1/faults, PUT /api/v1/faults  FaultSchedule fields, partial updates
//   POST   /api/v1/faults/redeliver-next
//   GET    /api/v1/record, DELETE /api/v1/record
//   GET    /api/v1/counters
//   GET    /api/v1/conformance                 the grader's rules so far (with --conformance)
//   GET    /api/v1/events  (WebSocket)         the live event stream: ?from=SEQ&connection=N,M
//                                              (see EmulatorEventStream; plain HTTP gets 426)
class EmulatorAdminApi : public QObject
{
    Q_OBJECT
public:
    explicit EmulatorAdminApi(EmulatorServer *server, QObject *parent = nullptr);
    ~EmulatorAdminApi() override;

    // Replaces the random token with one the operator chose (read from a file
    // by the caller; never printed). Only then may listen() take an address
    // that is not loopback.
    void setToken(const QString &token);
    // Refuses any address that is not loopback unless setToken() gave the
    // token. port 0: any free port.
    bool listen(
        const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0, QString *error = nullptr);
    quint16 port() const;
    QString token() const; // 43 random URL-safe characters, new for each instance
    QString baseUrl() const; // http://127.0.0.1:PORT
    QString eventsUrl() const; // ws://127.0.0.1:PORT/api/v1/events

    // The emulator's observer is the event stream; the grader, when there is
    // one, is attached behind it here (not with EmulatorServer::setObserver),
    // and its rules appear in the stream and at /api/v1/conformance.
    void setConformanceGrader(ConformanceGrader *grader);
    EmulatorEventStream *eventStream() const;

private:
    class Private;
    std::unique_ptr<Private> d;
};

// JSON forms shared by the admin API and ccs-emulator --json.
QJsonObject toJson(const DeviceStatus &device);
QJsonObject toJson(const DeviceGroup &group);
QJsonObject toJson(const FaultSchedule &faults);
QJsonObject toJson(const EmulatorCounters &counters);
QJsonObject toJson(const DownstreamRecord &record);
QJsonObject toJson(const UpstreamRecord &record);
QJsonObject toJson(const ConnectionInfo &connection);
// Reads a device; *error names the bad field.
bool deviceFromJson(const QJsonObject &object, DeviceSpec *device, QString *error);
// Applies the fields present in `object` to *faults; *error names a bad field.
bool applyFaultsJson(const QJsonObject &object, FaultSchedule *faults, QString *error);

} // namespace ccs::emulator
