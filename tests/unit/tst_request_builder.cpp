// The composer's form -> a downstream request or its problems, without widgets.
#include "protocol/RequestBuilder.h"

#include <QTest>

using namespace ccs;

Q_DECLARE_METATYPE(ccs::FormField)

namespace {

RequestForm validForm()
{
    RequestForm f;
    f.to = QStringLiteral("dev-1");
    f.messageId = QStringLiteral("m-1");
    f.dataText = QStringLiteral("{\"title\": \"hi\"}");
    f.deliveryReceipt = true;
    return f;
}

} // namespace

class TestRequestBuilder : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void validFormBuildsTheRequest();
    void problems_data();
    void problems();
    void syntaxErrorPosition_data();
    void syntaxErrorPosition();
    void utf8OffsetToPosition_data();
    void utf8OffsetToPosition();
    void formFieldOfPath_data();
    void formFieldOfPath();
};

void TestRequestBuilder::validFormBuildsTheRequest()
{
    RequestForm f = validForm();
    f.to = QStringLiteral("  dev-1 "); // trimmed
    f.notificationEnabled = true;
    f.notificationText = QStringLiteral("{\"title\": \"T\"}");
    f.collapseKey = QStringLiteral("news");
    f.timeToLiveSeconds = 3600;
    f.priority = QStringLiteral("high");
    f.delayWhileIdle = true;
    f.dryRun = true;
    const RequestBuild b = buildRequest(f);
    QVERIFY(b.ok());
    QVERIFY(b.errors.isEmpty());
    const DownstreamMessage &m = *b.message;
    QCOMPARE(m.to, QStringLiteral("dev-1"));
    QCOMPARE(m.messageId, QStringLiteral("m-1"));
    QVERIFY(m.data && m.notification);
    QCOMPARE(m.data->value(QStringLiteral("title")).toString(), QStringLiteral("hi"));
    QCOMPARE(m.notification->value(QStringLiteral("title")).toString(), QStringLiteral("T"));
    QCOMPARE(m.collapseKey, QStringLiteral("news"));
    QCOMPARE(m.timeToLive, std::optional<qint64>(3600));
    QCOMPARE(m.priority, QStringLiteral("high"));
    QCOMPARE(m.delayWhileIdle, std::optional<bool>(true));
    QCOMPARE(m.deliveryReceiptRequested, std::optional<bool>(true));
    QCOMPARE(m.dryRun, std::optional<bool>(true));
    QCOMPARE(b.dataBytes, std::optional<int>(7)); // "title" + "hi"

    // A disabled notification is left out whatever its text; empty data is no data.
    f.notificationEnabled = false;
    f.notificationText = QStringLiteral("{ not json");
    f.dataText = QStringLiteral("  ");
    const RequestBuild plain = buildRequest(f);
    QVERIFY(plain.ok());
    QVERIFY(!plain.message->notification);
    QVERIFY(!plain.message->data);
    QCOMPARE(plain.dataBytes, std::optional<int>(0));
}

void TestRequestBuilder::problems_data()
{
    QTest::addColumn<QString>("field"); // which form field to set
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("path"); // the problem's JSON path
    QTest::addColumn<FormField>("formField");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("says"); // part of the message

    QTest::newRow("no recipient") << "to" << "" << "to" << FormField::Recipient << "" << "to";
    QTest::newRow("no id") << "messageId" << "  " << "message_id" << FormField::MessageId << "" << "message_id";
    QTest::newRow("data syntax") << "data" << "{\"a\": " << "data" << FormField::Data << ""
                                 << "data is not valid JSON";
    QTest::newRow("data not an object") << "data" << "[1, 2]" << "data" << FormField::Data << ""
                                        << "data is not valid JSON";
    QTest::newRow("reserved data key") << "data" << "{\"ok\": \"1\", \"from\": \"me\"}" << "data.from"
                                       << FormField::Data << "from" << "from";
    QTest::newRow("notification syntax") << "notification" << "{\"title\": }" << "notification"
                                         << FormField::Notification << "" << "notification is not valid JSON";
    QTest::newRow("ttl too long") << "ttl" << "2419201" << "time_to_live" << FormField::Options << ""
                                  << "time_to_live";
    QTest::newRow("bad priority") << "priority" << "urgent" << "priority" << FormField::Options << ""
                                  << "priority";
}

