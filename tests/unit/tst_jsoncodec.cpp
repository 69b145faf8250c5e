// The strict JSON codec: what it accepts, what it refuses and how it says so.
#include "protocol/JsonCodec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>
#include <QTest>

#include <cmath>
#include <limits>

using namespace ccs;

class TestJsonCodec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void accepts_data();
    void accepts();
    void refuses_data();
    void refuses();
    void errorNamesLineAndColumn();
    void refusesDeepNesting();
    void acceptsNestingUpToTheCap();
    void refusesHugeAndOddNumbers_data();
    void refusesHugeAndOddNumbers();
    void valueTypesRoundTrip_data();
    void valueTypesRoundTrip();
    void largeDoublesKeepTheirValue();
    void serializeWritesWhatQtWrites_data();
    void serializeWritesWhatQtWrites();
    void serializeIsCompactUtf8();
    void serializeAckIsSerializeOfToJson_data();
    void serializeAckIsSerializeOfToJson();
    void serializeAroundSplicesTheValue_data();
    void serializeAroundSplicesTheValue();
    void serializeDownstreamIsSerializeOfToJson();
    void plainAckFastPath_data();
    void plainAckFastPath();
    void plainAckAtEveryOffset();
    void survivesRandomGarbage();
};

void TestJsonCodec::accepts_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("compact");

    QTest::newRow("empty object") << QByteArray("{}") << QByteArray("{}");
    QTest::newRow("white space around") << QByteArray(" \t\r\n{ } \n") << QByteArray("{}");
    QTest::newRow("all value types")
        << QByteArray(
               R"({"s":"x","i":-12,"d":1.5,"e":2e3,"t":true,"f":false,"n":null,"a":[1,"2",[]],"o":{"k":{}}})")
        << QByteArray(
               R"({"a":[1,"2",[]],"d":1.5,"e":2000,"f":false,"i":-12,"n":null,"o":{"k":{}},"s":"x","t":true})");
    QTest::newRow("escapes") << QByteArray(R"({"k":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"})")
                             << QByteArray("{\"k\":\"\\\"\\\\/\\b\\f\\n\\r\\t\xC3\xA9\xF0\x9F\x98\x80\"}");
    QTest::newRow("raw utf-8") << QByteArray("{\"k\xC3\xA9\":\"\xE2\x82\xAC\xF0\x9F\x98\x80\"}")
                               << QByteArray("{\"k\xC3\xA9\":\"\xE2\x82\xAC\xF0\x9F\x98\x80\"}");
    QTest::newRow("large integer kept exactly")
        << QByteArray(R"({"n":9007199254740993})") << QByteArray(R"({"n":9007199254740993})");
    QTest::newRow("negative zero and exponent")
        << QByteArray(R"({"a":-0,"b":1E-2,"c":0.25e+1})") << QByteArray(R"({"a":0,"b":0.01,"c":2.5})");
}

void TestJsonCodec::accepts()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, compact);
    QJsonObject object;
    ParseError error;
    QVERIFY2(json::parseObject(text, &object, &error), qPrintable(error.message));
    QCOMPARE(json::serialize(object), compact);
    // What we write, we read back to the same object.
    QJsonObject again;
    QVERIFY(json::parseObject(json::serialize(object), &again, &error));
    QCOMPARE(again, object);
    QVERIFY(json::parseObject(json::serializePretty(object), &again, &error));
    QCOMPARE(again, object);
}

