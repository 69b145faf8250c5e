// CcsSession against a scripted hostile server (HostileServer.h), for the
// client's own decisions that tst_hostile_server leaves open: which cases end
// the connection and with which error, the answer timeout for messages the
// server never answers, and receipts that overtake ACKs. Every case must lose
// no message and send none twice on one connection.

#include "HostileServer.h"
#include "SessionTestSupport.h"

#include <QLoggingCategory>
#include <QSignalSpy>
#include <QTest>

using namespace ccs;
using namespace ccs::test;

namespace {

constexpr int kMessages = 3;

QByteArray gcm(const QByteArray &json, const QByteArray &id = "x")
{
    return "<message id='" + id + "'><gcm xmlns='google:mobile:data'>" + json + "</gcm></message>";
}

QByteArray receiptFor(const QByteArray &id)
{
    return gcm(R"({"message_type":"receipt","message_id":"dr2:)" + id
        + R"(","from":"gcm.googleapis.com","category":"c","data":{"message_status":"MESSAGE_SENT_TO_DEVICE",)"
          R"("original_message_id":")"
        + id + R"(","device_registration_id":"dev-1"}})");
}

} // namespace

class TestSessionHardening : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void endsConnection_data();
    void endsConnection();
    void answerTimeoutOff();
    void receiptBeforeAck();
    void receiptWhileRetryWaiting();
    void receiptForUnsentMessageIgnored();
    void plainAndOtherStanzasSplitAnywhere_data();
    void plainAndOtherStanzasSplitAnywhere();
    void drainStormIsBounded();

private:
    ConnectionSettings settingsFor(const HostileServer &server) const;
    void queueMessages(CcsSession &session, QStringList *ids);
    void verifyNoneTwiceOnOneConnection(const HostileServer &server);

    TestCertificate m_cert;
};

void TestSessionHardening::initTestCase()
{
    QVERIFY(makeTestCertificate(goodCertificateNames(), -3600, 86400, &m_cert));
    QLoggingCategory::setFilterRules(QStringLiteral("ccs.*.debug=false\nccs.*.info=false"));
}

ConnectionSettings TestSessionHardening::settingsFor(const HostileServer &server) const
{
    ConnectionSettings s;
    s.host = QStringLiteral("127.0.0.1");
    s.port = server.port();
    s.senderId = QString::fromLatin1(TestEmulator::kSenderId);
    s.apiKey = QString::fromLatin1(TestEmulator::kApiKey);
    s.pinnedCertificates = {m_cert.certificate};
    s.connectTimeoutMs = 15000; // a loaded machine may take seconds to finish the handshake
    return s;
}

void TestSessionHardening::queueMessages(CcsSession &session, QStringList *ids)
{
    for (int i = 1; i <= kMessages; ++i) {
        const QString id = QStringLiteral("h-%1").arg(i);
        ValidationFailure failure;
        QVERIFY2(
            session.send(downstream(QStringLiteral("dev-1"), id), &failure), qPrintable(failure.description));
        ids->append(id);
    }
}

void TestSessionHardening::verifyNoneTwiceOnOneConnection(const HostileServer &server)
{
    for (const QStringList &sent : server.idsByConnection())
        QCOMPARE(QSet<QString>(sent.begin(), sent.end()).size(), sent.size());
}

void TestSessionHardening::endsConnection_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("answerTimeoutMs");
    QTest::addColumn<SessionError>("expected");
    QTest::addColumn<QString>("words"); // the error message must hold them

    QTest::newRow("second-stream-header")
        << QByteArray("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        << 30000 << SessionError::ProtocolError << QStringLiteral("restarted the XML stream");
    QTest::newRow("invalid-utf8") << gcm(R"({"message_type":"ack","message_id":"h-1","x":")"
                                         "\xc0\xaf"
                                         R"("})")
                                  << 30000 << SessionError::ProtocolError << QStringLiteral("not UTF-8");
    QTest::newRow("tag-over-256KiB") << "<message " +
            [] {
                QByteArray a;
                for (int i = 0; i < 60000; ++i)
                    a += "a" + QByteArray::number(i) + "='x' ";
                return a;
            }()
            + "/>" << 30000 << SessionError::ProtocolError
                                     << QStringLiteral("longer than 256 KiB");
    QTest::newRow("nesting-over-16384") << QByteArray("<a>").repeated(20000) << 30000
                                        << SessionError::ProtocolError << QStringLiteral("16384 deep");
    QTest::newRow("malformed-xml") << QByteArray("<message id='a' id='b'/>") << 30000
                                   << SessionError::ProtocolError << QStringLiteral("cannot be read");
    // Never answered: the connection is treated as lost after the answer timeout.
    QTest::newRow("silent-server") << QByteArray() << 1000 << SessionError::Timeout
                                   << QStringLiteral("has not answered message h-");
    // Stanzas that are not answers (and need no ACK, which would make this server answer)
    // do not keep un-answered messages waiting.
    QTest::newRow("talkative-server-never-answers")
        << QByteArray("<presence/>") + gcm(R"({"message_type":"bogus"})")
            + gcm(R"({"message_type":"control","control_type":"SELF_DESTRUCT"})") + QByteArray("\n ")
        << 1000 << SessionError::Timeout << QStringLiteral("reconnecting to send the 3 pending");
}

