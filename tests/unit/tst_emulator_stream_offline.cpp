// The emulator's stream handling without a socket (server/StreamFuzzing_p.h,
// EmulatorStream's socket-free mode): a pipelined login, byte-by-byte feeding,
// UTF-8 checked across reads, the stanza limit counted in bytes, and only
// UTF-8 accepted as the document encoding, elements per stanza bounded.
#include "server/EmulatorStream_p.h"
#include "server/StreamFuzzing_p.h"

#include <QTest>

using namespace ccs::emulator;

namespace {

QByteArray gcm(const QByteArray &json, const QByteArray &id = "x1")
{
    return "<message id='" + id + "'><gcm xmlns='google:mobile:data'>" + json + "</gcm></message>";
}

QByteArray good(const QByteArray &id)
{
    return gcm(R"({"to":"dev-1","message_id":")" + id + R"(","data":{"k":"v"}})");
}

QByteArray ackFor(const QByteArray &id)
{
    return "\"message_id\":\"" + id + "\"";
}

} // namespace

class TestEmulatorStreamOffline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pipelinedSessionBindsAndAnswers();
    void everySplitGivesTheSameOutput();
    void invalidUtf8IsNotWellFormed_data();
    void invalidUtf8IsNotWellFormed();
    void validUtf8SplitAcrossReads();
    void stanzaLimitCountsBytes_data();
    void stanzaLimitCountsBytes();
    void onlyUtf8Documents();
    void plainStanzasReadLikeAnyOther();
};

void TestEmulatorStreamOffline::pipelinedSessionBindsAndAnswers()
{
    const QByteArray input = emulatorLoginTranscript() + good("m-1") + "</stream:stream>";
    const StreamRunResult r = runEmulatorStream(input);
    QVERIFY(r.authenticated);
    QVERIFY(r.bound);
    QVERIFY(r.streamError.isEmpty());
    QCOMPARE(r.gcmReceived, 1);
    QCOMPARE(r.answers, 1);
    QVERIFY(r.output.contains("<success xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"/>"));
    QVERIFY(r.output.contains("<jid>1234@gcm.googleapis.com/fuzz</jid>"));
    QVERIFY(r.output.contains(ackFor("m-1")));
    QVERIFY(r.closed);
    QVERIFY(r.output.endsWith("</stream:stream>"));
}

void TestEmulatorStreamOffline::everySplitGivesTheSameOutput()
{
    // Multi-byte characters (2, 3 and 4 bytes) split at every position.
    const QByteArray input = good("a")
        + gcm("{\"to\":\"dev-1\",\"message_id\":\"b\",\"data\":{\"k\":\""
              "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}}")
        + "  " + good("c");
    StreamRunOptions whole;
    whole.startBound = true;
    const StreamRunResult expected = runEmulatorStream(input, whole);
    QCOMPARE(expected.answers, 3);
    QVERIFY(expected.streamError.isEmpty());
    for (qsizetype chunk : {1, 2, 3, 5, 7, 64}) {
        StreamRunOptions split = whole;
        split.chunkBytes = chunk;
        const StreamRunResult r = runEmulatorStream(input, split);
        QCOMPARE(r.output, expected.output);
    }
}

void TestEmulatorStreamOffline::invalidUtf8IsNotWellFormed_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("ff-fe") << QByteArray("\xff\xfe");
    QTest::newRow("overlong-slash") << QByteArray("\xc0\xaf");
    QTest::newRow("overlong-3-byte") << QByteArray("\xe0\x80\xaf");
    QTest::newRow("overlong-4-byte") << QByteArray("\xf0\x80\x80\xaf");
    QTest::newRow("surrogate") << QByteArray("\xed\xa0\x80");
    QTest::newRow("past-10ffff") << QByteArray("\xf4\x90\x80\x80");
    QTest::newRow("lone-continuation") << QByteArray("\x80");
    QTest::newRow("truncated-sequence") << QByteArray("\xe2\x82"
                                                      "A");
}

void TestEmulatorStreamOffline::invalidUtf8IsNotWellFormed()
{
    QFETCH(QByteArray, bytes);
    const QByteArray input
        = good("before") + gcm(R"({"to":"dev-1","message_id":")" + bytes + R"(","data":{}})") + good("after");
    // At once, and one byte per read: a sequence split across reads is checked as a whole.
    for (qsizetype chunk : {0, 1}) {
        StreamRunOptions options;
        options.startBound = true;
        options.chunkBytes = chunk;
        const StreamRunResult r = runEmulatorStream(input, options);
        QCOMPARE(r.streamError, QStringLiteral("not-well-formed"));
        QVERIFY(r.closed);
        QVERIFY(r.output.contains(ackFor("before"))); // what came before the fault is answered
        QVERIFY(!r.output.contains(ackFor("after")));
        QVERIFY(r.output.endsWith("</stream:stream>"));
    }
}

void TestEmulatorStreamOffline::validUtf8SplitAcrossReads()
{
    int outputs = 0;
    QByteArray output;
    StreamLimits limits;
    limits.authTimeoutMs = 0;
    EmulatorStream stream(
        7, limits, [](const QString &, const QString &) { return QString(); },
        [&](const QByteArray &bytes) {
            output += bytes;
            ++outputs;
        });
    stream.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    QCOMPARE(stream.phase(), EmulatorStream::Phase::AwaitingAuth);
    QVERIFY(output.contains("id=\"s7\"")); // deterministic stream id
    // An emoji in white space at the top level, one byte per read: no error.
    stream.feed(" <!--\xf0");
    stream.feed("\x9f");
    stream.feed("\x98");
    stream.feed("\x80-->");
    QVERIFY(stream.isOpen());
    stream.feed("\xf0\x9f");
    stream.feed("\x28"); // not a continuation byte
    QVERIFY(!stream.isOpen());
    QVERIFY(output.contains("<not-well-formed "));
    QVERIFY(outputs > 0);
}

void TestEmulatorStreamOffline::stanzaLimitCountsBytes_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("streamError");
    // 7000 two-byte characters: 14000 bytes, below 16 KiB; 9000: 18000 bytes,
    // above it, but only 9000 UTF-16 units, which a count in characters would let by.
    const QByteArray e7000 = QByteArray("\xc3\xa9").repeated(7000);
    const QByteArray e9000 = QByteArray("\xc3\xa9").repeated(9000);
    QTest::newRow("under") << gcm(R"({"to":"dev-1","message_id":"u","data":{"k":")" + e7000 + "\"}}")
                           << QString();
    QTest::newRow("over-complete") << gcm(R"({"to":"dev-1","message_id":"o","data":{"k":")" + e9000 + "\"}}")
                                   << QStringLiteral("policy-violation");
    QTest::newRow("over-unterminated")
        << "<message><gcm xmlns='google:mobile:data'>" + e9000 << QStringLiteral("policy-violation");
    QTest::newRow("over-start-tag") << "<message a='" + e9000 << QStringLiteral("policy-violation");
    // 1001 empty elements: 4 KiB, but each costs a tree node.
    QTest::newRow("too-many-elements")
        << "<message><gcm xmlns='google:mobile:data'/>" + QByteArray("<a/>").repeated(999) + "</message>"
        << QStringLiteral("policy-violation");
    QTest::newRow("elements-at-limit")
        << "<message><gcm xmlns='google:mobile:data'/>" + QByteArray("<a/>").repeated(998) + "</message>"
        << QString();
}