void TestJsonCodec::refuses_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected"); // a fragment of the message
    QTest::addColumn<int>("offset"); // where the error points, -1: don't check

    QTest::newRow("empty") << QByteArray("") << "empty" << 0;
    QTest::newRow("blank") << QByteArray("  \n ") << "empty" << 4;
    QTest::newRow("array at top") << QByteArray("[1]") << "expected a JSON object" << 0;
    QTest::newRow("string at top") << QByteArray("\"x\"") << "expected a JSON object" << 0;
    QTest::newRow("two objects") << QByteArray("{} {}") << "end of the text" << 3;
    QTest::newRow("text after") << QByteArray("{}x") << "end of the text" << 2;
    QTest::newRow("line comment") << QByteArray("{\"a\":1 // c\n}") << "comments are not allowed" << 7;
    QTest::newRow("block comment") << QByteArray("{/* c */\"a\":1}") << "comments are not allowed" << 1;
    QTest::newRow("trailing comma object") << QByteArray(R"({"a":1,})") << "trailing commas" << 7;
    QTest::newRow("trailing comma array") << QByteArray(R"({"a":[1,]})") << "trailing commas" << 8;
    QTest::newRow("missing comma") << QByteArray(R"({"a":1 "b":2})") << "expected ',' or '}'" << 7;
    QTest::newRow("missing colon") << QByteArray(R"({"a" 1})") << "expected ':'" << 5;
    QTest::newRow("missing value") << QByteArray(R"({"a":})") << "expected a value" << 5;
    QTest::newRow("unclosed object") << QByteArray(R"({"a":1)") << "expected ',' or '}'" << 6;
    QTest::newRow("unclosed string") << QByteArray(R"({"a":"x)") << "close the string" << 7;
    QTest::newRow("single quotes") << QByteArray("{'a':1}") << "member name in double quotes" << 1;
    QTest::newRow("bare key") << QByteArray("{a:1}") << "member name in double quotes" << 1;
    QTest::newRow("curly quotes") << QByteArray("{\xE2\x80\x9C"
                                                "a\xE2\x80\x9D:1}")
                                  << "curly quote" << 1;
    QTest::newRow("curly quote value")
        << QByteArray("{\"a\":\xE2\x80\x9Cx\xE2\x80\x9D}") << "curly quote" << 5;
    QTest::newRow("duplicate key") << QByteArray(R"({"a":1,"b":2,"a":3})") << "duplicate member name \"a\""
                                   << 13;
    QTest::newRow("duplicate nested key") << QByteArray(R"({"d":{"k":"1","k":"2"}})") << "duplicate" << 14;
    QTest::newRow("duplicate key by escape") << QByteArray(R"({"a":1,"\u0061":2})") << "duplicate" << 7;
    QTest::newRow("control char in string") << QByteArray("{\"a\":\"x\ny\"}") << "control character" << 7;
    QTest::newRow("bad escape") << QByteArray(R"({"a":"\x"})") << "invalid escape" << 6;
    QTest::newRow("short unicode escape") << QByteArray(R"({"a":"\u12"})") << "four hex digits" << 8;
    QTest::newRow("lone high surrogate") << QByteArray(R"({"a":"\ud83d"})") << "surrogate" << -1;
    QTest::newRow("lone low surrogate") << QByteArray(R"({"a":"\ude00"})") << "surrogate" << -1;
    QTest::newRow("invalid utf-8 byte") << QByteArray("{\"a\":\"\xFF\"}") << "invalid UTF-8" << 6;
    QTest::newRow("truncated utf-8") << QByteArray("{\"a\":\"\xC3\"}") << "invalid UTF-8" << 6;
    QTest::newRow("overlong utf-8") << QByteArray("{\"a\":\"\xC0\xAF\"}") << "invalid UTF-8" << 6;
    QTest::newRow("overlong 3-byte") << QByteArray("{\"a\":\"\xE0\x80\xAF\"}") << "invalid UTF-8" << 6;
    QTest::newRow("utf-8 surrogate") << QByteArray("{\"a\":\"\xED\xA0\x80\"}") << "invalid UTF-8" << 6;
    QTest::newRow("above U+10FFFF") << QByteArray("{\"a\":\"\xF4\x90\x80\x80\"}") << "invalid UTF-8" << 6;
    QTest::newRow("invalid utf-8 in key") << QByteArray("{\"\x80\":1}") << "invalid UTF-8" << 2;
    QTest::newRow("byte order mark") << QByteArray("\xEF\xBB\xBF{}") << "byte order mark" << 0;
    QTest::newRow("nul byte") << QByteArray("{\"a\":1}\0", 8) << "end of the text" << 7;
    QTest::newRow("leading zero") << QByteArray(R"({"a":01})") << "leading zeros" << 6;
    QTest::newRow("plus sign") << QByteArray(R"({"a":+1})") << "expected a value" << 5;
    QTest::newRow("bare dot") << QByteArray(R"({"a":1.})") << "digit after '.'" << 7;
    QTest::newRow("NaN") << QByteArray(R"({"a":NaN})") << "expected a value" << 5;
    QTest::newRow("True") << QByteArray(R"({"a":True})") << "expected a value" << 5;
    QTest::newRow("tru") << QByteArray(R"({"a":tru})") << "expected 'true'" << 5;
    QTest::newRow("hex number") << QByteArray(R"({"a":0x10})") << "expected ',' or '}'" << 6;
}

