#include "AdminClient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QUrlQuery>
#include <QWebSocket>

namespace ccs::ui {

AdminClient::AdminClient(QObject *parent)
    : QObject(parent)
{
    m_manager.setProxy(QNetworkProxy::NoProxy); // the admin API is never behind a proxy
    m_retry.setSingleShot(true);
    m_retry.setInterval(1000);
    connect(&m_retry, &QTimer::timeout, this, &AdminClient::openStream);
}

AdminClient::~AdminClient()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        delete m_socket;
    }
}

QNetworkRequest AdminClient::request(const QString &path) const
{
    QUrl url = m_base;
    url.setPath(QStringLiteral("/api/v1/") + path);
    QNetworkRequest r(url);
    r.setRawHeader("Authorization", "Bearer " + m_token.toUtf8());
    r.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    r.setTransferTimeout(10000);
    return r;
}

void AdminClient::get(const QString &path, QObject *context, Callback done)
{
    send("GET", path, {}, context, std::move(done));
}

void AdminClient::send(
    const QByteArray &verb, const QString &path, const QJsonObject &body, QObject *context, Callback done)
{
    const QByteArray data
        = verb == "GET" || verb == "DELETE" ? QByteArray() : QJsonDocument(body).toJson(QJsonDocument::Compact);
    QNetworkReply *reply = m_manager.sendCustomRequest(request(path), verb, data);
    connect(reply, &QNetworkReply::finished, context ? context : this, [reply, done = std::move(done)] {
        reply->deleteLater();
        Reply r;
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonDocument doc = QJsonDocument::fromJson(reply->readAll());
        r.body = doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object());
        if (r.status == 0)
            r.error = tr("The admin API does not answer: %1").arg(reply->errorString());
        else if (!r.ok())
            r.error = r.status == 401 ? tr("The admin API refused the token.")
                                      : doc.object().value(QLatin1String("error")).toString(
                                          tr("The admin API answered %1.").arg(r.status));
        if (done)
            done(r);
    });
    // A context destroyed first: nothing is delivered; the manager still owns the reply.
}

void AdminClient::attach(const QUrl &baseUrl, const QString &token)
{
    detach();
    m_base = baseUrl;
    m_token = token;
    get(QStringLiteral("status"), this, [this](const Reply &r) {
        if (!r.ok()) {
            Q_EMIT failed(r.error);
            return;
        }
        m_attached = true;
        m_lastSeq = 0;
        m_resumeFrom = 0; // from the newest event
        Q_EMIT attached(r.body.toObject());
        openStream();
    });
}

void AdminClient::detach()
{
    m_retry.stop();
    const bool was = m_attached;
    m_attached = false;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->close();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    if (was) {
        Q_EMIT streamStateChanged(false);
        Q_EMIT detached();
    }
}

void AdminClient::openStream()
{
    if (!m_attached)
        return;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->deleteLater();
    }
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    m_socket->setProxy(QNetworkProxy::NoProxy);
    QUrl url = m_base;
    url.setScheme(m_base.scheme() == QLatin1String("https") ? QStringLiteral("wss") : QStringLiteral("ws"));
    url.setPath(QStringLiteral("/api/v1/events"));
    if (m_resumeFrom > 0)
        url.setQuery(QStringLiteral("from=%1").arg(m_resumeFrom));
    QNetworkRequest r(url);
    r.setRawHeader("Authorization", "Bearer " + m_token.toUtf8());
    connect(m_socket, &QWebSocket::textMessageReceived, this, &AdminClient::onMessage);
    connect(m_socket, &QWebSocket::connected, this, [this] { Q_EMIT streamStateChanged(true); });
    connect(m_socket, &QWebSocket::disconnected, this, [this] {
        Q_EMIT streamStateChanged(false);
        if (!m_attached)
            return;
        // Resume where the stream stopped (a cut-off names the place).
        if (m_resumeFrom == 0 && m_lastSeq > 0)
            m_resumeFrom = m_lastSeq + 1;
        m_retry.start();
    });
    m_socket->open(r);
}

void AdminClient::onMessage(const QString &message)
{
    QList<QJsonObject> batch;
    const QByteArray utf8 = message.toUtf8();
    qsizetype start = 0;
    while (start < utf8.size()) {
        qsizetype end = utf8.indexOf('\n', start);
        if (end < 0)
            end = utf8.size();
        const QJsonObject event
            = QJsonDocument::fromJson(QByteArray::fromRawData(utf8.constData() + start, end - start)).object();
        start = end + 1;
        const QString type = event.value(QLatin1String("type")).toString();
        if (event.contains(QLatin1String("seq"))) {
            m_lastSeq = quint64(event.value(QLatin1String("seq")).toDouble());
            m_resumeFrom = m_lastSeq + 1;
            batch.append(event);
        } else if (type == QLatin1String("cut_off")) {
            m_resumeFrom = quint64(event.value(QLatin1String("resume_from")).toDouble());
            Q_EMIT notice(tr("The emulator cut this console off as a slow reader; resuming from event %1.")
                              .arg(m_resumeFrom));
        } else if (type == QLatin1String("gap")) {
            Q_EMIT notice(tr("Events %1 to %2 are no longer kept by the emulator and are missing here.")
                              .arg(qint64(event.value(QLatin1String("missed_from")).toDouble()))
                              .arg(qint64(event.value(QLatin1String("missed_to")).toDouble())));
        } else if (type == QLatin1String("error")) {
            Q_EMIT notice(event.value(QLatin1String("error")).toString());
        }
    }
    m_received += batch.size();
    if (!batch.isEmpty())
        Q_EMIT events(batch);
}

bool AdminClient::deviceFromJson(const QJsonObject &o, emulator::DeviceStatus *device)
{
    const QString token = o.value(QLatin1String("token")).toString();
    if (token.isEmpty())
        return false;
    emulator::DeviceStatus d;
    d.spec.token = token;
    d.spec.name = o.value(QLatin1String("name")).toString(token);
    d.spec.category = o.value(QLatin1String("category")).toString();
    emulator::deviceKindFromName(o.value(QLatin1String("kind")).toString(), &d.spec.kind);
    d.spec.maxMessagesPerMinute = o.value(QLatin1String("max_messages_per_minute")).toInt();
    d.spec.senderId = o.value(QLatin1String("sender_id")).toString();
    d.online = o.value(QLatin1String("online")).toBool();
    d.received = o.value(QLatin1String("received")).toInt();
    d.upstreamSent = o.value(QLatin1String("upstream_sent")).toInt();
    d.held = o.value(QLatin1String("held")).toInt();
    for (const QJsonValue &t : o.value(QLatin1String("topics")).toArray())
        d.topics.append(t.toString());
    *device = d;
    return true;
}

} // namespace ccs::ui
