// The admin API's live event stream (a WebSocket at /api/v1/events) over
// real loopback: the bearer token is required, events arrive in order with
// sequence numbers, a client can follow chosen connections, a client that
// does not read is cut off with a notice while the server's buffer for it
// stays bounded, and a client resumes from a sequence number (with a "gap"
// notice when the ring no longer holds it).
#include "RawCcsClient.h"
#include "TestEmulator.h"
#include "server/EmulatorAdminApi.h"
#include "server/EmulatorEventStream_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QWebSocket>

using namespace ccs;
using namespace ccs::test;

namespace {
// A WebSocket client that keeps every line it got.
class StreamReader : public QObject
{
public:
    StreamReader(const QString &url, const QByteArray &authorization)
    {
        QNetworkRequest request {QUrl(url)};
        if (!authorization.isEmpty())
            request.setRawHeader("Authorization", authorization);
        connect(&socket, &QWebSocket::textMessageReceived, this, [this](const QString &message) {
            ++messages;
            for (const QString &line : message.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
                lines.append(QJsonDocument::fromJson(line.toUtf8()).object());
        });
        connect(&socket, &QWebSocket::disconnected, this, [this] { closed = true; });
        socket.open(request);
    }
    QList<QJsonObject> events() const
    {
        QList<QJsonObject> out;
        for (const QJsonObject &o : lines) {
            if (o.contains(QLatin1String("seq")))
                out.append(o);
        }
        return out;
    }
    QList<QJsonObject> ofType(const QString &type) const
    {
        QList<QJsonObject> out;
        for (const QJsonObject &o : lines) {
            if (o.value(QLatin1String("type")).toString() == type)
                out.append(o);
        }
        return out;
    }
    QWebSocket socket;
    QList<QJsonObject> lines;
    int messages = 0;
    bool closed = false;
};

QJsonObject downstream(const QString &id, const QString &to = QStringLiteral("dev-1"))
{
    return {{QStringLiteral("to"), to}, {QStringLiteral("message_id"), id},
        {QStringLiteral("data"), QJsonObject {{QStringLiteral("n"), id}}}};
}
} // namespace

class TestAdminEvents : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void tokenRequired_data();
    void tokenRequired();
    void plainHttpIsToldToUpgrade();
    void eventsInOrderWithSequenceNumbers();
    void filterByConnection();
    void slowReaderCutOffWithBoundedBuffer();
    void resumeFromSequence();
    void resumeOlderThanRingGetsGap();

private:
    QString url(const QString &query = {}) const
    {
        return m_api->eventsUrl() + (query.isEmpty() ? QString() : QLatin1Char('?') + query);
    }
    QByteArray bearer() const { return "Bearer " + m_api->token().toLatin1(); }
    // n synthetic stanzas straight into the stream (as the emulator reports them).
    void inject(int n, int connection = 99)
    {
        auto *events = m_api->eventStream();
        for (int i = 0; i < n; ++i)
            events->downstreamReceived(connection, i, QStringLiteral("synthetic-%1").arg(i),
                QStringLiteral("dev-1"), {});
    }

    std::unique_ptr<TestEmulator> m_emu;
    std::unique_ptr<emulator::EmulatorAdminApi> m_api;
};

void TestAdminEvents::init()
{
    m_emu = std::make_unique<TestEmulator>();
    QVERIFY(m_emu->isRunning());
    m_api = std::make_unique<emulator::EmulatorAdminApi>(m_emu->server());
    QString error;
    QVERIFY2(m_api->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
}

void TestAdminEvents::cleanup()
{
    m_api.reset();
    m_emu.reset();
}

void TestAdminEvents::tokenRequired_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::newRow("none") << QByteArray();
    QTest::newRow("wrong") << QByteArray("Bearer not-the-token");
    QTest::newRow("prefix of the token") << QByteArray("prefix");
}

void TestAdminEvents::tokenRequired()
{
    QFETCH(QByteArray, header);
    if (header == "prefix")
        header = "Bearer " + m_api->token().left(10).toLatin1();
    StreamReader refused(url(), header);
    QTRY_VERIFY_WITH_TIMEOUT(refused.closed, 10000);
    QVERIFY(refused.socket.state() != QAbstractSocket::ConnectedState);
    QVERIFY(refused.events().isEmpty());
    QVERIFY(refused.ofType("hello").isEmpty());
    QCOMPARE(m_api->eventStream()->clientCount(), 0);
    // Nothing the stream says repeats the token.
    for (const QJsonObject &o : refused.lines)
        QVERIFY(!QJsonDocument(o).toJson().contains(m_api->token().toLatin1()));

    StreamReader accepted(url(), bearer());
    QTRY_COMPARE_WITH_TIMEOUT(accepted.ofType("hello").size(), 1, 10000);
    QVERIFY(!accepted.closed);
    QCOMPARE(m_api->eventStream()->clientCount(), 1);
}

