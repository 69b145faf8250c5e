// The one stanza reader (ccscore/xmpp/StanzaReader), read as the client reads
// after bind and as the emulator reads a bound stream: each row is literal
// XML and what each end makes of it, fed whole and one byte at a time (which
// splits tags, entities, UTF-8 sequences and the fast path's stanzas).
#include "xmpp/QXmppPin_p.h"
#include "xmpp/StanzaReader_p.h"
#include "xmpp/StanzaWriter_p.h"

#include <QTest>

using namespace ccs::xmpp;

namespace {

const QByteArray kHeader = "<stream:stream to='gcm.googleapis.com' xmlns='jabber:client' "
                           "xmlns:stream='http://etherx.jabber.org/streams'>";

// Records what the reader reports, one line per event. A <message> with a <gcm>
// child is "gcm:ID:JSON" whichever path read it.
class Recorder : public StanzaReader::Handler
{
public:
    QStringList events;
    int plain = 0;
    bool stopped = false;

    void streamOpened(const StreamHeader &header) override
    {
        events << QStringLiteral("open:%1").arg(header.defaultNsIsClient ? "client" : "other");
    }
    void stanzaRead(XmlElement &&stanza, bool oversized) override
    {
        const QString id = stanza.attribute(QLatin1String("id"));
        const QString type = stanza.attribute(QLatin1String("type"));
        const XmlElement *gcm = stanza.child(u"gcm", u"google:mobile:data");
        if (oversized)
            events << QStringLiteral("oversized:%1").arg(stanza.name);
        else if (stanza.name == QLatin1String("message") && gcm && type.isEmpty())
            events << QStringLiteral("gcm:%1:%2").arg(id, gcm->text);
        else
            events << QStringLiteral("stanza:%1:%2:%3").arg(stanza.name, id, type);
    }
    bool plainGcmRead(QByteArrayView id, QByteArrayView json) override
    {
        ++plain;
        events << QStringLiteral("gcm:%1:%2").arg(QString::fromUtf8(id), QString::fromUtf8(json));
        return true;
    }
    void streamClosed() override
    {
        events << QStringLiteral("closed");
        stopped = true;
    }
    void readFailed(ReadError error, const QString &) override
    {
        static const char *names[] = {"NotUtf8", "NotWellFormed", "DocumentEnded", "UnsupportedEncoding",
            "RestrictedXml", "NotAStream", "StreamInsideStream", "TooDeep", "TooManyElements",
            "StanzaTooLarge", "MarkupTooLong"};
        events << QStringLiteral("error:%1").arg(QLatin1String(names[int(error)]));
        stopped = true; // both ends end the stream on any read error
    }
    bool keepReading() const override { return !stopped; }
};

enum class End { Client, Server };

// The emulator's default limits (StreamLimits) and the client's own.
ReaderLimits limitsFor(End end)
{
    return end == End::Client ? clientReaderLimits() : serverReaderLimits(1 << 20, 32, 1000);
}

QStringList read(End end, const QByteArray &body, qsizetype chunk, int *plain = nullptr)
{
    Recorder recorder;
    StanzaReader reader(limitsFor(end), &recorder);
    if (end == End::Client) {
        reader.assumeStreamOpen(kHeader); // QXmpp read the real one
    } else {
        reader.feed(kHeader);
    }
    reader.setPlainEnabled(true); // bound
    if (chunk <= 0) {
        reader.feed(body);
    } else {
        for (qsizetype i = 0; i < body.size() && !recorder.stopped; i += chunk)
            reader.feed(QByteArrayView(body).sliced(i, std::min(chunk, body.size() - i)));
    }
    if (plain)
        *plain = recorder.plain;
    if (end == End::Server) {
        if (recorder.events.value(0) != QLatin1String("open:client"))
            return {QStringLiteral("no stream opened")};
        recorder.events.removeFirst();
    }
    return recorder.events;
}

QByteArray gcm(const QByteArray &id, const QByteArray &json)
{
    return "<message id='" + id + "'><gcm xmlns='google:mobile:data'>" + json + "</gcm></message>";
}

QByteArray repeat(const QByteArray &s, int n)
{
    QByteArray out;
    for (int i = 0; i < n; ++i)
        out += s;
    return out;
}

} // namespace

class TestXmppStanzaReader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bothEnds_data();
    void bothEnds();
    void plainPathTakesTheWriterForm();
    void slowPeerHeldAtMostOnce();
    void stopAndResumeKeepsTheRest();
    void plainTextIsTheBytesRead();
    void serverRestartKeepsPipelinedBytes();
    void qxmppIsThePinnedRelease();
};