void TestJsonCodec::refuses()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    QFETCH(int, offset);
    QJsonObject object {{QStringLiteral("untouched"), true}};
    ParseError error;
    QVERIFY(!json::parseObject(text, &object, &error));
    QVERIFY2(error.message.contains(expected), qPrintable(error.message));
    QVERIFY2(error.message.startsWith(QLatin1String("JSON error at line ")), qPrintable(error.message));
    if (offset >= 0)
        QCOMPARE(error.offset, offset);
    QVERIFY(error.offset >= 0 && error.offset <= text.size());
    // A failed parse leaves the output alone.
    QCOMPARE(object.value(QLatin1String("untouched")), QJsonValue(true));
    // The message parsers give the same error as a value, never a crash.
    const ServerMessage server = json::parseServerMessage(text);
    QVERIFY(std::holds_alternative<ParseError>(server));
    QCOMPARE(std::get<ParseError>(server), error);
    const ClientMessage client = json::parseClientMessage(text);
    QVERIFY(std::holds_alternative<ParseError>(client));
    QCOMPARE(std::get<ParseError>(client), error);
}

void TestJsonCodec::errorNamesLineAndColumn()
{
    // Columns count characters: the two-byte é counts once.
    const QByteArray text = "{\n  \"k\xC3\xA9\": \"v\",\n  \"b\": 1,\n  \"c\" 2\n}";
    ParseError error;
    QVERIFY(!json::parseObject(text, nullptr, &error));
    QCOMPARE(error.message,
        QStringLiteral("JSON error at line 4:7: expected ':' after a member name but found '2'"));
    QCOMPARE(error.offset, text.indexOf(" 2\n") + 1);

    QVERIFY(!json::parseObject("{\"a\":1,\n}", nullptr, &error));
    QCOMPARE(error.message,
        QStringLiteral("JSON error at line 2:1: expected a member name after ',' but found '}' "
                       "(trailing commas are not allowed)"));
}

void TestJsonCodec::refusesDeepNesting()
{
    // Far deeper than any stack would survive if the parser followed blindly.
    for (int depth : {65, 1000, 200000}) {
        QByteArray text = "{\"a\":";
        text += QByteArray(depth, '[');
        text += QByteArray(depth, ']');
        text += '}';
        ParseError error;
        QVERIFY(!json::parseObject(text, nullptr, &error));
        QVERIFY2(error.message.contains(QLatin1String("nesting deeper than 64")), qPrintable(error.message));
        QCOMPARE(error.offset, 5 + 63);
    }
    QByteArray objects;
    for (int i = 0; i < 100000; ++i)
        objects += "{\"a\":";
    ParseError error;
    QVERIFY(!json::parseObject(objects, nullptr, &error));
    QVERIFY(error.message.contains(QLatin1String("nesting")));
}