void TestAdminEvents::plainHttpIsToldToUpgrade()
{
    QNetworkAccessManager nam;
    QNetworkRequest request(QUrl(m_api->baseUrl() + QStringLiteral("/api/v1/events")));
    request.setRawHeader("Authorization", bearer());
    std::unique_ptr<QNetworkReply> reply(nam.get(request));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10000);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 426);
    request.setRawHeader("Authorization", "Bearer wrong");
    std::unique_ptr<QNetworkReply> unauthorized(nam.get(request));
    QTRY_VERIFY_WITH_TIMEOUT(unauthorized->isFinished(), 10000);
    QCOMPARE(unauthorized->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 401);
}

void TestAdminEvents::eventsInOrderWithSequenceNumbers()
{
    StreamReader reader(url(), bearer());
    QTRY_COMPARE_WITH_TIMEOUT(reader.ofType("hello").size(), 1, 10000);

    RawCcsClient client;
    QString error;
    QVERIFY2(client.loginTo(*m_emu, &error), qPrintable(error));
    constexpr int kMessages = 30;
    for (int i = 0; i < kMessages; ++i)
        client.sendJson(downstream(QStringLiteral("m-%1").arg(i)));
    // An upstream message, ACKed by the app server.
    const QString upId = m_emu->server()->sendUpstream(QStringLiteral("dev-2"), {{"k", "v"}});
    QVERIFY(!upId.isEmpty());
    QVERIFY(client.waitFor([&] {
        for (const QJsonObject &m : client.gcmMessages()) {
            if (m.value("message_id").toString() == upId)
                return true;
        }
        return false;
    }));
    client.ack(QStringLiteral("dev-2"), upId);
    m_emu->server()->setDeviceOnline(QStringLiteral("dev-3"), false);
    emulator::FaultSchedule faults = m_emu->server()->faults();
    faults.ackDelayMs = 7;
    m_emu->server()->setFaults(faults);

    QTRY_COMPARE_WITH_TIMEOUT(reader.ofType("answer").size(), kMessages, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(reader.ofType("ack").size(), 1, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(reader.ofType("faults").size(), 1, 20000);

    // Every event numbered, one after the other, in the order they happened.
    const QList<QJsonObject> events = reader.events();
    const qint64 first = qint64(reader.ofType("hello").first().value("next_seq").toDouble());
    for (int i = 0; i < events.size(); ++i)
        QCOMPARE(qint64(events[i].value("seq").toDouble()), first + i);

    // The connection's life, stanzas both ways with answers and ACK latency.
    const int connection = events.first().value("connection").toInt();
    QVERIFY(connection > 0);
    QStringList states;
    for (const QJsonObject &e : reader.ofType("connection"))
        states << e.value("state").toString();
    QCOMPARE(states.mid(0, 3), (QStringList {"opened", "authenticated", "bound"}));
    const QList<QJsonObject> down = reader.ofType("downstream");
    QCOMPARE(down.size(), kMessages);
    QCOMPARE(down.first().value("message_id").toString(), QStringLiteral("m-0"));
    QCOMPARE(down.first().value("to").toString(), QStringLiteral("dev-1"));
    for (const QJsonObject &a : reader.ofType("answer")) {
        QCOMPARE(a.value("connection").toInt(), connection);
        QCOMPARE(a.value("answer").toString(), QStringLiteral("ack"));
        QVERIFY(a.value("latency_ms").toDouble() >= 0);
    }
    bool upstreamSeen = false;
    for (const QJsonObject &u : reader.ofType("upstream"))
        upstreamSeen = upstreamSeen || u.value("message_id").toString() == upId;
    QVERIFY(upstreamSeen);
    const QJsonObject ack = reader.ofType("ack").first();
    QCOMPARE(ack.value("to").toString(), QStringLiteral("dev-2"));
    QCOMPARE(ack.value("message_id").toString(), upId);
    QVERIFY(ack.value("matched").toBool());
    QVERIFY(ack.value("latency_ms").toDouble() >= 0);
    bool asleep = false;
    for (const QJsonObject &d : reader.ofType("device"))
        asleep = asleep || (d.value("token") == "dev-3" && d.value("change") == "asleep");
    QVERIFY(asleep);
    QCOMPARE(reader.ofType("faults").first().value("faults").toObject().value("ack_delay_ms").toInt(), 7);

    client.closeStream();
    QTRY_VERIFY_WITH_TIMEOUT(!reader.ofType("connection").isEmpty()
            && reader.ofType("connection").last().value("state") == "closed",
        20000);
}

void TestAdminEvents::filterByConnection()
{
    RawCcsClient a, b;
    QString error;
    QVERIFY2(a.loginTo(*m_emu, &error), qPrintable(error));
    QVERIFY2(b.loginTo(*m_emu, &error), qPrintable(error));
    const QList<emulator::ConnectionInfo> connections = m_emu->server()->connections();
    QCOMPARE(connections.size(), 2);
    const int idA = connections.at(0).id;
    const int idB = connections.at(1).id;

    StreamReader onlyA(url(QStringLiteral("connection=%1").arg(idA)), bearer());
    StreamReader all(url(), bearer());
    QTRY_COMPARE_WITH_TIMEOUT(onlyA.ofType("hello").size(), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(all.ofType("hello").size(), 1, 10000);
    for (int i = 0; i < 5; ++i) {
        a.sendJson(downstream(QStringLiteral("a-%1").arg(i)));
        b.sendJson(downstream(QStringLiteral("b-%1").arg(i)));
    }
    m_emu->server()->setDeviceOnline(QStringLiteral("dev-3"), false); // not tied to a connection
    QTRY_COMPARE_WITH_TIMEOUT(all.ofType("answer").size(), 10, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(onlyA.ofType("answer").size(), 5, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(onlyA.ofType("device").size(), 1, 20000);
    for (const QJsonObject &e : onlyA.events()) {
        if (e.contains("connection"))
            QCOMPARE(e.value("connection").toInt(), idA);
    }
    for (const QJsonObject &e : onlyA.ofType("downstream"))
        QVERIFY(e.value("message_id").toString().startsWith("a-"));
    int fromB = 0;
    for (const QJsonObject &e : all.events())
        fromB += e.value("connection").toInt() == idB ? 1 : 0;
    QVERIFY(fromB >= 10);
    // Sequence numbers still increase (with holes where other connections' events were).
    qint64 last = 0;
    for (const QJsonObject &e : onlyA.events()) {
        QVERIFY(qint64(e.value("seq").toDouble()) > last);
        last = qint64(e.value("seq").toDouble());
    }

    StreamReader bad(url(QStringLiteral("connection=abc")), bearer());
    QTRY_VERIFY_WITH_TIMEOUT(bad.closed, 10000);
    QVERIFY(!bad.ofType("error").isEmpty());
}

void TestAdminEvents::slowReaderCutOffWithBoundedBuffer()
{
    emulator::EmulatorEventStream::Limits limits;
    limits.ringEvents = 400000;
    limits.clientBufferBytes = 64 * 1024;
    limits.clientLagEvents = 5000;
    limits.maxMessageBytes = 16 * 1024;
    m_api->eventStream()->setLimits(limits);

    // A reader that opens the stream and then never reads: a bare socket that
    // does the handshake by hand and keeps at most 1 KiB of what arrives.
    QTcpSocket raw;
    raw.connectToHost(QHostAddress::LocalHost, m_api->port());
    QVERIFY(raw.waitForConnected(10000));
    raw.write("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              "Sec-WebSocket-Version: 13\r\nAuthorization: "
        + bearer() + "\r\n\r\n");
    QByteArray handshake;
    QTRY_VERIFY_WITH_TIMEOUT((handshake += raw.readAll()).contains("\r\n\r\n"), 10000);
    QVERIFY2(handshake.startsWith("HTTP/1.1 101"), handshake.constData());
    QTRY_COMPARE_WITH_TIMEOUT(m_api->eventStream()->clientCount(), 1, 10000);
    raw.setReadBufferSize(1024);

    // Far more than the kernel's socket buffers hold, in bursts.
    auto *events = m_api->eventStream();
    for (int burst = 0; burst < 300 && events->cutOffs() == 0; ++burst) {
        inject(1000);
        QTest::qWait(5);
    }
    QTRY_COMPARE_WITH_TIMEOUT(events->cutOffs(), 1, 20000);
    // What the server held for the reader stayed bounded by its cap (+ one message).
    QVERIFY2(events->peakClientBuffer() <= limits.clientBufferBytes + limits.maxMessageBytes + 64,
        qPrintable(QString::number(events->peakClientBuffer())));

    // The reader reads at last: events, then the notice naming where to resume, then a close.
    raw.setReadBufferSize(0);
    QByteArray stream = handshake.mid(handshake.indexOf("\r\n\r\n") + 4);
    QList<QByteArray> texts;
    int closeCode = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            stream += raw.readAll();
            // Server frames are not masked: FIN|opcode, length, payload.
            while (stream.size() >= 2) {
                const int opcode = stream.at(0) & 0x0f;
                qint64 length = quint8(stream.at(1)) & 0x7f;
                int header = 2;
                if (length == 126) {
                    if (stream.size() < 4)
                        break;
                    length = (quint8(stream.at(2)) << 8) | quint8(stream.at(3));
                    header = 4;
                } else if (length == 127) {
                    if (stream.size() < 10)
                        break;
                    length = 0;
                    for (int i = 2; i < 10; ++i)
                        length = (length << 8) | quint8(stream.at(i));
                    header = 10;
                }
                if (stream.size() < header + length)
                    break;
                const QByteArray payload = stream.mid(header, length);
                stream.remove(0, int(header + length));
                if (opcode == 1)
                    texts.append(payload);
                else if (opcode == 8)
                    closeCode = (quint8(payload.at(0)) << 8) | quint8(payload.at(1));
            }
            return closeCode != 0;
        }(),
        20000);
    QCOMPARE(closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
    const QJsonObject notice = QJsonDocument::fromJson(texts.last()).object();
    QCOMPARE(notice.value("type").toString(), QStringLiteral("cut_off"));
    QVERIFY(notice.value("reason").toString().contains("slow reader"));
    const qint64 resumeFrom = qint64(notice.value("resume_from").toDouble());
    // Everything before the notice is in order and ends right before resume_from.
    qint64 lastSeq = 0;
    for (int i = 0; i + 1 < texts.size(); ++i) {
        for (const QByteArray &line : texts.at(i).split('\n')) {
            const QJsonObject e = QJsonDocument::fromJson(line).object();
            if (!e.contains("seq"))
                continue;
            const qint64 seq = qint64(e.value("seq").toDouble());
            QVERIFY(lastSeq == 0 || seq == lastSeq + 1);
            lastSeq = seq;
        }
    }
    QCOMPARE(resumeFrom, lastSeq + 1);
    QTRY_COMPARE_WITH_TIMEOUT(events->clientCount(), 0, 20000);

    // Resuming there carries on without a hole.
    StreamReader resumed(url(QStringLiteral("from=%1").arg(resumeFrom)), bearer());
    QTRY_VERIFY_WITH_TIMEOUT(!resumed.events().isEmpty(), 20000);
    QCOMPARE(qint64(resumed.events().first().value("seq").toDouble()), resumeFrom);
    QVERIFY(resumed.ofType("gap").isEmpty());
}

void TestAdminEvents::resumeFromSequence()
{
    inject(50, 5);
    const quint64 last = m_api->eventStream()->lastSeq();
    QCOMPARE(last, quint64(50));
    StreamReader reader(url(QStringLiteral("from=21")), bearer());
    QTRY_COMPARE_WITH_TIMEOUT(reader.events().size(), 30, 10000);
    QCOMPARE(qint64(reader.events().first().value("seq").toDouble()), 21);
    QCOMPARE(reader.events().first().value("message_id").toString(), QStringLiteral("synthetic-20"));
    QVERIFY(reader.ofType("gap").isEmpty());
    inject(3, 5);
    QTRY_COMPARE_WITH_TIMEOUT(reader.events().size(), 33, 10000);
    QCOMPARE(qint64(reader.events().last().value("seq").toDouble()), 53);

    // Without from: only what happens from now on.
    StreamReader live(url(), bearer());
    QTRY_COMPARE_WITH_TIMEOUT(live.ofType("hello").size(), 1, 10000);
    QCOMPARE(qint64(live.ofType("hello").first().value("next_seq").toDouble()), 54);
    inject(1, 5);
    QTRY_COMPARE_WITH_TIMEOUT(live.events().size(), 1, 10000);
    QCOMPARE(qint64(live.events().first().value("seq").toDouble()), 54);
}

void TestAdminEvents::resumeOlderThanRingGetsGap()
{
    emulator::EmulatorEventStream::Limits limits;
    limits.ringEvents = 100;
    m_api->eventStream()->setLimits(limits);
    inject(500, 5);
    StreamReader reader(url(QStringLiteral("from=1")), bearer());
    QTRY_COMPARE_WITH_TIMEOUT(reader.events().size(), 100, 10000);
    QCOMPARE(reader.ofType("gap").size(), 1);
    const QJsonObject gap = reader.ofType("gap").first();
    QCOMPARE(qint64(gap.value("missed_from").toDouble()), 1);
    QCOMPARE(qint64(gap.value("missed_to").toDouble()), 400);
    // The notice comes before the events it concerns.
    QVERIFY(reader.lines.indexOf(gap) < reader.lines.indexOf(reader.events().first()));
    QCOMPARE(qint64(reader.events().first().value("seq").toDouble()), 401);
    QCOMPARE(qint64(reader.events().last().value("seq").toDouble()), 500);
}

QTEST_GUILESS_MAIN(TestAdminEvents)
#include "tst_admin_events.moc"