void TestRequestBuilder::problems()
{
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(QString, path);
    QFETCH(FormField, formField);
    QFETCH(QString, key);
    QFETCH(QString, says);
    RequestForm f = validForm();
    if (field == QLatin1String("to"))
        f.to = value;
    else if (field == QLatin1String("messageId"))
        f.messageId = value;
    else if (field == QLatin1String("data"))
        f.dataText = value;
    else if (field == QLatin1String("notification")) {
        f.notificationEnabled = true;
        f.notificationText = value;
    } else if (field == QLatin1String("ttl"))
        f.timeToLiveSeconds = value.toLongLong();
    else if (field == QLatin1String("priority"))
        f.priority = value;
    else
        QFAIL("unknown field");

    const RequestBuild b = buildRequest(f);
    QVERIFY(!b.ok());
    QVERIFY(!b.message);
    QCOMPARE(b.errors.size(), 1);
    const FieldError &e = b.errors.first();
    QCOMPARE(e.field, path);
    QCOMPARE(e.formField, formField);
    QCOMPARE(e.key, key);
    QVERIFY2(e.message.contains(says), qPrintable(e.message));
}

void TestRequestBuilder::syntaxErrorPosition_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("index"); // where the parser stopped, in the text
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");

    QTest::newRow("one line") << "{\"a\": }" << 6 << 1 << 7;
    QTest::newRow("third line") << "{\n  \"a\": \"1\",\n  \"b\" 2\n}" << 20 << 3 << 7;
    // Columns count characters: "é" and "€" are 2 and 3 bytes in UTF-8.
    QTest::newRow("after non-ASCII") << "{\"é€\": \"x\" \"y\"}" << 11 << 1 << 12;
    QTest::newRow("unterminated") << "{\"title\": \"unterminated" << 23 << 1 << 24;
}

void TestRequestBuilder::syntaxErrorPosition()
{
    QFETCH(QString, text);
    QFETCH(int, index);
    QFETCH(int, line);
    QFETCH(int, column);
    RequestForm f = validForm();
    f.dataText = text;
    const RequestBuild b = buildRequest(f);
    QCOMPARE(b.errors.size(), 1);
    const FieldError &e = b.errors.first();
    QCOMPARE(e.field, QStringLiteral("data"));
    QVERIFY(!b.dataBytes); // the meter keeps its last figure while data does not parse
    QCOMPARE(e.position.index, index);
    QCOMPARE(e.position.line, line);
    QCOMPARE(e.position.column, column);
    // The same place the codec names in its message.
    QVERIFY2(e.message.contains(QStringLiteral("%1:%2").arg(line).arg(column)), qPrintable(e.message));
}

void TestRequestBuilder::utf8OffsetToPosition_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("offset");
    QTest::addColumn<int>("index");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");

    QTest::newRow("start") << "abc" << 0 << 0 << 1 << 1;
    QTest::newRow("unknown") << "abc" << -1 << -1 << 0 << 0;
    QTest::newRow("second line") << "ab\ncd" << 4 << 4 << 2 << 2;
    QTest::newRow("line start") << "ab\ncd" << 3 << 3 << 2 << 1;
    QTest::newRow("multibyte") << "é\n€x" << 6 << 3 << 2 << 2;
    QTest::newRow("past the end") << "ab" << 99 << 2 << 1 << 3;
    // Outside the BMP: two UTF-16 units for the editor, one character for the column.
    QTest::newRow("emoji") << "\U0001F600x" << 4 << 2 << 1 << 2;
}

void TestRequestBuilder::utf8OffsetToPosition()
{
    QFETCH(QString, text);
    QFETCH(int, offset);
    QFETCH(int, index);
    QFETCH(int, line);
    QFETCH(int, column);
    const TextPosition p = textPositionOfUtf8Offset(text, offset);
    QCOMPARE(p.index, index);
    QCOMPARE(p.line, line);
    QCOMPARE(p.column, column);
}

void TestRequestBuilder::formFieldOfPath_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<FormField>("formField");
    QTest::newRow("to") << "to" << FormField::Recipient;
    QTest::newRow("registration_ids") << "registration_ids.3" << FormField::Recipient;
    QTest::newRow("message_id") << "message_id" << FormField::MessageId;
    QTest::newRow("data key") << "data.google.x" << FormField::Data;
    QTest::newRow("notification key") << "notification.title" << FormField::Notification;
    QTest::newRow("ttl") << "time_to_live" << FormField::Options;
    QTest::newRow("other") << "template" << FormField::Options;
}

void TestRequestBuilder::formFieldOfPath()
{
    QFETCH(QString, path);
    QFETCH(FormField, formField);
    QCOMPARE(formFieldForPath(path), formField);
}

QTEST_GUILESS_MAIN(TestRequestBuilder)
#include "tst_request_builder.moc"