void TestJsonCodec::acceptsNestingUpToTheCap()
{
    // The top object is level 1: 63 arrays inside it make 64 levels.
    QByteArray text = "{\"a\":" + QByteArray(63, '[') + QByteArray(63, ']') + "}";
    QJsonObject object;
    ParseError error;
    QVERIFY2(json::parseObject(text, &object, &error), qPrintable(error.message));
    QCOMPARE(json::serialize(object), text);
    text = "{\"a\":" + QByteArray(64, '[') + QByteArray(64, ']') + "}";
    QVERIFY(!json::parseObject(text, &object, &error));
}

void TestJsonCodec::refusesHugeAndOddNumbers_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<double>("value");
    QTest::newRow("1e400 overflows") << QByteArray(R"({"n":1e400})") << false << 0.0;
    QTest::newRow("-1e400 overflows") << QByteArray(R"({"n":-1e400})") << false << 0.0;
    QTest::newRow("int64 max") << QByteArray(R"({"n":9223372036854775807})") << true << 9223372036854775807.0;
    QTest::newRow("beyond int64 is a double")
        << QByteArray(R"({"n":92233720368547758070})") << true << 92233720368547758070.0;
    QTest::newRow("tiny") << QByteArray(R"({"n":1e-300})") << true << 1e-300;
}

void TestJsonCodec::refusesHugeAndOddNumbers()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, ok);
    QFETCH(double, value);
    QJsonObject object;
    ParseError error;
    QCOMPARE(json::parseObject(text, &object, &error), ok);
    if (ok)
        QCOMPARE(object.value(QLatin1String("n")).toDouble(), value);
    else
        QVERIFY(error.message.contains(QLatin1String("number out of range")));
}

void TestJsonCodec::valueTypesRoundTrip_data()
{
    QTest::addColumn<QJsonValue>("value");
    QTest::newRow("string") << QJsonValue(QStringLiteral("hello"));
    QTest::newRow("empty string") << QJsonValue(QString());
    QTest::newRow("xml specials") << QJsonValue(QStringLiteral("</gcm>&]]><'\""));
    QTest::newRow("control chars") << QJsonValue(QStringLiteral("a\x01\x1f\n\t\"\\b"));
    QTest::newRow("non-BMP") << QJsonValue(QString::fromUtf8("\xF0\x9F\x98\x80 \xF0\x9D\x84\x9E"));
    QTest::newRow("U+FFFF") << QJsonValue(QString(QChar(0xFFFF)));
    QTest::newRow("zero") << QJsonValue(0);
    QTest::newRow("int") << QJsonValue(2419200);
    QTest::newRow("negative") << QJsonValue(-42);
    QTest::newRow("int64") << QJsonValue(qint64(1) << 62);
    QTest::newRow("double") << QJsonValue(0.1);
    QTest::newRow("double exponent") << QJsonValue(6.02214076e23);
    QTest::newRow("double min") << QJsonValue(std::numeric_limits<double>::denorm_min());
    QTest::newRow("true") << QJsonValue(true);
    QTest::newRow("false") << QJsonValue(false);
    QTest::newRow("null") << QJsonValue(QJsonValue::Null);
    QTest::newRow("array") << QJsonValue(QJsonArray {1, QStringLiteral("x"), QJsonArray {}, QJsonObject {}});
    QTest::newRow("object") << QJsonValue(
        QJsonObject {{QStringLiteral("k"), QJsonObject {{QStringLiteral("n"), 1}}}});
}

void TestJsonCodec::valueTypesRoundTrip()
{
    QFETCH(QJsonValue, value);
    const QJsonObject object {{QStringLiteral("v"), value}};
    const QByteArray text = json::serialize(object);
    QJsonObject back;
    ParseError error;
    QVERIFY2(json::parseObject(text, &back, &error), qPrintable(error.message + " in " + text));
    QCOMPARE(back, object);
    QCOMPARE(back.value(QLatin1String("v")).type(), value.type());
    QCOMPARE(json::serialize(back), text);
}

