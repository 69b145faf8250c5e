// XML escaping of the gcm element: no payload can close the element or make
// the stanza ill-formed, and every payload comes back unchanged.
#include "protocol/JsonCodec.h"
#include "protocol/Stanza.h"

#include <QTest>
#include <QXmlStreamReader>

using namespace ccs;
using namespace Qt::Literals::StringLiterals;

namespace {

struct ParsedStanza {
    bool ok = false;
    QString error;
    QString messageId;
    QString messageType;
    QString to;
    QString gcmText;
    int gcmElements = 0;
    QString errorText;
    QString errorCode;
    bool badRequest = false;
};

// Reads a stanza as an XMPP client would: the gcm element's text is the JSON.
ParsedStanza readStanza(const QByteArray &xml)
{
    ParsedStanza out;
    QXmlStreamReader reader(xml);
    int depth = 0;
    while (!reader.atEnd()) {
        reader.readNext();
        if (reader.isStartElement()) {
            ++depth;
            if (depth == 1 && reader.name() == QLatin1String("message")) {
                out.messageId = reader.attributes().value(QLatin1String("id")).toString();
                out.messageType = reader.attributes().value(QLatin1String("type")).toString();
                out.to = reader.attributes().value(QLatin1String("to")).toString();
            } else if (reader.name() == QLatin1String("gcm")
                && reader.namespaceUri() == QLatin1String("google:mobile:data")) {
                ++out.gcmElements;
                out.gcmText = reader.readElementText(QXmlStreamReader::ErrorOnUnexpectedElement);
                --depth;
            } else if (reader.name() == QLatin1String("error")) {
                out.errorCode = reader.attributes().value(QLatin1String("code")).toString();
            } else if (reader.name() == QLatin1String("bad-request")) {
                out.badRequest
                    = reader.namespaceUri() == QLatin1String("urn:ietf:params:xml:ns:xmpp-stanzas");
            } else if (reader.name() == QLatin1String("text")) {
                out.errorText = reader.readElementText();
                --depth;
            }
        } else if (reader.isEndElement()) {
            --depth;
        }
    }
    out.ok = !reader.hasError() && depth == 0;
    out.error = reader.errorString();
    return out;
}

} // namespace

class TestStanza : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void escapeXml_data();
    void escapeXml();
    void isXmlSafe_data();
    void isXmlSafe();
    void payloadRoundTrips_data();
    void payloadRoundTrips();
    void rawJsonTextRoundTrips_data();
    void rawJsonTextRoundTrips();
    void unsafeCharactersBecomeJsonEscapes();
    void stanzaIdIsEscaped();
    void copiesAreWhatGcmMessageWrites_data();
    void copiesAreWhatGcmMessageWrites();
    void stanzaError();
    void plainReaderAgreesWithXml_data();
    void plainReaderAgreesWithXml();
    void plainReaderWaitsForTheRest();
    void plainReaderFindsEveryByteAtEveryOffset();
};

void TestStanza::escapeXml_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("escaped");
    QTest::newRow("plain") << "hello"
                           << "hello";
    QTest::newRow("all five") << "&<>\"'"
                              << "&amp;&lt;&gt;&quot;&apos;";
    QTest::newRow("close gcm") << "</gcm>"
                               << "&lt;/gcm&gt;";
    QTest::newRow("cdata end") << "]]>"
                               << "]]&gt;";
    QTest::newRow("entity stays text") << "&amp;"
                                       << "&amp;amp;";
    QTest::newRow("non-BMP kept") << QString::fromUtf8("\xF0\x9F\x98\x80")
                                  << QString::fromUtf8("\xF0\x9F\x98\x80");
    QTest::newRow("tab newline kept") << "a\tb\nc\r"
                                      << "a\tb\nc\r";
    QTest::newRow("NUL replaced") << QString(QChar(0)) << QString(QChar::ReplacementCharacter);
    QTest::newRow("U+001F replaced") << QString(QChar(0x1f)) << QString(QChar::ReplacementCharacter);
    QTest::newRow("U+FFFE replaced") << QString(QChar(0xfffe)) << QString(QChar::ReplacementCharacter);
    QTest::newRow("lone surrogate replaced")
        << QString(QChar(0xd800)) + "x" << QString(QChar::ReplacementCharacter) + "x";
}

void TestStanza::escapeXml()
{
    QFETCH(QString, text);
    QFETCH(QString, escaped);
    QCOMPARE(stanza::escapeXml(text), escaped);
    QVERIFY(stanza::isXmlSafe(stanza::escapeXml(text)));
}

