// Hostile server inputs: a CcsSession against a small scripted server (see
// HostileServer.h) that speaks just enough XMPP to bind, then sends something
// malformed, oversized, nested, wrong or abrupt. Each case must end with a
// clear error or a logged, ignored stanza, never a crash, and lose no queued
// message: the ledger keeps every message, and a later good connection (the
// same server behaving, or the emulator) delivers them all.

#include "HostileServer.h"
#include "SessionTestSupport.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QSignalSpy>
#include <QTest>

#include <cstdio>

using namespace ccs;
using namespace ccs::test;

namespace {

constexpr int kMessages = 3;

// How a post-bind case must end.
enum class Outcome {
    Survives, // the stanza is logged and ignored: the same connection ACKs everything, no error
    Ends, // the connection ends with the error expectedEnd() names; the next connection delivers everything
};

// The error an Ends row must report: the fault it names, not just any error.
ccs::SessionError expectedEnd(const QByteArray &tag, ccs::test::HostileClose close)
{
    if (tag.startsWith("stream-error"))
        return ccs::SessionError::StreamError; // <stream:error/>: its condition is in the message
    if (tag == "nesting-unclosed-100000")
        return ccs::SessionError::ProtocolError; // the depth limit ends it before the close
    if (close != ccs::test::HostileClose::None)
        return ccs::SessionError::ConnectionLost;
    return ccs::SessionError::ProtocolError; // unreadable XML or bytes, a restarted stream
}

// Words the Ends row's message must hold, to show which fault was recognised.
QString expectedWords(const QByteArray &tag)
{
    if (tag.startsWith("utf8-"))
        return QStringLiteral("not UTF-8");
    if (tag.startsWith("xml-") || tag == "entity-undefined")
        return QStringLiteral("XML that cannot be read");
    if (tag == "nesting-unclosed-100000")
        return QStringLiteral("more than 16384 deep");
    if (tag == "stream-error")
        return QStringLiteral("conflict");
    if (tag == "stream-error-huge-text")
        return QStringLiteral("internal-server-error");
    if (tag == "second-stream-header")
        return QStringLiteral("restarted the XML stream");
    return QStringLiteral("closed the connection");
}

QByteArray gcm(const QByteArray &json, const QByteArray &id = "h")
{
    return "<message id='" + id + "'><gcm xmlns='google:mobile:data'>" + json + "</gcm></message>";
}

QByteArray repeat(const QByteArray &unit, int times)
{
    QByteArray out;
    out.reserve(unit.size() * times);
    for (int i = 0; i < times; ++i)
        out += unit;
    return out;
}

QtMessageHandler g_previousHandler = nullptr;
QStringList g_log;

void captureMessages(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    g_log.append(message);
    static const bool verbose = qEnvironmentVariableIsSet("CCS_TEST_VERBOSE");
    if ((verbose || (type != QtDebugMsg && type != QtInfoMsg)) && g_previousHandler)
        g_previousHandler(type, context, message);
}

} // namespace

Q_DECLARE_METATYPE(Outcome)
Q_DECLARE_METATYPE(ccs::test::HostileStage)
Q_DECLARE_METATYPE(ccs::test::HostileClose)

class TestHostileServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void afterBind_data();
    void afterBind();
    void handshake_data();
    void handshake();
    void certificates_data();
    void certificates();

private:
    ConnectionSettings settingsFor(const HostileServer &server) const;
    void queueMessages(CcsSession &session, const QString &prefix, QStringList *ids);
    void deliverThroughEmulator(CcsSession &session, const QStringList &ids);

    TestCertificate m_good;
};

void TestHostileServer::initTestCase()
{
    QVERIFY(makeTestCertificate(goodCertificateNames(), -3600, 86400, &m_good));
    // The client logs what it ignores at info level: keep it, and check it never holds the key.
    QLoggingCategory::setFilterRules(QStringLiteral("ccs.*=true"));
    g_previousHandler = qInstallMessageHandler(captureMessages);
}

