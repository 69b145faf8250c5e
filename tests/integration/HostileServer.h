#pragma once

// A deliberately small, scriptable CCS server for the hostile-input and
// secrets tests: direct TLS (QSslServer) or plain TCP, just enough XMPP to
// get a client bound (stream header, features, SASL success, bind result),
// then whatever the test wants it to send. Written from the reference, not
// from ccscore/server, so that the client is tested against an outsider.

#include "TestCertificates.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QObject>
#include <QRegularExpression>
#include <QSet>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <memory>

namespace ccs::test {

// Where in the handshake the hostile bytes replace the normal answer.
enum class HostileStage {
    None, // behave: bind and ACK every downstream message
    AfterBind, // once the client's messages arrived: the hostile bytes, then (optionally) ACKs
    InsteadOfHeader, // instead of the stream header and features
    InsteadOfFeatures, // after a correct stream header
    InsteadOfSaslResult, // instead of <success/>
    InsteadOfRestartFeatures, // after the restarted stream header
    InsteadOfBindResult,
    SilentAfterTls, // says nothing at all
};

enum class HostileClose { None, Graceful, Abort };

struct HostileScript {
    HostileStage stage = HostileStage::None;
    QByteArray bytes;
    bool ackAfter = true; // AfterBind: ACK the pending messages after the hostile bytes
    HostileClose close = HostileClose::None;
    int expectedMessages = 1; // AfterBind waits for this many downstream messages
    bool onlyFirstConnection = true; // later connections behave
    QList<QByteArray> mechanisms = {"PLAIN"};
    QByteArray onConnect; // written as soon as a client connects (a plain server greeting first)
    int chunkBytes = 0; // > 0: the hostile bytes go out in pieces of this size, 1 ms apart
    QByteArray whenBound; // written on every behaving connection right after its bind result
};

class HostileServer : public QObject
{

public:
    explicit HostileServer(bool tls = true, QObject *parent = nullptr)
        : QObject(parent)
        , m_tls(tls)
    { }

    void setCertificate(const QSslCertificate &certificate, const QSslKey &key)
    {
        m_certificate = certificate;
        m_key = key;
    }
    void setScript(const HostileScript &script) { m_script = script; }

    bool listen()
    {
        if (m_tls) {
            auto server = std::make_unique<QSslServer>();
            QSslConfiguration config = QSslConfiguration::defaultConfiguration();
            config.setLocalCertificate(m_certificate);
            config.setPrivateKey(m_key);
            config.setPeerVerifyMode(QSslSocket::VerifyNone);
            server->setSslConfiguration(config);
            server->setHandshakeTimeout(5000);
            // A failed handshake is the client's refusal: record it, nothing more.
            connect(server.get(), &QSslServer::errorOccurred, this,
                [this](QSslSocket *, QAbstractSocket::SocketError) { ++m_handshakeFailures; });
            m_server = std::move(server);
        } else {
            m_server = std::make_unique<QTcpServer>();
        }
        connect(m_server.get(), &QTcpServer::pendingConnectionAvailable, this, &HostileServer::onPending);
        return m_server->listen(QHostAddress::LocalHost, 0);
    }
    quint16 port() const { return m_server ? m_server->serverPort() : 0; }

    int connections() const { return m_connectionCount; }
    int handshakeFailures() const { return m_handshakeFailures; }
    // Everything each connection received (decrypted), in order.
    QList<QByteArray> received() const
    {
        QList<QByteArray> all;
        for (const auto &c : m_conns)
            all.append(c->buffer);
        return all;
    }
    // Downstream message ids received, per connection.
    QList<QStringList> idsByConnection() const
    {
        QList<QStringList> all;
        for (const auto &c : m_conns)
            all.append(c->ids);
        return all;
    }
    bool hostileSent() const { return m_hostileSent; }

private:
    struct Conn {
        QTcpSocket *socket = nullptr;
        QByteArray buffer;
        qsizetype pos = 0;
        int state = 0; // 0 header, 1 auth, 2 restart, 3 bind, 4 bound
        bool hostile = false;
        bool hostileDone = false;
        QStringList ids;
        QSet<QString> acked;
        std::shared_ptr<QByteArray> piecesLeft = std::make_shared<QByteArray>();
    };