void TestStanza::isXmlSafe_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("safe");
    QTest::newRow("ascii") << "</gcm>&" << true;
    QTest::newRow("empty") << "" << true;
    QTest::newRow("tab cr lf") << "\t\r\n" << true;
    QTest::newRow("non-BMP pair") << QString::fromUtf8("\xF0\x9F\x98\x80") << true;
    QTest::newRow("U+FFFD") << QString(QChar(0xfffd)) << true;
    QTest::newRow("NUL") << QString(QChar(0)) << false;
    QTest::newRow("vertical tab") << "\v" << false;
    QTest::newRow("U+FFFF") << QString(QChar(0xffff)) << false;
    QTest::newRow("lone high surrogate") << QString(QChar(0xd83d)) << false;
    QTest::newRow("lone low surrogate") << QString(QChar(0xde00)) << false;
}

void TestStanza::isXmlSafe()
{
    QFETCH(QString, text);
    QFETCH(bool, safe);
    QCOMPARE(stanza::isXmlSafe(text), safe);
}

void TestStanza::payloadRoundTrips_data()
{
    QTest::addColumn<QString>("value");
    QTest::newRow("close gcm") << "</gcm>";
    QTest::newRow("close gcm and message") << "</gcm></message><message><gcm xmlns=\"google:mobile:data\">{}";
    QTest::newRow("ampersand") << "&";
    QTest::newRow("entity text") << "&amp; &lt; &#x41; &bogus;";
    QTest::newRow("cdata end") << "]]>";
    QTest::newRow("cdata start") << "<![CDATA[x]]>";
    QTest::newRow("less than") << "<";
    QTest::newRow("quotes") << "\"double\" 'single'";
    QTest::newRow("comment") << "<!-- x -->";
    QTest::newRow("processing instruction") << "<?xml version='1.0'?>";
    QTest::newRow("non-BMP") << QString::fromUtf8("\xF0\x9F\x98\x80\xF0\x9D\x84\x9E\xF4\x8F\xBF\xBD");
    QTest::newRow("control characters") << QString("a") + QChar(0) + QChar(1) + QChar(0x1f) + "b";
    QTest::newRow("U+FFFE U+FFFF") << QString(QChar(0xfffe)) + QChar(0xffff);
    QTest::newRow("backslashes") << "\\u003c/gcm\\u003e \\";
    QTest::newRow("everything") << QString::fromUtf8("</gcm>&]]><\"'\xF0\x9F\x98\x80\n\t");
}

void TestStanza::payloadRoundTrips()
{
    QFETCH(QString, value);
    const QJsonObject request {{QStringLiteral("to"), QStringLiteral("TOKEN")},
        {QStringLiteral("message_id"), QStringLiteral("m-1")},
        {QStringLiteral("data"),
            QJsonObject {{QStringLiteral("payload"), value}, {value, QStringLiteral("as a key")}}}};
    const QByteArray json = json::serialize(request);
    const QByteArray xml = stanza::gcmMessage(QStringLiteral("s-1"), json);
    QVERIFY(!xml.contains("</gcm></message><"));
    QVERIFY(!xml.mid(0, xml.size() - 16).contains("</gcm>"));
    QVERIFY(!xml.contains("]]>"));

    const ParsedStanza parsed = readStanza(xml);
    QVERIFY2(parsed.ok, qPrintable(parsed.error + " in " + QString::fromUtf8(xml)));
    QCOMPARE(parsed.gcmElements, 1);
    QCOMPARE(parsed.messageId, QStringLiteral("s-1"));
    QJsonObject back;
    ParseError error;
    QVERIFY2(json::parseObject(parsed.gcmText.toUtf8(), &back, &error), qPrintable(error.message));
    QCOMPARE(back, request);
    QCOMPARE(back.value(QLatin1String("data")).toObject().value(QLatin1String("payload")).toString(), value);
}

void TestStanza::rawJsonTextRoundTrips_data()
{
    QTest::addColumn<QByteArray>("json");
    // Whatever text the app server hands over (even not JSON) is carried as text.
    QTest::newRow("as typed") << QByteArray(R"({ "to" : "</gcm>", "message_id":"&amp;" })");
    QTest::newRow("not json") << QByteArray("</gcm></message>]]>&<");
    QTest::newRow("utf-8") << QByteArray("{\"k\":\"\xF0\x9F\x98\x80 \xC3\xA9\"}");
    QTest::newRow("empty") << QByteArray();
}

void TestStanza::rawJsonTextRoundTrips()
{
    QFETCH(QByteArray, json);
    const ParsedStanza parsed = readStanza(stanza::gcmMessage(QString(), json));
    QVERIFY2(parsed.ok, qPrintable(parsed.error));
    QCOMPARE(parsed.gcmElements, 1);
    QCOMPARE(parsed.gcmText.toUtf8(), json);
    QVERIFY(parsed.messageId.isEmpty());
}