void TestHostileServer::cleanupTestCase()
{
    qInstallMessageHandler(g_previousHandler);
    for (const QString &line : std::as_const(g_log))
        QVERIFY2(!line.contains(QLatin1String(TestEmulator::kApiKey)), qPrintable(line));
}

ConnectionSettings TestHostileServer::settingsFor(const HostileServer &server) const
{
    ConnectionSettings s;
    s.host = QStringLiteral("127.0.0.1");
    s.port = server.port();
    s.senderId = QString::fromLatin1(TestEmulator::kSenderId);
    s.apiKey = QString::fromLatin1(TestEmulator::kApiKey);
    s.pinnedCertificates = {m_good.certificate};
    s.connectTimeoutMs = 10000; // generous for a loaded machine; the silent cases wait it out
    return s;
}

void TestHostileServer::queueMessages(CcsSession &session, const QString &prefix, QStringList *ids)
{
    for (int i = 1; i <= kMessages; ++i) {
        const QString id = QStringLiteral("%1-%2").arg(prefix).arg(i);
        ValidationFailure failure;
        QVERIFY2(
            session.send(downstream(QStringLiteral("dev-1"), id), &failure), qPrintable(failure.description));
        ids->append(id);
    }
}

// Closes the session and sends what it holds through a real emulator: nothing may be missing.
void TestHostileServer::deliverThroughEmulator(CcsSession &session, const QStringList &ids)
{
    session.close();
    TestEmulator emulator;
    CCS_START_EMULATOR(emulator);
    session.setSettings(emulator.clientSettings());
    session.open();
    QTRY_COMPARE_WITH_TIMEOUT(ackedCount(session.ledger()), int(ids.size()), 10000);
    const auto record = recordById(emulator.server());
    for (const QString &id : ids) {
        QVERIFY2(record.contains(id), qPrintable(id));
        QCOMPARE(record.value(id).verdict, QStringLiteral("ack"));
    }
    session.close();
}