    void onPending()
    {
        while (m_server->hasPendingConnections()) {
            QTcpSocket *socket = m_server->nextPendingConnection();
            if (!socket)
                break;
            auto conn = std::make_shared<Conn>();
            conn->socket = socket;
            conn->hostile = m_script.stage != HostileStage::None
                && (!m_script.onlyFirstConnection || m_connectionCount == 0);
            ++m_connectionCount;
            m_conns.append(conn);
            socket->setParent(this);
            connect(socket, &QTcpSocket::readyRead, this, [this, conn] { onRead(*conn); });
            if (!m_script.onConnect.isEmpty())
                write(*conn, m_script.onConnect);
            if (conn->hostile && m_script.stage == HostileStage::SilentAfterTls)
                conn->hostileDone = true;
            if (socket->bytesAvailable() > 0)
                onRead(*conn);
        }
    }

    void write(Conn &c, const QByteArray &bytes)
    {
        if (!c.piecesLeft->isEmpty())
            c.piecesLeft->append(bytes); // behind the bytes still going out in pieces
        else if (c.socket->state() == QAbstractSocket::ConnectedState)
            c.socket->write(bytes);
    }

    // Each piece flushed on its own and a millisecond apart, so that the client's
    // reads end anywhere, mid-tag and mid-entity included. What the server writes
    // meanwhile goes out after them, in pieces too.
    void writeInPieces(Conn &c, const QByteArray &bytes, int size)
    {
        QTcpSocket *socket = c.socket;
        std::shared_ptr<QByteArray> left = c.piecesLeft;
        left->append(bytes);
        auto timer = new QTimer(socket);
        connect(timer, &QTimer::timeout, socket, [socket, timer, left, size] {
            if (left->isEmpty() || socket->state() != QAbstractSocket::ConnectedState) {
                left->clear();
                timer->deleteLater();
                return;
            }
            socket->write(left->left(size));
            socket->flush();
            left->remove(0, size);
        });
        timer->start(1);
    }

    // Sends the hostile bytes in place of the normal answer; true if it did.
    bool hostileAt(Conn &c, HostileStage stage)
    {
        if (!c.hostile || c.hostileDone || m_script.stage != stage)
            return false;
        c.hostileDone = true;
        m_hostileSent = true;
        write(c, m_script.bytes);
        finishHostile(c);
        return true;
    }

    void finishHostile(Conn &c)
    {
        if (m_script.close == HostileClose::Graceful)
            c.socket->disconnectFromHost();
        else if (m_script.close == HostileClose::Abort)
            c.socket->abort();
    }

