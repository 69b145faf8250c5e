#pragma once

#include "server/EmulatorTypes.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QNetworkAccessManager>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <functional>

class QWebSocket;

namespace ccs::ui {

// A client of a ccs-emulator's admin API (or the window's own emulator's):
// its REST endpoints, and its live event stream, followed from where it left
// off (on a cut-off or a lost connection it reconnects with ?from=). The
// token is held in memory only and sent as a bearer token; it is never logged.
class AdminClient : public QObject
{
    Q_OBJECT
public:
    struct Reply {
        int status = 0; // HTTP status; 0 when the request did not get an answer
        QJsonValue body;
        QString error; // a sentence; empty on 2xx
        bool ok() const { return status >= 200 && status < 300; }
    };
    using Callback = std::function<void(const Reply &)>;

    explicit AdminClient(QObject *parent = nullptr);
    ~AdminClient() override;

    // Checks the URL and token (GET /api/v1/status), then follows the event
    // stream from its newest event. attached() or failed(reason).
    void attach(const QUrl &baseUrl, const QString &token);
    void detach();
    bool isAttached() const { return m_attached; }
    QUrl baseUrl() const { return m_base; }
    quint64 lastSeq() const { return m_lastSeq; }
    qint64 eventsReceived() const { return m_received; }

    void get(const QString &path, QObject *context, Callback done);
    void send(const QByteArray &verb, const QString &path, const QJsonObject &body, QObject *context,
        Callback done);

    static bool deviceFromJson(const QJsonObject &object, emulator::DeviceStatus *device);

Q_SIGNALS:
    void attached(const QJsonObject &status);
    void failed(const QString &reason);
    void detached();
    // Events in the order of their seq (one WebSocket message's worth).
    void events(const QList<QJsonObject> &events);
    // A "gap" or "cut_off" notice, or a lost stream being resumed: a sentence.
    void notice(const QString &text);
    void streamStateChanged(bool live);

private:
    void openStream();
    void onMessage(const QString &message);
    QNetworkRequest request(const QString &path) const;

    QNetworkAccessManager m_manager;
    QWebSocket *m_socket = nullptr;
    QUrl m_base;
    QString m_token;
    quint64 m_lastSeq = 0;
    quint64 m_resumeFrom = 0;
    qint64 m_received = 0;
    bool m_attached = false;
    QTimer m_retry;
};

} // namespace ccs::ui