void TestHostileServer::afterBind_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<Outcome>("outcome");
    QTest::addColumn<HostileClose>("close");

    const auto S = Outcome::Survives;
    const auto E = Outcome::Ends;
    const auto N = HostileClose::None;
    const QByteArray big(8 * 1024 * 1024, 'x');

    // Malformed XML
    QTest::newRow("xml-mismatched-tags") << gcm("{}").replace("</gcm>", "</gcmx>") << E << N;
    QTest::newRow("xml-garbage") << QByteArray("<<<>>> &&& </>") << E << N;
    QTest::newRow("xml-unquoted-attribute")
        << QByteArray("<message id=abc><body>x</body></message>") << E << N;
    QTest::newRow("xml-duplicate-attribute") << QByteArray("<message id='a' id='b'/>") << E << N;
    QTest::newRow("xml-undeclared-prefix") << QByteArray("<foo:message id='a'/>") << E << N;
    QTest::newRow("xml-invalid-char-ref") << gcm("{\"a\":\"&#0;\"}") << E << N;
    QTest::newRow("xml-control-char") << gcm("{\"a\":\"\x01\"}") << E << N;
    QTest::newRow("xml-unclosed-then-end-tag")
        << QByteArray("<message><gcm xmlns='google:mobile:data'>") + "</stream:stream>" << E << N;
    // Invalid UTF-8
    QTest::newRow("utf8-invalid-bytes")
        << gcm("{\"message_type\":\"ack\",\"message_id\":\"\xff\xfe\"}") << E << N;
    QTest::newRow("utf8-overlong") << gcm("{\"a\":\"\xc0\xaf\"}") << E << N;
    QTest::newRow("utf8-truncated-sequence") << gcm("{\"a\":\"\xe2\x82\"}") << E << N;
    QTest::newRow("utf8-lone-surrogate") << gcm("{\"a\":\"\xed\xa0\x80\"}") << E << N;
    // Size and nesting
    QTest::newRow("stanza-8MB-body") << "<message id='big'><body>" + big + "</body></message>" << S << N;
    QTest::newRow("stanza-8MB-gcm") << gcm("{\"message_type\":\"ack\",\"message_id\":\"" + big + "\"}") << S
                                    << N;
    QTest::newRow("attribute-1MB") << "<message id='" + QByteArray(1 << 20, 'a') + "'/>" << S << N;
    QTest::newRow("attributes-10000") << "<message " + [] {
        QByteArray a;
        for (int i = 0; i < 10000; ++i)
            a += "a" + QByteArray::number(i) + "='x' ";
        return a;
    }() + "/>" << S << N;
    QTest::newRow("nesting-10000") << "<message id='deep'>" + repeat("<a>", 10000) + repeat("</a>", 10000)
            + "</message>" << S << N;
    QTest::newRow("nesting-10000-in-gcm-message")
        << "<message id='deep2'><gcm xmlns='google:mobile:data'>{}</gcm>" + repeat("<a>", 10000)
            + repeat("</a>", 10000) + "</message>"
        << S << N;
    QTest::newRow("nesting-10000-in-iq")
        << "<iq type='get' id='deep3'>" + repeat("<a>", 10000) + repeat("</a>", 10000) + "</iq>" << S << N;
    QTest::newRow("nesting-10000-in-presence")
        << "<presence>" + repeat("<a>", 10000) + repeat("</a>", 10000) + "</presence>" << S << N;
    QTest::newRow("nesting-10000-unknown-top-level")
        << repeat("<a>", 10000) + repeat("</a>", 10000) << S << N;
    QTest::newRow("nesting-unclosed-100000") << repeat("<a>", 100000) << E << HostileClose::Graceful;
    QTest::newRow("whitespace-1MB") << QByteArray(1 << 20, ' ') << S << N;
    // Entity tricks
    QTest::newRow("entity-doctype") << QByteArray("<!DOCTYPE lol [<!ENTITY lol \"lol\">]>") + gcm("&lol;")
                                    << S << N;
    QTest::newRow("entity-undefined") << gcm("{\"a\":\"&foo;\"}") << E << N;
    QTest::newRow("entity-external") << QByteArray("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>")
            + gcm("&e;") << S << N;
    QTest::newRow("entity-many-char-refs")
        << gcm("{\"message_type\":\"control\",\"control_type\":\"" + repeat("&#65;", 100000) + "\"}") << S
        << N;
    QTest::newRow("cdata-with-markup")
        << gcm("<![CDATA[{\"message_type\":\"x\",\"a\":\"</gcm>\"}]]>") << S << N;
    QTest::newRow("processing-instruction") << QByteArray("<?evil data?>") + gcm("{}") << S << N;
    QTest::newRow("comment") << QByteArray("<!-- </stream:stream> -->") << S << N;
    // JSON that is not what CCS sends
    QTest::newRow("json-array") << gcm("[1,2,3]") << S << N;
    QTest::newRow("json-string") << gcm("\"hello\"") << S << N;
    QTest::newRow("json-truncated") << gcm("{\"message_type\":") << S << N;
    QTest::newRow("json-empty") << gcm("") << S << N;
    QTest::newRow("json-deep-nesting") << gcm(repeat("[", 100000) + repeat("]", 100000)) << S << N;
    QTest::newRow("json-duplicate-keys")
        << gcm("{\"message_type\":\"ack\",\"message_type\":\"nack\",\"message_id\":\"zz\"}") << S << N;
    QTest::newRow("json-huge-number") << gcm("{\"message_type\":\"ack\",\"message_id\":1e999}") << S << N;
    QTest::newRow("json-nul-escape") << gcm("{\"message_type\":\"ack\",\"message_id\":\"a\\u0000b\"}") << S
                                     << N;
    // Wrong field types and unknown values
    QTest::newRow("type-message_id-number") << gcm("{\"message_type\":\"ack\",\"message_id\":123}") << S << N;
    QTest::newRow("type-message_type-number") << gcm("{\"message_type\":5,\"message_id\":\"h-1\"}") << S << N;
    QTest::newRow("type-data-string")
        << gcm("{\"from\":\"dev-1\",\"message_id\":\"u1\",\"category\":\"c\",\"data\":\"x\"}") << S << N;
    QTest::newRow("type-from-object") << gcm("{\"from\":{},\"message_id\":\"u2\",\"data\":{}}") << S << N;
    QTest::newRow("unknown-message_type")
        << gcm("{\"message_type\":\"bogus\",\"message_id\":\"h-1\"}") << S << N;
    QTest::newRow("ack-unknown-id") << gcm(
        "{\"message_type\":\"ack\",\"message_id\":\"never-sent\",\"from\":\"d\"}")
                                    << S << N;
    QTest::newRow("nack-unknown-id") << gcm(
        "{\"message_type\":\"nack\",\"message_id\":\"never-sent\",\"error\":\"BAD_REGISTRATION\"}")
                                     << S << N;
    QTest::newRow("nack-without-id") << gcm("{\"message_type\":\"nack\",\"error\":\"BAD_REGISTRATION\"}") << S
                                     << N;
    QTest::newRow("nack-without-error")
        << gcm("{\"message_type\":\"nack\",\"message_id\":\"never-sent\"}") << S << N;
    QTest::newRow("ack-twice") << QByteArray() << S << N; // the ACKs themselves come twice, see below
    QTest::newRow("receipt-without-data")
        << gcm("{\"message_type\":\"receipt\",\"message_id\":\"dr2:h-1\",\"from\":\"gcm.googleapis.com\"}")
        << S << N;
    QTest::newRow("receipt-data-not-object")
        << gcm("{\"message_type\":\"receipt\",\"message_id\":\"dr2:x\",\"data\":[1]}") << S << N;
    QTest::newRow("receipt-for-unknown-message")
        << gcm("{\"message_type\":\"receipt\",\"message_id\":\"dr2:zz\",\"from\":\"gcm.googleapis.com\","
               "\"data\":{\"message_status\":\"MESSAGE_SENT_TO_DEVICE\",\"original_message_id\":\"zz\"}}")
        << S << N;
    QTest::newRow("control-unknown-type")
        << gcm("{\"message_type\":\"control\",\"control_type\":\"SELF_DESTRUCT\"}") << S << N;
    QTest::newRow("control-without-type") << gcm("{\"message_type\":\"control\"}") << S << N;
    QTest::newRow("upstream-without-message_id")
        << gcm("{\"from\":\"dev-1\",\"category\":\"c\",\"data\":{}}") << S << N;
    QTest::newRow("upstream-10000-keys") << gcm("{\"from\":\"dev-1\",\"message_id\":\"u3\",\"data\":{" + [] {
        QByteArray a;
        for (int i = 0; i < 10000; ++i)
            a += (i ? ",\"k" : "\"k") + QByteArray::number(i) + "\":\"v\"";
        return a;
    }() + "}}") << S << N;
    // XMPP-level oddities
    QTest::newRow("gcm-wrong-namespace") << QByteArray(
        "<message id='w'><gcm xmlns='evil'>{\"message_type\":\"ack\",\"message_id\":\"h-1\"}</gcm></message>")
                                         << S << N;
    QTest::newRow("message-without-gcm") << QByteArray("<message id='b'><body>hi</body></message>") << S << N;
    QTest::newRow("stanza-error-unknown-id")
        << QByteArray("<message id='nope' type='error'><error type='modify'><bad-request "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>")
        << S << N;
    QTest::newRow("stanza-error-empty") << QByteArray("<message type='error'/>") << S << N;
    QTest::newRow("iq-get-unknown") << QByteArray("<iq type='get' id='q1'><evil xmlns='urn:evil'/></iq>") << S
                                    << N;
    QTest::newRow("iq-result-unknown-id") << QByteArray("<iq type='result' id='nobody'/>") << S << N;
    QTest::newRow("presence") << QByteArray("<presence from='x@y'/>") << S << N;
    QTest::newRow("unknown-top-level") << QByteArray("<frobnicate xmlns='urn:evil'/>") << S << N;
    QTest::newRow("sasl-success-again")
        << QByteArray("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>") << S << N;
    // The stream ends
    QTest::newRow("stream-error") << QByteArray(
        "<stream:error><conflict "
        "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
                                  << E << HostileClose::Graceful;
    QTest::newRow("stream-error-huge-text")
        << "<stream:error><internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
           "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
            + QByteArray(100000, 't') + "</text></stream:error></stream:stream>"
        << E << HostileClose::Graceful;
    QTest::newRow("stream-end") << QByteArray("</stream:stream>") << E << HostileClose::Graceful;
    QTest::newRow("second-stream-header")
        << QByteArray("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        << E << N;
    QTest::newRow("close-mid-stanza")
        << QByteArray("<message id='m'><gcm xmlns='google:mobile:data'>{\"message_ty") << E
        << HostileClose::Graceful;
    QTest::newRow("reset-mid-stanza")
        << QByteArray("<message id='m'><gcm xmlns='google:mobile:da") << E << HostileClose::Abort;
    QTest::newRow("close-without-answer") << QByteArray() << E << HostileClose::Graceful;
}

void TestHostileServer::afterBind()
{
    QFETCH(QByteArray, bytes);
    QFETCH(Outcome, outcome);
    QFETCH(HostileClose, close);

    HostileServer server;
    server.setCertificate(m_good.certificate, m_good.key);
    HostileScript script;
    script.stage = HostileStage::AfterBind;
    script.bytes = bytes;
    script.close = close;
    script.ackAfter = outcome != Outcome::Ends;
    script.expectedMessages = kMessages;
    if (QByteArray(QTest::currentDataTag()) == "ack-twice") {
        // Every message is ACKed twice on the same connection.
        script.bytes = gcm(R"({"message_type":"ack","from":"dev-1","message_id":"h-1"})")
            + gcm(R"({"message_type":"ack","from":"dev-1","message_id":"h-1"})");
    }
    server.setScript(script);
    QVERIFY(server.listen());

    CcsSession session;
    QSignalSpy errors(&session, &CcsSession::errorOccurred);
    QSignalSpy upstream(&session, &CcsSession::upstreamReceived);
    QStringList ids;
    queueMessages(session, QStringLiteral("h"), &ids);
    session.setSettings(settingsFor(server));
    session.open();

    QVERIFY(QTest::qWaitFor([&] { return server.hostileSent(); }, 30000));
    // Every message ends Acked, by this connection or the next one. (qWaitFor, not
    // QTRY: a failing QTRY waits twice its timeout again.)
    QElapsedTimer timer;
    timer.start();
    (void)QTest::qWaitFor([&] { return ackedCount(session.ledger()) == kMessages; }, 30000);
    std::fprintf(stderr, "settled in %lld ms\n", static_cast<long long>(timer.elapsed()));
    QCOMPARE(ackedCount(session.ledger()), kMessages);
    QCOMPARE(session.ledger()->size(), kMessages);
    for (const QString &id : std::as_const(ids))
        QCOMPARE(session.ledger()->find(id)->state, MessageState::Acked);
    // Never twice on one connection.
    for (const QStringList &sent : server.idsByConnection())
        QCOMPARE(QSet<QString>(sent.begin(), sent.end()).size(), sent.size());

    if (outcome == Outcome::Survives) {
        QCOMPARE(server.connections(), 1);
        QVERIFY2(errors.isEmpty(), errors.isEmpty() ? "" : qPrintable(errors.first().at(1).toString()));
        QCOMPARE(session.state(), SessionState::Connected);
    } else if (outcome == Outcome::Ends) {
        QVERIFY(server.connections() >= 2);
        QVERIFY(!errors.isEmpty());
        const QString message = errors.first().at(1).toString();
        qInfo() << "error:" << sessionErrorName(errors.first().at(0).value<SessionError>())
                << message.left(200);
        QVERIFY(!message.contains(QLatin1String(TestEmulator::kApiKey)));
        const QByteArray tag(QTest::currentDataTag());
        QCOMPARE(sessionErrorName(errors.first().at(0).value<SessionError>()),
            sessionErrorName(expectedEnd(tag, close)));
        QVERIFY2(message.contains(expectedWords(tag)), qPrintable(message.left(200)));
    }
    session.close();
}

void TestHostileServer::handshake_data()
{
    QTest::addColumn<HostileStage>("stage");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<HostileClose>("close");
    QTest::addColumn<QList<QByteArray>>("mechanisms");
    QTest::addColumn<SessionError>("expected"); // the error the case must end with

    const QList<QByteArray> plain {"PLAIN"};
    const auto N = HostileClose::None;
    const auto G = HostileClose::Graceful;
    QTest::newRow("sasl-failure")
        << HostileStage::InsteadOfSaslResult
        << QByteArray("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>") << N
        << plain << SessionError::AuthenticationFailed;
    QTest::newRow("sasl-failure-with-text")
        << HostileStage::InsteadOfSaslResult
        << QByteArray("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>bad "
                      "key</text></failure></stream:stream>")
        << G << plain << SessionError::AuthenticationFailed;
    QTest::newRow("sasl-garbage-result") << HostileStage::InsteadOfSaslResult << QByteArray("<<garbage") << N
                                         << plain << SessionError::Timeout;
    QTest::newRow("no-plain-mechanism")
        << HostileStage::None << QByteArray() << N << QList<QByteArray> {"X-OAUTH2", "X-GOOGLE-TOKEN"}
        << SessionError::AuthenticationFailed;
    QTest::newRow("no-mechanisms") << HostileStage::InsteadOfFeatures << QByteArray("<stream:features/>") << N
                                   << plain << SessionError::AuthenticationFailed;
    QTest::newRow("http-instead-of-xmpp")
        << HostileStage::InsteadOfHeader << QByteArray("HTTP/1.1 400 Bad Request\r\n\r\n") << G << plain
        << SessionError::ConnectionLost;
    QTest::newRow("wrong-stream-namespace")
        << HostileStage::InsteadOfHeader
        << QByteArray("<stream:stream xmlns='jabber:server' xmlns:stream='urn:evil'><stream:features/>") << N
        << plain << SessionError::StreamError;
    QTest::newRow("stream-error-before-auth")
        << HostileStage::InsteadOfFeatures
        << QByteArray("<stream:error><host-unknown "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
        << G << plain << SessionError::StreamError;
    QTest::newRow("bind-error") << HostileStage::InsteadOfBindResult
                                << QByteArray("<iq type='error' id='x'><error type='cancel'><not-allowed "
                                              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
                                << N << plain << SessionError::StreamError;
    QTest::newRow("no-bind-feature") << HostileStage::InsteadOfRestartFeatures
                                     << QByteArray("<stream:features/>") << N << plain
                                     << SessionError::ProtocolError;
    QTest::newRow("close-after-tls") << HostileStage::InsteadOfHeader << QByteArray() << G << plain
                                     << SessionError::ConnectionLost;
    QTest::newRow("close-after-sasl")
        << HostileStage::InsteadOfSaslResult << QByteArray() << G << plain << SessionError::ConnectionLost;
    QTest::newRow("silent-after-tls")
        << HostileStage::SilentAfterTls << QByteArray() << N << plain << SessionError::Timeout;
}

void TestHostileServer::handshake()
{
    QFETCH(HostileStage, stage);
    QFETCH(QByteArray, bytes);
    QFETCH(HostileClose, close);
    QFETCH(QList<QByteArray>, mechanisms);
    QFETCH(SessionError, expected);

    HostileServer server;
    server.setCertificate(m_good.certificate, m_good.key);
    HostileScript script;
    script.stage = stage;
    script.bytes = bytes;
    script.close = close;
    script.mechanisms = mechanisms;
    script.onlyFirstConnection = false; // every attempt meets the same server
    server.setScript(script);
    QVERIFY(server.listen());

    CcsSession session;
    QSignalSpy errors(&session, &CcsSession::errorOccurred);
    QStringList ids;
    queueMessages(session, QStringLiteral("hs"), &ids);
    session.setSettings(settingsFor(server));
    session.open();

    // qWaitFor, not QTRY: a failing QTRY waits twice its timeout again.
    QVERIFY2(QTest::qWaitFor([&] { return !errors.isEmpty(); }, 30000),
        qPrintable(QStringLiteral("no error; session %1").arg(sessionStateName(session.state()))));
    const auto error = errors.first().at(0).value<SessionError>();
    const QString message = errors.first().at(1).toString();
    qInfo() << "error:" << sessionErrorName(error) << message.left(200);
    QCOMPARE(sessionErrorName(error), sessionErrorName(expected));
    QVERIFY(!message.isEmpty());
    QVERIFY(!message.contains(QLatin1String(TestEmulator::kApiKey)));
    QVERIFY(session.state() != SessionState::Connected);
    // Nothing was sent (never authenticated), nothing was lost.
    QCOMPARE(session.ledger()->size(), kMessages);
    for (const QString &id : std::as_const(ids)) {
        QCOMPARE(session.ledger()->find(id)->state, MessageState::Queued);
        QCOMPARE(session.ledger()->find(id)->attempts, 0);
    }
    deliverThroughEmulator(session, ids);
}

void TestHostileServer::certificates_data()
{
    QTest::addColumn<QStringList>("names");
    QTest::addColumn<long>("notBefore");
    QTest::addColumn<long>("notAfter");
    QTest::addColumn<bool>("pinIt"); // pin the server's own certificate
    QTest::addColumn<QString>("cause"); // words the error must hold

    const QStringList other {QStringLiteral("other.example.com")};
    QTest::newRow("other-host") << other << -3600L << 86400L << true << QStringLiteral("host name");
    QTest::newRow("expired") << goodCertificateNames() << -10 * 86400L << -86400L << true
                             << QStringLiteral("expired");
    QTest::newRow("not-yet-valid") << goodCertificateNames() << 86400L << 10 * 86400L << true
                                   << QStringLiteral("not yet valid");
    QTest::newRow("unpinned-self-signed")
        << goodCertificateNames() << -3600L << 86400L << false << QStringLiteral("not trusted");
    QTest::newRow("system-cas-self-signed")
        << goodCertificateNames() << -3600L << 86400L << false << QStringLiteral("not trusted");
}

void TestHostileServer::certificates()
{
    QFETCH(QStringList, names);
    QFETCH(long, notBefore);
    QFETCH(long, notAfter);
    QFETCH(bool, pinIt);
    QFETCH(QString, cause);

    TestCertificate bad;
    QVERIFY(makeTestCertificate(names, notBefore, notAfter, &bad));
    HostileServer server;
    server.setCertificate(bad.certificate, bad.key);
    QVERIFY(server.listen());

    CcsSession session;
    QSignalSpy errors(&session, &CcsSession::errorOccurred);
    QStringList ids;
    queueMessages(session, QStringLiteral("c"), &ids);
    ConnectionSettings settings = settingsFor(server);
    if (pinIt)
        settings.pinnedCertificates = {bad.certificate};
    else if (QByteArray(QTest::currentDataTag()) == "system-cas-self-signed")
        settings.pinnedCertificates.clear(); // the system CAs: none signed it
    session.setSettings(settings);
    session.open();

    QTRY_COMPARE_WITH_TIMEOUT(session.state(), SessionState::Error, 10000);
    QCOMPARE(session.lastError(), SessionError::TlsError);
    QVERIFY2(session.lastErrorString().contains(cause), qPrintable(session.lastErrorString()));
    QVERIFY(!session.lastErrorString().contains(QLatin1String(TestEmulator::kApiKey)));
    // TLS never came up: the server saw no XMPP at all, so certainly no credentials.
    for (const QByteArray &bytes : server.received())
        QVERIFY(bytes.isEmpty());
    QCOMPARE(session.ledger()->size(), kMessages);
    for (const QString &id : std::as_const(ids))
        QCOMPARE(session.ledger()->find(id)->state, MessageState::Queued);
    deliverThroughEmulator(session, ids);
}

QTEST_GUILESS_MAIN(TestHostileServer)
#include "tst_hostile_server.moc"