    static QByteArray header()
    {
        return "<?xml version='1.0'?><stream:stream from='gcm.googleapis.com' id='h1' version='1.0' "
               "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    }

    static QByteArray ack(const QString &id)
    {
        return "<message id='a-" + id.toUtf8()
            + "'><gcm xmlns='google:mobile:data'>{\"message_type\":\"ack\","
            + "\"from\":\"dev-1\",\"message_id\":\"" + id.toUtf8() + "\"}</gcm></message>";
    }

    void onRead(Conn &c)
    {
        if (c.socket->state() != QAbstractSocket::ConnectedState)
            return;
        c.buffer += c.socket->readAll();
        for (;;) {
            const int before = c.state;
            step(c);
            if (c.state == before || c.socket->state() != QAbstractSocket::ConnectedState)
                break;
        }
    }

    void step(Conn &c)
    {
        if (c.hostile && c.hostileDone && m_script.stage != HostileStage::AfterBind)
            return; // said its piece; reads on, answers nothing
        switch (c.state) {
        case 0: {
            const qsizetype at = c.buffer.indexOf("<stream:stream", c.pos);
            const qsizetype end = at < 0 ? -1 : c.buffer.indexOf('>', at);
            if (end < 0)
                return;
            c.pos = end + 1;
            c.state = 1;
            if (hostileAt(c, HostileStage::InsteadOfHeader))
                return;
            write(c, header());
            if (hostileAt(c, HostileStage::InsteadOfFeatures))
                return;
            QByteArray mechs;
            for (const QByteArray &m : m_script.mechanisms)
                mechs += "<mechanism>" + m + "</mechanism>";
            write(c,
                "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + mechs
                    + "</mechanisms></stream:features>");
            return;
        }
        case 1: {
            const qsizetype at = c.buffer.indexOf("</auth>", c.pos);
            if (at < 0)
                return;
            c.pos = at + 7;
            c.state = 2;
            if (hostileAt(c, HostileStage::InsteadOfSaslResult))
                return;
            write(c, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
            return;
        }
        case 2: {
            const qsizetype at = c.buffer.indexOf("<stream:stream", c.pos);
            const qsizetype end = at < 0 ? -1 : c.buffer.indexOf('>', at);
            if (end < 0)
                return;
            c.pos = end + 1;
            c.state = 3;
            write(c, header());
            if (hostileAt(c, HostileStage::InsteadOfRestartFeatures))
                return;
            write(c,
                "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                "</stream:features>");
            return;
        }
        case 3: {
            const qsizetype at = c.buffer.indexOf("</iq>", c.pos);
            if (at < 0)
                return;
            const QString iq = QString::fromUtf8(c.buffer.mid(c.pos, at + 5 - c.pos));
            c.pos = at + 5;
            if (!iq.contains(QLatin1String("xmpp-bind")))
                return; // not the bind request: keep waiting
            static const QRegularExpression idRe(QStringLiteral("<iq[^>]*\\bid=[\"']([^\"']*)[\"']"));
            const QString id = idRe.match(iq).captured(1);
            c.state = 4;
            if (hostileAt(c, HostileStage::InsteadOfBindResult))
                return;
            write(c,
                "<iq type='result' id='" + id.toUtf8()
                    + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>123456789012@gcm.googleapis.com/"
                      "ccs-admin</jid></bind></iq>");
            if (!c.hostile && !m_script.whenBound.isEmpty())
                write(c, m_script.whenBound);
            return;
        }
        default: {
            static const QRegularExpression msgRe(QStringLiteral("<message[^>]*\\bid=[\"']([^\"']+)[\"']"));
            // Only complete stanzas: up to the last </message>.
            const qsizetype end = c.buffer.lastIndexOf("</message>");
            if (end >= c.pos) {
                const QString chunk = QString::fromUtf8(c.buffer.mid(c.pos, end + 10 - c.pos));
                c.pos = end + 10;
                auto it = msgRe.globalMatch(chunk);
                while (it.hasNext())
                    c.ids.append(it.next().captured(1));
            }
            const bool waitForHostile
                = c.hostile && !c.hostileDone && m_script.stage == HostileStage::AfterBind;
            if (waitForHostile) {
                if (c.ids.size() < m_script.expectedMessages)
                    return;
                c.hostileDone = true;
                m_hostileSent = true;
                if (m_script.chunkBytes > 0)
                    writeInPieces(c, m_script.bytes, m_script.chunkBytes);
                else
                    write(c, m_script.bytes);
                if (!m_script.ackAfter) {
                    finishHostile(c);
                    return;
                }
            }
            QByteArray acks;
            for (const QString &id : std::as_const(c.ids)) {
                if (!c.acked.contains(id)) {
                    c.acked.insert(id);
                    acks += ack(id);
                }
            }
            if (!acks.isEmpty())
                write(c, acks);
            if (waitForHostile)
                finishHostile(c);
            return;
        }
        }
    }

    bool m_tls;
    QSslCertificate m_certificate;
    QSslKey m_key;
    HostileScript m_script;
    std::unique_ptr<QTcpServer> m_server;
    QList<std::shared_ptr<Conn>> m_conns;
    int m_connectionCount = 0;
    int m_handshakeFailures = 0;
    bool m_hostileSent = false;
};

} // namespace ccs::test