void TestJsonCodec::largeDoublesKeepTheirValue()
{
    // A fraction past 2^53 is a double; Qt writes it back as an integer
    // literal of the same value, which parses as an integer. The number must
    // survive by value (the message a device gets is the same), and a second
    // round trip must be stable.
    QJsonObject object;
    ParseError error;
    QVERIFY(json::parseObject(R"({"n":955555555555555555.99989})", &object, &error));
    const double original = object.value(QLatin1String("n")).toDouble();
    QCOMPARE(original, 955555555555555555.99989);
    const QByteArray once = json::serialize(object);
    QJsonObject back;
    QVERIFY2(json::parseObject(once, &back, &error), qPrintable(error.message));
    QCOMPARE(back.value(QLatin1String("n")).toDouble(), original);
    QCOMPARE(back.value(QLatin1String("n")), object.value(QLatin1String("n")));
    QCOMPARE(json::serialize(back), once);
}

void TestJsonCodec::serializeWritesWhatQtWrites_data()
{
    QTest::addColumn<QJsonValue>("value");
    QTest::newRow("ascii") << QJsonValue(QStringLiteral("plain text, 123"));
    QTest::newRow("escapes") << QJsonValue(QStringLiteral("\"\\/\b\f\n\r\t\x01\x1f\x7f"));
    QTest::newRow("two-byte") << QJsonValue(QString::fromUtf8("\xC3\xA9\xC2\x80\xDF\xBF"));
    QTest::newRow("three-byte") << QJsonValue(QString::fromUtf8("\xE2\x82\xAC\xEF\xBF\xBF\xE0\xA0\x80"));
    QTest::newRow("non-BMP") << QJsonValue(QString::fromUtf8("\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF"));
    QTest::newRow("lone high surrogate") << QJsonValue(QString(QChar(0xD800)) + QLatin1Char('x'));
    QTest::newRow("lone low surrogate") << QJsonValue(QString(QChar(0xDFFF)));
    QTest::newRow("high at end") << QJsonValue(QStringLiteral("a") + QChar(0xDBFF));
    const QList<double> numbers {0, -0.0, 1, -1, 0.5, 1e17, 1e300, -2.5e-300, 9007199254740992.0,
        9007199254740993.0, 955555555555555555.9, 123456789.125, std::numeric_limits<double>::denorm_min()};
    for (const double n : numbers)
        QTest::addRow("double %.17g", n) << QJsonValue(n);
    const QList<qint64> integers {0, 2419200, -42, qint64(1) << 53, (qint64(1) << 53) + 1,
        std::numeric_limits<qint64>::max(), std::numeric_limits<qint64>::min()};
    for (const qint64 n : integers)
        QTest::addRow("integer %lld", static_cast<long long>(n)) << QJsonValue(n);
    QTest::newRow("null") << QJsonValue(QJsonValue::Null);
    QTest::newRow("bools") << QJsonValue(QJsonArray {true, false});
    QTest::newRow("nested") << QJsonValue(QJsonObject {
        {QStringLiteral("b"), QJsonArray {1, QJsonObject {}}}, {QStringLiteral("a\n\u00e9"), QJsonArray {}}});
}

void TestJsonCodec::serializeWritesWhatQtWrites()
{
    // json::serialize is a faster writer of QJsonDocument's compact form; it must not differ.
    QFETCH(QJsonValue, value);
    const QJsonObject object {{QStringLiteral("v"), value}, {QStringLiteral("k\u00fc\""), value}};
    QCOMPARE(json::serialize(object), QJsonDocument(object).toJson(QJsonDocument::Compact));
}

void TestJsonCodec::serializeIsCompactUtf8()
{
    const QJsonObject object {{QStringLiteral("to"), QStringLiteral("t")},
        {QStringLiteral("data"), QJsonObject {{QStringLiteral("x"), QString::fromUtf8("é€😀")}}}};
    const QByteArray text = json::serialize(object);
    QCOMPARE(text, QByteArray("{\"data\":{\"x\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"},\"to\":\"t\"}"));
    QVERIFY(!text.contains(' '));
    QVERIFY(!text.contains('\n'));
    QVERIFY(json::serializePretty(object).contains('\n'));
}