void TestSessionHardening::endsConnection()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, answerTimeoutMs);
    QFETCH(SessionError, expected);
    QFETCH(QString, words);

    HostileServer server;
    server.setCertificate(m_cert.certificate, m_cert.key);
    HostileScript script;
    script.stage = HostileStage::AfterBind;
    script.bytes = bytes;
    script.ackAfter = false; // the first connection never answers; the next one behaves
    script.expectedMessages = kMessages;
    server.setScript(script);
    QVERIFY(server.listen());

    CcsSession session;
    QSignalSpy errors(&session, &CcsSession::errorOccurred);
    QStringList ids;
    queueMessages(session, &ids);
    ConnectionSettings settings = settingsFor(server);
    settings.answerTimeoutMs = answerTimeoutMs;
    session.setSettings(settings);
    session.open();

    QVERIFY(QTest::qWaitFor([&] { return ackedCount(session.ledger()) == kMessages; }, 60000));
    QVERIFY(!errors.isEmpty());
    QCOMPARE(errors.first().at(0).value<SessionError>(), expected);
    const QString message = errors.first().at(1).toString();
    QVERIFY2(message.contains(words), qPrintable(message));
    QVERIFY(!message.contains(QLatin1String(TestEmulator::kApiKey)));
    QCOMPARE(server.connections(), 2);
    QCOMPARE(session.state(), SessionState::Connected);
    for (const QString &id : std::as_const(ids)) {
        const LedgerEntry *entry = session.ledger()->find(id);
        QCOMPARE(entry->state, MessageState::Acked);
        QCOMPARE(entry->attempts, 2); // once on each connection
    }
    verifyNoneTwiceOnOneConnection(server);
    session.close();
}

void TestSessionHardening::answerTimeoutOff()
{
    HostileServer server;
    server.setCertificate(m_cert.certificate, m_cert.key);
    HostileScript script;
    script.stage = HostileStage::AfterBind;
    script.ackAfter = false;
    script.expectedMessages = kMessages;
    server.setScript(script);
    QVERIFY(server.listen());

    CcsSession session;
    QSignalSpy errors(&session, &CcsSession::errorOccurred);
    QStringList ids;
    queueMessages(session, &ids);
    ConnectionSettings settings = settingsFor(server);
    settings.answerTimeoutMs = 0; // wait for ever
    session.setSettings(settings);
    session.open();
    QVERIFY(QTest::qWaitFor([&] { return server.hostileSent(); }, 60000));
    QTest::qWait(1500);
    QVERIFY(errors.isEmpty());
    QCOMPARE(server.connections(), 1);
    QCOMPARE(session.ledger()->count(MessageState::InFlight), kMessages);
    session.close();
    // Closing puts them back in the queue: nothing is lost.
    QCOMPARE(session.ledger()->count(MessageState::Queued), kMessages);
}