void TestXmppStanzaReader::bothEnds_data()
{
    QTest::addColumn<QByteArray>("xml");
    QTest::addColumn<QStringList>("client");
    QTest::addColumn<QStringList>("server");

    const QStringList one {QStringLiteral("gcm:m1:{\"a\":1}")};
    QTest::newRow("plain") << gcm("m1", "{\"a\":1}") << one << one;
    QTest::newRow("plain-double-quotes")
        << QByteArray("<message id=\"m1\"><gcm xmlns=\"google:mobile:data\">{\"a\":1}</gcm></message>") << one
        << one;
    QTest::newRow("keepalive-white-space") << " \n\t\r " + gcm("m1", "{\"a\":1}") + "\n  \n" << one << one;
    QTest::newRow("no-id") << QByteArray("<message><gcm xmlns='google:mobile:data'>{}</gcm></message>")
                           << QStringList {"gcm::{}"} << QStringList {"gcm::{}"};
    QTest::newRow("entities") << gcm("m2", "{\"a\":\"&lt;&amp;&gt;&quot;&apos;\"}")
                              << QStringList {"gcm:m2:{\"a\":\"<&>\"'\"}"}
                              << QStringList {"gcm:m2:{\"a\":\"<&>\"'\"}"};
    QTest::newRow("cdata") << gcm("m3", "<![CDATA[{\"a\":\"</gcm>\"}]]>")
                           << QStringList {"gcm:m3:{\"a\":\"</gcm>\"}"}
                           << QStringList {"gcm:m3:{\"a\":\"</gcm>\"}"};
    QTest::newRow("utf8-4-byte") << gcm("m4", "{\"e\":\"\xf0\x9f\x98\x80\xc3\xa9\"}")
                                 << QStringList {QString::fromUtf8(
                                        "gcm:m4:{\"e\":\"\xf0\x9f\x98\x80\xc3\xa9\"}")}
                                 << QStringList {
                                        QString::fromUtf8("gcm:m4:{\"e\":\"\xf0\x9f\x98\x80\xc3\xa9\"}")};
    const QStringList drain {QStringLiteral("gcm::\n  {\"message_type\":\"control\"}\n  ")};
    QTest::newRow("drain-prefixed") << writer::drainingControl("{\"message_type\":\"control\"}") << drain
                                    << drain;
    QTest::newRow("comment-between") << "<!-- </stream:stream> -->" + gcm("m1", "{\"a\":1}") << one << one;
    QTest::newRow("two-then-presence") << gcm("a", "{}") + gcm("b", "{}") + "<presence/>"
                                       << QStringList {"gcm:a:{}", "gcm:b:{}", "stanza:presence::"}
                                       << QStringList {"gcm:a:{}", "gcm:b:{}", "stanza:presence::"};
    QTest::newRow("stanza-error") << QByteArray(
        "<message id='e1' type='error'><gcm xmlns='google:mobile:data'>{}</gcm>"
        "<error code='400' type='modify'><bad-request "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>")
                                  << QStringList {"stanza:message:e1:error"}
                                  << QStringList {"stanza:message:e1:error"};
    QTest::newRow("iq-ping") << QByteArray("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
                             << QStringList {"stanza:iq:p1:get"} << QStringList {"stanza:iq:p1:get"};
    QTest::newRow("message-without-gcm")
        << QByteArray("<message id='b'><body>hi</body></message>") << QStringList {"stanza:message:b:"}
        << QStringList {"stanza:message:b:"};
    QTest::newRow("gcm-wrong-namespace")
        << QByteArray("<message id='w'><gcm xmlns='urn:evil'>{}</gcm></message>")
        << QStringList {"stanza:message:w:"} << QStringList {"stanza:message:w:"};
    QTest::newRow("stream-end") << QByteArray("</stream:stream>") << QStringList {"closed"}
                                << QStringList {"closed"};
    QTest::newRow("gcm-then-stream-end") << gcm("m1", "{\"a\":1}") + "</stream:stream>"
                                         << one + QStringList {"closed"} << one + QStringList {"closed"};

    // Ends the stream, at both ends
    QTest::newRow("utf8-invalid") << gcm("u", "{\"a\":\"\xff\"}") << QStringList {"error:NotUtf8"}
                                  << QStringList {"error:NotUtf8"};
    QTest::newRow("utf8-overlong") << gcm("u", "{\"a\":\"\xc0\xaf\"}") << QStringList {"error:NotUtf8"}
                                   << QStringList {"error:NotUtf8"};
    QTest::newRow("utf8-after-a-good-stanza")
        << gcm("m1", "{\"a\":1}") + "\xed\xa0\x80" << one + QStringList {"error:NotUtf8"}
        << one + QStringList {"error:NotUtf8"};
    QTest::newRow("garbage") << QByteArray("<<<>>> &&& </>") << QStringList {"error:NotWellFormed"}
                             << QStringList {"error:NotWellFormed"};
    QTest::newRow("mismatched-tags") << gcm("m", "{}").replace("</gcm>", "</gcmx>")
                                     << QStringList {"error:NotWellFormed"}
                                     << QStringList {"error:NotWellFormed"};
    QTest::newRow("undeclared-prefix")
        << QByteArray("<foo:message id='a'/>") << QStringList {"error:NotWellFormed"}
        << QStringList {"error:NotWellFormed"};
    QTest::newRow("second-stream-header")
        << kHeader << QStringList {"error:StreamInsideStream"} << QStringList {"error:StreamInsideStream"};

    // The two ends differ where their limits do: the emulator refuses what
    // CCS would not take, the client drops what it cannot use and reads on.
    QTest::newRow("nesting-40") << "<message id='d'>" + repeat("<a>", 40) + repeat("</a>", 40) + "</message>"
                                << QStringList {"stanza:message:d:"} << QStringList {"error:TooDeep"};
    QTest::newRow("elements-1001") << "<message id='x'>" + repeat("<b/>", 1001) + "</message>"
                                   << QStringList {"stanza:message:x:"}
                                   << QStringList {"error:TooManyElements"};
    QTest::newRow("gcm-2MiB") << gcm("big", "{\"a\":\"" + QByteArray(2 << 20, 'x') + "\"}")
                              << QStringList {"oversized:message"} << QStringList {"error:StanzaTooLarge"};
    QTest::newRow("gcm-2MiB-then-plain")
        << gcm("big", QByteArray(2 << 20, 'x')) + gcm("m1", "{\"a\":1}")
        << QStringList {"oversized:message"} + one << QStringList {"error:StanzaTooLarge"};
    QTest::newRow("tag-300KiB") << "<message " + QByteArray(300 * 1024, ' ') + "id='t'/>"
                                << QStringList {"error:MarkupTooLong"} << QStringList {"stanza:message:t:"};
    // A DTD is restricted XML (RFC 6120 11.1): the emulator refuses it; the client reads on, as it always
    // did.
    QTest::newRow("doctype-entity") << QByteArray("<!DOCTYPE x [<!ENTITY e 'v'>]>") + gcm("m1", "{\"a\":1}")
                                    << one << QStringList {"error:RestrictedXml"};
}

void TestXmppStanzaReader::bothEnds()
{
    QFETCH(QByteArray, xml);
    QFETCH(QStringList, client);
    QFETCH(QStringList, server);
    QCOMPARE(read(End::Client, xml, 0), client);
    QCOMPARE(read(End::Server, xml, 0), server);
    if (xml.size() <= 64 * 1024) { // a byte at a time: the same, whatever the splits
        QCOMPARE(read(End::Client, xml, 1), client);
        QCOMPARE(read(End::Server, xml, 1), server);
    }
}

void TestXmppStanzaReader::plainPathTakesTheWriterForm()
{
    // What the writer writes, the fast path reads (no XML reader), at both ends.
    const QByteArray xml = writer::gcmMessage(QStringLiteral("m-1"), "{\"a\":\"<&>\"}")
        + writer::gcmMessage(QStringLiteral("m-2"), "{}");
    for (End end : {End::Client, End::Server}) {
        int plain = 0;
        QCOMPARE(read(end, xml, 0, &plain), (QStringList {"gcm:m-1:{\"a\":\"<&>\"}", "gcm:m-2:{}"}));
        QCOMPARE(plain, 2);
        QCOMPARE(read(end, xml, 7, &plain), (QStringList {"gcm:m-1:{\"a\":\"<&>\"}", "gcm:m-2:{}"}));
        QCOMPARE(plain, 2);
    }
}

void TestXmppStanzaReader::slowPeerHeldAtMostOnce()
{
    // The start of a plain stanza waits for its end, up to kMaxPlainPending bytes;
    // a longer one is the XML reader's, and still read.
    const QByteArray big = gcm("big", "{\"a\":\"" + QByteArray(kMaxPlainPending, 'y') + "\"}");
    for (End end : {End::Client, End::Server}) {
        int plain = 0;
        const QStringList events = read(end, big, 4096, &plain);
        QCOMPARE(events.size(), 1);
        QVERIFY(events.first().startsWith(QLatin1String("gcm:big:{\"a\":\"yyy")));
        QCOMPARE(plain, 0);
    }
}

void TestXmppStanzaReader::stopAndResumeKeepsTheRest()
{
    // The client hands five stanzas at a time to the event loop: what a handler
    // declines waits, and resume() reads it.
    struct Slicer : Recorder {
        bool plainGcmRead(QByteArrayView id, QByteArrayView json) override
        {
            Recorder::plainGcmRead(id, json);
            return events.size() % 2 != 0; // stop after every second
        }
    } recorder;
    StanzaReader reader(clientReaderLimits(), &recorder);
    reader.assumeStreamOpen(kHeader);
    reader.setPlainEnabled(true);
    auto plain = [](const char *id, const QByteArray &json) {
        return writer::gcmMessage(QString::fromLatin1(id), json);
    };
    reader.feed(plain("1", "{}") + plain("2", "{}") + plain("3", "{}") + plain("4", "{}")
        + plain("5", "{}").chopped(20));
    QCOMPARE(recorder.events, (QStringList {"gcm:1:{}", "gcm:2:{}"}));
    QVERIFY(reader.hasHeldBytes());
    reader.resume();
    QCOMPARE(recorder.events.size(), 4);
    reader.resume();
    QCOMPARE(recorder.events.size(), 4); // the fifth is incomplete
    reader.feed(plain("5", "{}").right(20));
    QCOMPARE(recorder.events.last(), QStringLiteral("gcm:5:{}"));
    QVERIFY(!reader.hasHeldBytes());
}

void TestXmppStanzaReader::plainTextIsTheBytesRead()
{
    // The fast path hands the id and the JSON over as views into what was fed (a read of
    // the socket), not copies, also after a stop; a text with entities is unescaped apart.
    struct Locator : Recorder {
        QByteArray fed;
        QList<bool> inFed; // per plain stanza: both its id and its JSON point into `fed`
        bool plainGcmRead(QByteArrayView id, QByteArrayView json) override
        {
            Recorder::plainGcmRead(id, json);
            const auto within = [this](QByteArrayView v) {
                return v.data() >= fed.constData() && v.data() + v.size() <= fed.constData() + fed.size();
            };
            inFed << (within(id) && within(json));
            return plain != 1; // a stop after the first: the rest is read on resume()
        }
    } recorder;
    StanzaReader reader(clientReaderLimits(), &recorder);
    reader.assumeStreamOpen(kHeader);
    reader.setPlainEnabled(true);
    recorder.fed = writer::gcmMessage(QStringLiteral("s1"), R"({"message_type":"ack","message_id":"m-1"})")
        + writer::gcmMessage(QStringLiteral("s2"), R"({"message_type":"ack","message_id":"m-2"})")
        + writer::gcmMessage(QStringLiteral("s3"), R"({"a":"<&>"})");
    reader.feed(recorder.fed);
    QCOMPARE(recorder.plain, 1);
    reader.resume();
    QCOMPARE(recorder.events,
        (QStringList {R"(gcm:s1:{"message_type":"ack","message_id":"m-1"})",
            R"(gcm:s2:{"message_type":"ack","message_id":"m-2"})", R"(gcm:s3:{"a":"<&>"})"}));
    QCOMPARE(recorder.inFed, (QList<bool> {true, true, false}));
}

void TestXmppStanzaReader::serverRestartKeepsPipelinedBytes()
{
    // After SASL the emulator restarts the stream: a header the client already
    // sent with its <auth> belongs to the new stream.
    struct Restarter : Recorder {
        StanzaReader *reader = nullptr;
        void stanzaRead(XmlElement &&stanza, bool oversized) override
        {
            Recorder::stanzaRead(std::move(stanza), oversized);
            reader->restartStream();
        }
    } recorder;
    StanzaReader reader(serverReaderLimits(1 << 20, 32, 1000), &recorder);
    recorder.reader = &reader;
    reader.feed(kHeader + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AA==</auth>"
        + kHeader + "<iq type='set' id='b'/>");
    QCOMPARE(
        recorder.events, (QStringList {"open:client", "stanza:auth::", "open:client", "stanza:iq:b:set"}));
}

void TestXmppStanzaReader::qxmppIsThePinnedRelease()
{
    // CcsConnection relies on what this QXmpp release does (see xmpp/QXmppPin_p.h).
    // Another release must be checked against those three points before the pin moves.
    QVERIFY2(qxmppIsVerified(),
        qPrintable(QStringLiteral("QXmpp %1 (headers) / %2 (library) is not the verified %3: check "
                                  "xmpp/QXmppPin_p.h before moving the pin")
                       .arg(qxmppBuildVersion(), qxmppRuntimeVersion(), qxmppVerifiedVersion())));
    QCOMPARE(qxmppBuildVersion(), qxmppVerifiedVersion());
    QVERIFY(!disabledSaslMechanisms().contains(QStringLiteral("PLAIN")));
}

QTEST_GUILESS_MAIN(TestXmppStanzaReader)
#include "tst_xmpp_stanzareader.moc"