void TestJsonCodec::serializeAckIsSerializeOfToJson_data()
{
    QTest::addColumn<Ack>("ack");
    QTest::newRow("downstream ack") << Ack {QStringLiteral("m-1"), QStringLiteral("dev"), {}, {}};
    QTest::newRow("upstream ack") << Ack::forUpstream(QStringLiteral("dev"), QStringLiteral("up-1"));
    QTest::newRow("all fields") << Ack {QStringLiteral("m"), QStringLiteral("f"), QStringLiteral("t"), {}};
    QTest::newRow("empty id") << Ack {};
    QTest::newRow("escapes and non-ASCII")
        << Ack {QString::fromUtf8("\"\\\n\x01 \xC3\xA9 \xF0\x9F\x98\x80"), QStringLiteral("</gcm>"), {}, {}};
    QTest::newRow("extra") << Ack {QStringLiteral("m"), QStringLiteral("f"), {},
        QJsonObject {{QStringLiteral("a"), 1}, {QStringLiteral("zz"), true}}};
}

void TestJsonCodec::serializeAckIsSerializeOfToJson()
{
    QFETCH(Ack, ack);
    QCOMPARE(json::serializeAck(ack), json::serialize(ack.toJson()));
}

void TestJsonCodec::serializeAroundSplicesTheValue_data()
{
    QTest::addColumn<QJsonObject>("object");
    QTest::addColumn<QString>("value");
    const QJsonObject data {{QStringLiteral("message_id"), QStringLiteral("nested, not the one")},
        {QStringLiteral("k"), QStringLiteral("v")}};
    const QJsonObject message {{QStringLiteral("to"), QStringLiteral("TOKEN")},
        {QStringLiteral("message_id"), QStringLiteral("m-1")}, {QStringLiteral("data"), data},
        {QStringLiteral("time_to_live"), 60}, {QStringLiteral("dry_run"), true}};
    QTest::newRow("generated id") << message << QStringLiteral("m-20261201-061500-0a1b2c3d-000042");
    QTest::newRow("escapes and non-ASCII")
        << message << QString::fromUtf8("\"\\\n\x01 </gcm> \xC3\xA9 \xF0\x9F\x98\x80");
    QTest::newRow("empty value") << message << QString();
    QTest::newRow("first member") << QJsonObject {{QStringLiteral("message_id"), QStringLiteral("x")}}
                                  << QStringLiteral("y");
    QTest::newRow("last member") << QJsonObject {{QStringLiteral("a"), 1},
        {QStringLiteral("message_id"), QStringLiteral("x")}}
                                 << QStringLiteral("y");
}

void TestJsonCodec::serializeAroundSplicesTheValue()
{
    QFETCH(QJsonObject, object);
    QFETCH(QString, value);
    QByteArray before, after;
    QVERIFY(json::serializeAround(object, QLatin1StringView("message_id"), &before, &after));
    QByteArray spliced = before;
    json::appendString(spliced, value);
    spliced += after;
    object.insert(QStringLiteral("message_id"), value);
    QCOMPARE(spliced, json::serialize(object));
}