void TestEmulatorStreamOffline::stanzaLimitCountsBytes()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, streamError);
    for (qsizetype chunk : {0, 1000}) {
        StreamRunOptions options;
        options.startBound = true;
        options.chunkBytes = chunk;
        options.maxStanzaBytes = 16 * 1024;
        const StreamRunResult r = runEmulatorStream(bytes, options);
        QCOMPARE(r.streamError, streamError);
        QCOMPARE(r.closed, !streamError.isEmpty());
    }
}

void TestEmulatorStreamOffline::onlyUtf8Documents()
{
    const StreamRunResult latin1
        = runEmulatorStream("<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream xmlns='jabber:client' "
                            "xmlns:stream='http://etherx.jabber.org/streams'>");
    QCOMPARE(latin1.streamError, QStringLiteral("unsupported-encoding"));
    const StreamRunResult utf8
        = runEmulatorStream("<?xml version='1.0' encoding='utf-8'?><stream:stream xmlns='jabber:client' "
                            "xmlns:stream='http://etherx.jabber.org/streams'>");
    QVERIFY(utf8.streamError.isEmpty());
    QVERIFY(utf8.output.contains("<mechanism>PLAIN</mechanism>"));
}

// Stanzas in the plain form (double quotes, as CcsSession and most libraries
// write them) take the emulator's fast path; the same stanzas in another form
// take the XML reader. Mixed and split anywhere, the answers are the same, and
// the stanza limit holds on both paths.
void TestEmulatorStreamOffline::plainStanzasReadLikeAnyOther()
{
    auto plain = [](const QByteArray &json, const QByteArray &id) {
        return "<message id=\"" + id + "\"><gcm xmlns=\"google:mobile:data\">" + json + "</gcm></message>";
    };
    const QByteArray one = R"({"to":"dev-1","message_id":"p-1","data":{"k":"a&lt;b&amp;c&gt;"}})";
    const QByteArray two = R"({"to":"dev-1","message_id":"p-2","data":{"k":"v"}})";
    const QByteArray three = R"({"to":"dev-1","message_id":"p-3","time_to_live":-1})"; // a NACK
    const QByteArray viaReader = gcm(one, "s1") + "\n" + gcm(two, "s2") + gcm(three, "s3");
    const QByteArray mixed = plain(one, "s1") + "\n" + gcm(two, "s2") + plain(three, "s3");
    StreamRunOptions whole;
    whole.startBound = true;
    const StreamRunResult expected = runEmulatorStream(viaReader, whole);
    QCOMPARE(expected.gcmReceived, 3);
    QCOMPARE(expected.answers, 3);
    QVERIFY(expected.output.contains(ackFor("p-1")));
    QVERIFY(expected.output.contains("INVALID_TTL"));
    for (qsizetype chunk : {0, 1, 2, 3, 7, 64}) {
        StreamRunOptions split = whole;
        split.chunkBytes = chunk;
        const StreamRunResult r = runEmulatorStream(mixed, split);
        QVERIFY2(r.output == expected.output, qPrintable(QString::number(chunk)));
        QCOMPARE(r.gcmReceived, 3);
    }
    // Over the stanza limit, plain or not: policy-violation, nothing answered.
    const QByteArray big
        = plain(R"({"to":"dev-1","message_id":"b","data":{"k":")" + QByteArray(3000, 'x') + "\"}}", "s4");
    for (qsizetype chunk : {0, 100}) {
        StreamRunOptions limited = whole;
        limited.chunkBytes = chunk;
        limited.maxStanzaBytes = 2048;
        const StreamRunResult r = runEmulatorStream(big, limited);
        QCOMPARE(r.streamError, QStringLiteral("policy-violation"));
        QCOMPARE(r.answers, 0);
    }
}

QTEST_GUILESS_MAIN(TestEmulatorStreamOffline)
#include "tst_emulator_stream_offline.moc"