void TestStanza::unsafeCharactersBecomeJsonEscapes()
{
    // U+FFFF is valid JSON and valid UTF-8 but not an XML character: it must
    // travel as \uffff inside the JSON string, which means the same thing.
    const QJsonObject object {{QStringLiteral("k"), QString(QChar(0xffff))}};
    const QByteArray json = json::serialize(object);
    QVERIFY(json.contains("\xEF\xBF\xBF"));
    const QByteArray xml = stanza::gcmMessage(QStringLiteral("1"), json);
    QVERIFY(xml.contains("\\uffff"));
    const ParsedStanza parsed = readStanza(xml);
    QVERIFY2(parsed.ok, qPrintable(parsed.error));
    QJsonObject back;
    QVERIFY(json::parseObject(parsed.gcmText.toUtf8(), &back, nullptr));
    QCOMPARE(back, object);
}

void TestStanza::stanzaIdIsEscaped()
{
    const QString id = QStringLiteral("a\"b'c<d>&e");
    const QByteArray xml = stanza::gcmMessage(id, "{}");
    QCOMPARE(xml,
        QByteArray("<message id=\"a&quot;b&apos;c&lt;d&gt;&amp;e\"><gcm "
                   "xmlns=\"google:mobile:data\">{}</gcm></message>"));
    const ParsedStanza parsed = readStanza(xml);
    QVERIFY(parsed.ok);
    QCOMPARE(parsed.messageId, id);
    QCOMPARE(parsed.gcmText, QStringLiteral("{}"));
}

void TestStanza::copiesAreWhatGcmMessageWrites_data()
{
    QTest::addColumn<QByteArray>("json"); // a message with "message_id" (its value is replaced)
    QTest::addColumn<QString>("messageId");
    const QByteArray plain = R"({"to":"t","message_id":"x","data":{"hello":"world"}})";
    QTest::newRow("plain") << plain << QStringLiteral("m-20261201-000001");
    QTest::newRow("id first") << QByteArray(R"({"message_id":"x","to":"t"})") << QStringLiteral("1");
    QTest::newRow("markup in the data")
        << QByteArray(R"({"to":"a<b","message_id":"x","data":{"k":"]]> & <gcm>"}})")
        << QStringLiteral("id-2");
    QTest::newRow("non-ASCII data") << QByteArray(
        R"({"to":"t","message_id":"x","data":{"k":"h\u00e9 \u20ac \ud83d\ude00"}})")
                                    << QStringLiteral("id-3");
    QTest::newRow("control character in the data")
        << QByteArray(R"({"to":"t","message_id":"x","data":{"k":"a\u0001b"}})") << QStringLiteral("id-4");
    QTest::newRow("id with markup and quotes") << plain << QStringLiteral("a&b<c>\"d'e");
    QTest::newRow("non-ASCII id") << plain << QStringLiteral("caf\u00e9-\U0001F600");
    QTest::newRow("id with a control character") << plain << QStringLiteral("a\u0001b");
    QTest::newRow("long id") << plain << QString(300, QLatin1Char('i'));
    QTest::newRow("empty id") << plain << QString();
}

void TestStanza::copiesAreWhatGcmMessageWrites()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, messageId);
    QJsonObject object;
    ParseError error;
    QVERIFY2(json::parseObject(json, &object, &error), qPrintable(error.message));
    QByteArray before, after;
    QVERIFY(json::serializeAround(object, QLatin1StringView("message_id"), &before, &after));
    const stanza::GcmCopies copies(before, after);
    for (const QString &id : {messageId, messageId + QStringLiteral("-2")}) {
        QByteArray whole = before;
        json::appendString(whole, id);
        whole += after;
        QCOMPARE(copies.stanza(id), stanza::gcmMessage(id, whole));
    }
}