void TestJsonCodec::serializeDownstreamIsSerializeOfToJson()
{
    const auto payloadOf = [](const DownstreamMessage &m) {
        QByteArray text;
        if (m.data)
            text += json::serialize(*m.data);
        if (m.notification)
            text += (text.isEmpty() ? QByteArray() : QByteArray(" ")) + json::serialize(*m.notification);
        return text;
    };
    QList<DownstreamMessage> messages;
    DownstreamMessage plain;
    plain.to = QStringLiteral("dev");
    plain.messageId = QStringLiteral("m-1");
    plain.data = QJsonObject {{QStringLiteral("seq"), 7}, {QStringLiteral("text"), QStringLiteral("hi")}};
    messages << plain << DownstreamMessage {};
    DownstreamMessage every = plain;
    every.to = QString::fromUtf8("\"\\\n\x01 \xC3\xA9 \xF0\x9F\x98\x80</gcm>");
    every.notification = QJsonObject {{QStringLiteral("title"), QStringLiteral("T")},
        {QStringLiteral("n"), QJsonArray {1, 2.5, QJsonValue(), false}}};
    every.collapseKey = QStringLiteral("ck");
    every.timeToLive = 0;
    every.delayWhileIdle = false;
    every.deliveryReceiptRequested = true;
    every.priority = QStringLiteral("high");
    every.contentAvailable = true;
    every.mutableContent = false;
    every.dryRun = true;
    messages << every;
    DownstreamMessage onlyNotification = plain;
    onlyNotification.data.reset();
    onlyNotification.notification = QJsonObject {};
    onlyNotification.timeToLive = 2419200;
    messages << onlyNotification;
    DownstreamMessage hugeTtl = plain;
    hugeTtl.timeToLive = std::numeric_limits<qint64>::max();
    messages << hugeTtl;
    DownstreamMessage extra = every;
    extra.extra = QJsonObject {{QStringLiteral("a"), 1}, {QStringLiteral("to"), QStringLiteral("shadowed")}};
    messages << extra;
    for (const DownstreamMessage &m : std::as_const(messages)) {
        QByteArray payload = "stale";
        QCOMPARE(json::serializeDownstream(m, &payload), json::serialize(m.toJson()));
        QCOMPARE(payload, payloadOf(m));
        QCOMPARE(m.toJsonBytes(), json::serialize(m.toJson()));
    }
}

void TestJsonCodec::plainAckFastPath_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("fast"); // taken by the fast path
    QTest::newRow("ack") << QByteArray(R"({"from":"dev","message_id":"m-1","message_type":"ack"})") << true;
    QTest::newRow("spaces") << QByteArray(" {\n \"message_type\" : \"ack\" ,\t\"message_id\":\"m\"}\r\n")
                            << true;
    QTest::newRow("client ack") << QByteArray(R"({"to":"dev","message_id":"m-1","message_type":"ack"})")
                                << true;
    QTest::newRow("only the type") << QByteArray(R"({"message_type":"ack"})") << true;
    QTest::newRow("nack") << QByteArray(R"({"message_type":"nack","message_id":"m"})") << false;
    QTest::newRow("escape") << QByteArray(R"({"message_type":"ack","message_id":"m\u0041"})") << false;
    QTest::newRow("non-ASCII") << QByteArray("{\"message_type\":\"ack\",\"from\":\"\xC3\xA9\"}") << false;
    QTest::newRow("extra member") << QByteArray(R"({"message_type":"ack","message_id":"m","x":"y"})")
                                  << false;
    QTest::newRow("number") << QByteArray(R"({"message_type":"ack","message_id":1})") << false;
    QTest::newRow("duplicate") << QByteArray(R"({"message_type":"ack","message_id":"a","message_id":"b"})")
                               << false;
    QTest::newRow("trailing comma") << QByteArray(R"({"message_type":"ack",})") << false;
    QTest::newRow("trailing text") << QByteArray(R"({"message_type":"ack"} x)") << false;
    QTest::newRow("control char") << QByteArray("{\"message_type\":\"ack\",\"from\":\"a\tb\"}") << false;
    QTest::newRow("cut") << QByteArray(R"({"message_type":"ack")") << false;
    QTest::newRow("empty") << QByteArray() << false;
}