// A receipt that comes before the ACK is held: the message becomes Delivered once it is
// ACKed, so Delivered always follows Acked.
void TestSessionHardening::receiptBeforeAck()
{
    HostileServer server;
    server.setCertificate(m_cert.certificate, m_cert.key);
    HostileScript script;
    script.stage = HostileStage::AfterBind;
    script.bytes = receiptFor("h-1");
    script.ackAfter = true;
    script.expectedMessages = kMessages;
    server.setScript(script);
    QVERIFY(server.listen());

    CcsSession session;
    QSignalSpy receipts(&session, &CcsSession::receiptReceived);
    QStringList ids;
    queueMessages(session, &ids);
    session.setSettings(settingsFor(server));
    session.open();
    QVERIFY(QTest::qWaitFor([&] { return ackedCount(session.ledger()) == kMessages; }, 60000));
    QCOMPARE(receipts.size(), 1);
    const LedgerEntry *h1 = session.ledger()->find(QStringLiteral("h-1"));
    QCOMPARE(h1->state, MessageState::Delivered);
    QCOMPARE(h1->history.size(), 4); // Queued, InFlight, Acked, Delivered
    QCOMPARE(h1->history.at(2).state, MessageState::Acked);
    QCOMPARE(h1->history.at(3).detail, QStringLiteral("MESSAGE_SENT_TO_DEVICE"));
    QCOMPARE(session.ledger()->find(QStringLiteral("h-2"))->state, MessageState::Acked);
    QCOMPARE(server.connections(), 1);
    verifyNoneTwiceOnOneConnection(server);
    session.close();
}

// The receipt for an earlier copy arrives after a later copy was NACKed: the retry still
// goes out (the NACK said that copy was not taken), and once it is ACKed the message is
// Delivered. This server does not ACK a message twice on one connection, so the retry is
// answered only on the next connection, after the answer timeout.
void TestSessionHardening::receiptWhileRetryWaiting()
{
    HostileServer server;
    server.setCertificate(m_cert.certificate, m_cert.key);
    HostileScript script;
    script.stage = HostileStage::AfterBind;
    script.bytes
        = gcm(R"({"message_type":"nack","message_id":"h-1","from":"dev-1","error":"SERVICE_UNAVAILABLE"})",
              "n1")
        + receiptFor("h-1");
    script.ackAfter = true; // then ACKs h-2 and h-3 (and h-1, no longer pending: ignored)
    script.expectedMessages = kMessages;
    server.setScript(script);
    QVERIFY(server.listen());

    CcsSession session;
    QStringList ids;
    queueMessages(session, &ids);
    ConnectionSettings settings = settingsFor(server);
    settings.answerTimeoutMs = 1000;
    session.setSettings(settings);
    session.open();
    QVERIFY(QTest::qWaitFor([&] { return ackedCount(session.ledger()) == kMessages; }, 60000));
    const LedgerEntry *h1 = session.ledger()->find(QStringLiteral("h-1"));
    QCOMPARE(h1->state, MessageState::Delivered);
    QCOMPARE(h1->retries, 1);
    QCOMPARE(h1->attempts, 3); // first copy, retry on the same connection, again on the next
    QCOMPARE(h1->history.at(h1->history.size() - 2).state, MessageState::Acked);
    QCOMPARE(server.connections(), 2);
    session.close();
}

// A server that drains every connection at once and closes none: the session keeps
// replacing them, but does not keep more than a few draining connections open.
void TestSessionHardening::drainStormIsBounded()
{
    HostileServer server;
    server.setCertificate(m_cert.certificate, m_cert.key);
    HostileScript script;
    script.stage = HostileStage::AfterBind;
    script.bytes = gcm(R"({"message_type":"control","control_type":"CONNECTION_DRAINING"})");
    script.ackAfter = true;
    script.expectedMessages = 0; // right after bind
    script.onlyFirstConnection = false;
    server.setScript(script);
    QVERIFY(server.listen());

    CcsSession session;
    QStringList ids;
    queueMessages(session, &ids);
    session.setSettings(settingsFor(server));
    session.open();
    int most = 0;
    QVERIFY(QTest::qWaitFor(
        [&] {
            most = std::max(most, int(session.connections().size()));
            return server.connections() >= 12;
        },
        10000));
    QVERIFY2(most <= 6, qPrintable(QString::number(most))); // 4 draining, 1 closing, 1 new
    QVERIFY(QTest::qWaitFor([&] { return ackedCount(session.ledger()) == kMessages; }, 60000));
    session.close();
}

// A receipt for a message that has not been written anywhere yet is not believed.
void TestSessionHardening::receiptForUnsentMessageIgnored()
{
    HostileServer server;
    server.setCertificate(m_cert.certificate, m_cert.key);
    HostileScript script;
    script.stage = HostileStage::AfterBind;
    script.bytes = receiptFor("h-2");
    script.ackAfter = true;
    script.expectedMessages = 1; // the window holds one message
    server.setScript(script);
    QVERIFY(server.listen());

    CcsSession session;
    QStringList ids;
    queueMessages(session, &ids);
    ConnectionSettings settings = settingsFor(server);
    settings.windowSize = 1;
    session.setSettings(settings);
    session.open();
    QVERIFY(QTest::qWaitFor([&] { return ackedCount(session.ledger()) == kMessages; }, 60000));
    for (const QString &id : std::as_const(ids))
        QCOMPARE(session.ledger()->find(id)->state, MessageState::Acked);
    QCOMPARE(session.ledger()->find(QStringLiteral("h-2"))->attempts, 1);
    QCOMPARE(server.connections(), 1);
    session.close();
}