void TestStanza::stanzaError()
{
    // The reference's example: {"random": "text"} without a message_id.
    const QByteArray original = R"({"random": "text", "x": "</gcm>&"})";
    const QString text
        = QStringLiteral("InvalidJson: JSON_PARSING_ERROR : Missing Required Field: message_id");
    const QByteArray xml = stanza::gcmStanzaError(
        QStringLiteral("3"), QStringLiteral("123456789@gcm.googleapis.com/ABC"), original, text);
    const ParsedStanza parsed = readStanza(xml);
    QVERIFY2(parsed.ok, qPrintable(parsed.error));
    QCOMPARE(parsed.messageId, QStringLiteral("3"));
    QCOMPARE(parsed.messageType, QStringLiteral("error"));
    QCOMPARE(parsed.to, QStringLiteral("123456789@gcm.googleapis.com/ABC"));
    QCOMPARE(parsed.gcmElements, 1);
    QCOMPARE(parsed.gcmText.toUtf8(), original);
    QCOMPARE(parsed.errorCode, QStringLiteral("400"));
    QVERIFY(parsed.badRequest);
    QCOMPARE(parsed.errorText, text);

    // Hostile text in the description cannot break out either.
    const ParsedStanza hostile = readStanza(
        stanza::gcmStanzaError(QString(), QString(), "{}", QStringLiteral("</text></error>]]>&")));
    QVERIFY(hostile.ok);
    QCOMPARE(hostile.errorText, QStringLiteral("</text></error>]]>&"));
}

void TestStanza::plainReaderAgreesWithXml_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("plain"); // the fast path takes it
    const QByteArray open = R"(<message><gcm xmlns="google:mobile:data">)";
    const QByteArray close = "</gcm></message>";
    QTest::newRow("ack") << open + R"({"message_type":"ack","message_id":"m-1"})" + close << true;
    QTest::newRow("with id")
        << R"(<message id="x&amp;y"><gcm xmlns="google:mobile:data">{}</gcm></message>)"_ba << true;
    QTest::newRow("entities") << open + "a&lt;b&gt;c&amp;d&quot;e&apos;f" + close << true;
    QTest::newRow("tabs and line feeds") << open + "{\n\t}" + close << true;
    QTest::newRow("lone ]] and >") << open + "]] ] > ]>" + close << true;
    QTest::newRow("empty text") << open + close << true;
    QTest::newRow("followed by more") << open + "{}" + close + "<message>" << true;
    QTest::newRow("gcmMessage output")
        << stanza::gcmMessage(QStringLiteral("id-1"), R"({"a":"<&>"})") << true;
    QTest::newRow("]]> in text") << open + "a]]>b" + close << false;
    QTest::newRow("character reference") << open + "&#65;" + close << false;
    QTest::newRow("unknown entity") << open + "&nbsp;" + close << false;
    QTest::newRow("bare ampersand") << open + "a & b" + close << false;
    QTest::newRow("carriage return") << open + "a\r\nb" + close << false;
    QTest::newRow("non-ASCII") << open + "\xC3\xA9" + close << false;
    QTest::newRow("control") << open + "\x01" + close << false;
    QTest::newRow("CDATA") << open + "<![CDATA[x]]>" + close << false;
    QTest::newRow("single quotes") << "<message><gcm xmlns='google:mobile:data'>{}"_ba + close << false;
    QTest::newRow("type attribute") << R"(<message type="error"><gcm xmlns="google:mobile:data">{})"_ba
            + close << false;
    QTest::newRow("tab in id") << "<message id=\"a\tb\"><gcm xmlns=\"google:mobile:data\">{}"_ba + close
                               << false;
    QTest::newRow("other namespace") << R"(<message><gcm xmlns="google:mobile:other">{})"_ba + close << false;
    QTest::newRow("child element") << open + "<b/>" + close << false;
    QTest::newRow("iq") << R"(<iq type="get" id="1"/>)"_ba << false;
    QTest::newRow("stream end") << "</stream:stream>"_ba << false;
    QTest::newRow("longer than the cap") << open + QByteArray(101, 'x') + close << false;
}

// Whatever the fast path takes, an XML reader reads the same stanza from the same bytes
// (as UTF-8); a text without entities is the bytes read themselves, not a copy.
void TestStanza::plainReaderAgreesWithXml()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, plain);
    stanza::PlainGcm read;
    const qsizetype taken = stanza::readPlainGcmMessage(bytes, &read, 100);
    QCOMPARE(taken > 0, plain);
    if (!plain) {
        QCOMPARE(taken, 0);
        return;
    }
    const ParsedStanza xml = readStanza(bytes.first(taken));
    QVERIFY2(xml.ok, qPrintable(xml.error));
    QCOMPARE(xml.gcmElements, 1);
    QCOMPARE(read.id.toByteArray(), xml.messageId.toUtf8());
    QCOMPARE(read.json.toByteArray(), xml.gcmText.toUtf8());
    QVERIFY(xml.messageType.isEmpty());

    // Where the texts stand in the bytes: a view there exactly when they hold no entity.
    const QByteArrayView stanzaBytes = QByteArrayView(bytes).first(taken);
    const QByteArrayView gcmOpen = R"(<gcm xmlns="google:mobile:data">)";
    const qsizetype jsonFrom = stanzaBytes.indexOf(gcmOpen) + gcmOpen.size();
    const QByteArrayView rawJson = stanzaBytes.sliced(jsonFrom, stanzaBytes.lastIndexOf("</gcm>") - jsonFrom);
    QCOMPARE(read.json.data() == rawJson.data(), !rawJson.contains('&'));
    if (const qsizetype idFrom = stanzaBytes.indexOf(R"(id=")"); idFrom >= 0) {
        const QByteArrayView rawId
            = stanzaBytes.sliced(idFrom + 4, stanzaBytes.indexOf('"', idFrom + 4) - idFrom - 4);
        QCOMPARE(read.id.data() == rawId.data(), !rawId.contains('&'));
    } else {
        QVERIFY(read.id.isEmpty());
    }
}