// The fast path scans strings eight bytes at a time: a byte it must decline (an escape,
// a control character, non-ASCII) is seen wherever it stands, and what it takes is read whole.
void TestJsonCodec::plainAckAtEveryOffset()
{
    // "": the plain string; DEL is allowed unescaped in JSON.
    const QList<QByteArray> specials {
        "", "\x7f", "\\u0041", "\\\"", "\\\\", "\t", "\x01", "\x1f", "\xC3\xA9"};
    for (const QByteArray &special : specials) {
        for (int at = 0; at < 20; ++at) {
            const QByteArray value = QByteArray(at, 'm') + special + QByteArray(at % 9, 'n');
            for (const char *field : {"message_id", "from"}) {
                const QByteArray text
                    = R"({"message_type":"ack",")" + QByteArray(field) + R"(":")" + value + "\"}";
                const QByteArray row
                    = special.toPercentEncoding() + " at " + QByteArray::number(at) + " in " + field;
                const std::optional<Ack> plain = json::parsePlainAck(text);
                const bool fast = special.isEmpty() || special == "\x7f";
                QVERIFY2(plain.has_value() == fast, row.constData());
                if (!fast)
                    continue;
                QJsonObject object;
                QVERIFY2(json::parseObject(text, &object, nullptr), row.constData());
                QVERIFY2(plain->messageId == object.value(QLatin1String("message_id")).toString(),
                    row.constData());
                QVERIFY2(plain->from == object.value(QLatin1String("from")).toString(), row.constData());
                QVERIFY2(plain->to.isEmpty(), row.constData());
            }
        }
    }
}

void TestJsonCodec::plainAckFastPath()
{
    // Whatever the fast path takes, the strict parser reads the same; whatever it
    // declines still gets the strict parser's answer (an Ack with extra, or an error).
    QFETCH(QByteArray, text);
    QFETCH(bool, fast);
    const std::optional<Ack> plain = json::parsePlainAck(text);
    QCOMPARE(plain.has_value(), fast);
    QJsonObject object;
    ParseError error;
    const bool parses = json::parseObject(text, &object, &error);
    const ServerMessage message = json::parseServerMessage(text);
    if (!plain) {
        if (!parses)
            QVERIFY(std::holds_alternative<ParseError>(message));
        return;
    }
    QVERIFY(parses);
    QCOMPARE(object.value(QLatin1String("message_type")).toString(), QStringLiteral("ack"));
    QCOMPARE(plain->messageId, object.value(QLatin1String("message_id")).toString());
    QCOMPARE(plain->from, object.value(QLatin1String("from")).toString());
    QCOMPARE(plain->to, object.value(QLatin1String("to")).toString());
    QVERIFY(plain->extra.isEmpty());
    QVERIFY(std::holds_alternative<Ack>(message));
    QVERIFY(std::get<Ack>(message) == *plain);
    const ClientMessage fromClient = json::parseClientMessage(text);
    QVERIFY(std::holds_alternative<Ack>(fromClient));
    QVERIFY(std::get<Ack>(fromClient) == *plain);
}

void TestJsonCodec::survivesRandomGarbage()
{
    // Mutations of a valid message: every one parses or fails with a position, none crashes.
    const QByteArray valid = R"({"to":"t","message_id":"m-1","data":{"a":"b","n":[1,2.5,true,null]}})";
    quint32 seed = 12345;
    auto next = [&seed] {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 8) & 0xffffff;
    };
    int failures = 0;
    for (int i = 0; i < 3000; ++i) {
        QByteArray text = valid;
        const int edits = 1 + int(next() % 4);
        for (int e = 0; e < edits; ++e) {
            const int at = int(next() % quint32(text.size()));
            switch (next() % 3) {
            case 0:
                text[at] = char(next() & 0xff);
                break;
            case 1:
                text.remove(at, 1);
                break;
            default:
                text.insert(at, char(next() & 0xff));
                break;
            }
        }
        ParseError error;
        QJsonObject object;
        if (!json::parseObject(text, &object, &error)) {
            ++failures;
            QVERIFY(error.offset >= 0 && error.offset <= text.size());
            QVERIFY(error.message.startsWith(QLatin1String("JSON error at line ")));
        }
        (void)json::parseServerMessage(text);
        (void)json::parseClientMessage(text);
    }
    QVERIFY(failures > 1000);
}

QTEST_GUILESS_MAIN(TestJsonCodec)
#include "tst_jsoncodec.moc"
