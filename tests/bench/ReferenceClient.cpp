#include "ReferenceClient.h"

#include "BenchSupport.h"

#include <QSslConfiguration>

namespace ccs::bench {

namespace {
const QByteArray kHeader = "<?xml version='1.0'?><stream:stream to=\"gcm.googleapis.com\" version=\"1.0\" "
                           "xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\">";
}

ReferenceClient::ReferenceClient(DownstreamWork *work, QObject *parent)
    : QObject(parent)
    , m_work(work)
{
    connect(&m_socket, &QSslSocket::readyRead, this, &ReferenceClient::onReadyRead);
}

bool ReferenceClient::waitForText(const QByteArray &text, QString *error, int timeoutMs)
{
    const bool ok = spinUntil(
        [&] {
            return m_buffer.contains(text) || m_buffer.contains("<failure")
                || m_socket.state() == QAbstractSocket::UnconnectedState;
        },
        timeoutMs);
    if (ok && m_buffer.contains(text)) {
        m_buffer.clear();
        return true;
    }
    *error = QStringLiteral("reference client: no %1 from the emulator (%2)")
                 .arg(QString::fromLatin1(text), m_socket.errorString());
    return false;
}

bool ReferenceClient::login(const EmulatorInfo &info, QString *error, int timeoutMs)
{
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setCaCertificates({info.certificate}); // pinned: only the emulator's certificate is trusted
    ssl.setPeerVerifyMode(QSslSocket::VerifyPeer);
    m_socket.setSslConfiguration(ssl);
    m_socket.setPeerVerifyName(QStringLiteral("gcm.googleapis.com"));
    m_socket.connectToHostEncrypted(info.host, info.port);
    if (!spinUntil(
            [&] { return m_socket.isEncrypted() || m_socket.state() == QAbstractSocket::UnconnectedState; },
            timeoutMs)
        || !m_socket.isEncrypted()) {
        *error = QStringLiteral("reference client: TLS failed: %1").arg(m_socket.errorString());
        return false;
    }
    m_socket.write(kHeader);
    if (!waitForText("</stream:features>", error, timeoutMs))
        return false;
    const QByteArray plain = '\0' + (info.senderId + QStringLiteral("@gcm.googleapis.com")).toUtf8() + '\0'
        + info.apiKey.toUtf8();
    m_socket.write("<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"PLAIN\">" + plain.toBase64()
        + "</auth>");
    if (!waitForText("<success", error, timeoutMs))
        return false;
    m_socket.write(kHeader);
    if (!waitForText("</stream:features>", error, timeoutMs))
        return false;
    m_socket.write("<iq type=\"set\" id=\"bind-1\"><bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\">"
                   "<resource>ref</resource></bind></iq>");
    return waitForText("</iq>", error, timeoutMs);
}

void ReferenceClient::startSending()
{
    m_sending = true;
    fill();
}

void ReferenceClient::close()
{
    m_sending = false;
    if (m_socket.state() == QAbstractSocket::ConnectedState) {
        m_socket.write("</stream:stream>");
        m_socket.flush();
        m_socket.disconnectFromHost();
    }
}

void ReferenceClient::fill()
{
    const int total = int(m_work->stanzas.size());
    while (int(m_inflight.size()) < m_work->window && m_work->next < total) {
        const int index = m_work->next++;
        m_work->sentNs[size_t(index)] = m_work->clock.nsecsElapsed();
        m_socket.write(m_work->stanzas[size_t(index)]);
        m_inflight.push_back(index);
    }
}

void ReferenceClient::onReadyRead()
{
    m_buffer += m_socket.readAll();
    if (!m_sending)
        return;
    static const QByteArray end = "</message>";
    qsizetype pos = 0;
    const qint64 now = m_work->clock.nsecsElapsed();
    for (;;) {
        const qsizetype close = m_buffer.indexOf(end, pos);
        if (close < 0)
            break;
        const QByteArrayView stanza = QByteArrayView(m_buffer).sliced(pos, close - pos);
        pos = close + end.size();
        const bool ack = stanza.contains(QByteArrayView("\"message_type\":\"ack\""));
        const bool nack = !ack && stanza.contains(QByteArrayView("\"message_type\":\"nack\""));
        if ((!ack && !nack) || m_inflight.empty())
            continue; // not an answer to a downstream message
        const int index = m_inflight.front();
        m_inflight.pop_front();
        m_work->ackNs[size_t(index)] = now;
        ++(ack ? m_work->acked : m_work->nacked);
    }
    m_buffer.remove(0, pos);
    fill();
}

} // namespace ccs::bench