// Cut anywhere, a plain stanza asks for more (-1) and never claims the bytes are something else.
void TestStanza::plainReaderWaitsForTheRest()
{
    const QByteArray whole
        = R"(<message id="s&quot;1"><gcm xmlns="google:mobile:data">{"a":"&lt;&amp;&gt;"}</gcm></message>)";
    stanza::PlainGcm read;
    QCOMPARE(stanza::readPlainGcmMessage(whole, &read, 1000), whole.size());
    QCOMPARE(read.id.toByteArray(), "s\"1"_ba);
    QCOMPARE(read.json.toByteArray(), R"({"a":"<&>"})"_ba);
    // What does not take a stanza leaves what the last one read as it was.
    for (qsizetype cut = 1; cut < whole.size(); ++cut) {
        QVERIFY2(stanza::readPlainGcmMessage(whole.first(cut), &read, 1000) == -1,
            qPrintable(QString::number(cut)));
        QCOMPARE(read.id.toByteArray(), "s\"1"_ba);
        QCOMPARE(read.json.toByteArray(), R"({"a":"<&>"})"_ba);
    }
    // Not a plain stanza from its first bytes on: 0 at once, however short.
    QCOMPARE(stanza::readPlainGcmMessage("<iq", &read, 1000), 0);
    QCOMPARE(stanza::readPlainGcmMessage("<message id='", &read, 1000), 0);
    QCOMPARE(read.json.toByteArray(), R"({"a":"<&>"})"_ba);
}

// The fast path scans eight bytes at a time: whatever it must look at (an entity, a
// byte it leaves to the XML reader, "]]>") is seen at any offset in the id and the JSON,
// and what it takes is what an XML reader reads.
void TestStanza::plainReaderFindsEveryByteAtEveryOffset()
{
    const QList<QByteArray> specials {"&amp;", "&lt;", "&quot;", "&#65;", "&x;", "<b/>", "]]>", "]]", ">",
        "\t", "\n", "\r", "\x01", "\x1f", "\x7f", "\xC3\xA9", "\"", "'"};
    for (const QByteArray &special : specials) {
        for (int at = 0; at < 20; ++at) {
            const QByteArray text = QByteArray(at, 'x') + special + QByteArray(at % 9, 'y');
            for (const bool inId : {false, true}) {
                const QByteArray bytes = inId
                    ? R"(<message id=")" + text + R"("><gcm xmlns="google:mobile:data">{}</gcm></message>)"
                    : R"(<message id="i"><gcm xmlns="google:mobile:data">)" + text + "</gcm></message>";
                const QByteArray row = QByteArray(inId ? "id " : "text ") + special.toPercentEncoding()
                    + " at " + QByteArray::number(at);
                // Taken: the five entities, ">" and "]]" (in an attribute "]]>" too), and in
                // text also tabs, line feeds and double quotes (which end an attribute value).
                const bool taken = [&] {
                    if (special.startsWith('&'))
                        return special != "&#65;" && special != "&x;";
                    if (special == "\t" || special == "\n" || special == "\"")
                        return !inId;
                    if (special == "]]>")
                        return inId;
                    const auto first = uchar(special.front());
                    return first >= 0x20 && first < 0x7f && first != '<';
                }();
                stanza::PlainGcm read;
                const qsizetype length = stanza::readPlainGcmMessage(bytes, &read, 1000);
                QVERIFY2(length == (taken ? bytes.size() : 0), row.constData());
                if (!taken)
                    continue;
                const ParsedStanza xml = readStanza(bytes);
                QVERIFY2(xml.ok, row.constData());
                QVERIFY2(read.id.toByteArray() == xml.messageId.toUtf8(), row.constData());
                QVERIFY2(read.json.toByteArray() == xml.gcmText.toUtf8(), row.constData());
            }
        }
    }
}

QTEST_GUILESS_MAIN(TestStanza)
#include "tst_stanza.moc"