void TestSessionHardening::plainAndOtherStanzasSplitAnywhere_data()
{
    QTest::addColumn<int>("chunkBytes");
    QTest::newRow("one write") << 0;
    QTest::newRow("1 byte at a time") << 1;
    QTest::newRow("7 bytes at a time") << 7;
    QTest::newRow("100 bytes at a time") << 100;
}

// The plain stanzas CCS sends are read by a fast path, everything else by the XML
// reader. Mixed, and cut at every possible place, they must read the same: every
// ACK counts, every upstream message arrives once with its text unescaped.
void TestSessionHardening::plainAndOtherStanzasSplitAnywhere()
{
    QFETCH(int, chunkBytes);
    const QByteArray plain = R"(<message><gcm xmlns="google:mobile:data">)";
    const QByteArray bytes
        // plain, with an id attribute
        = R"(<message id="s-1"><gcm xmlns="google:mobile:data">{"message_type":"ack","from":"dev-1",)"
          R"("message_id":"h-1"}</gcm></message>)"
          "\n  "
        // plain, every entity the fast path knows
        + plain
        + R"({"from":"dev-1","message_id":"up-1","category":"c","data":{"t":"a&lt;b&amp;c&gt;\&quot;&apos;"}})"
          "</gcm></message>"
        // not plain: single quotes and a character reference
        + R"(<message id='s-2'><gcm xmlns='google:mobile:data'>{&#34;message_type&#34;:"ack",)"
          R"("from":"dev-1","message_id":"h-2"}</gcm></message>)"
        // not plain: CDATA
        + plain
        + R"(<![CDATA[{"from":"dev-1","message_id":"up-2","category":"c","data":{"t":"<b>"}}]]>)"
          "</gcm></message>"
        // plain again: a redelivery of up-1, then the last ACK
        + plain
        + R"({"from":"dev-1","message_id":"up-1","category":"c","data":{"t":"a&lt;b&amp;c&gt;\&quot;&apos;"}})"
          "</gcm></message>"
        + plain + R"({"message_type":"ack","from":"dev-1","message_id":"h-3"}</gcm></message>)";

    HostileServer server;
    server.setCertificate(m_cert.certificate, m_cert.key);
    HostileScript script;
    script.stage = HostileStage::AfterBind;
    script.bytes = bytes;
    script.ackAfter = false;
    script.expectedMessages = kMessages;
    script.chunkBytes = chunkBytes;
    server.setScript(script);
    QVERIFY(server.listen());

    CcsSession session;
    QList<UpstreamMessage> upstream;
    connect(&session, &CcsSession::upstreamReceived, this,
        [&](const UpstreamMessage &m, int, qint64) { upstream.append(m); });
    QSignalSpy duplicates(&session, &CcsSession::duplicateReceived);
    QStringList ids;
    queueMessages(session, &ids);
    session.setSettings(settingsFor(server));
    session.open();
    QVERIFY(QTest::qWaitFor([&] { return ackedCount(session.ledger()) == kMessages; }, 60000));
    QVERIFY(QTest::qWaitFor([&] { return duplicates.size() == 1; }, 60000));
    QCOMPARE(upstream.size(), 2);
    QCOMPARE(upstream.at(0).messageId, QStringLiteral("up-1"));
    QCOMPARE(upstream.at(0).data.value(QLatin1String("t")).toString(), QStringLiteral("a<b&c>\"'"));
    QCOMPARE(upstream.at(1).messageId, QStringLiteral("up-2"));
    QCOMPARE(upstream.at(1).data.value(QLatin1String("t")).toString(), QStringLiteral("<b>"));
    QCOMPARE(server.connections(), 1);
    QCOMPARE(session.state(), SessionState::Connected);
    verifyNoneTwiceOnOneConnection(server);
    session.close();
}

QTEST_GUILESS_MAIN(TestSessionHardening)
#include "tst_session_hardening.moc"
