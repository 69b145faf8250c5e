// The downstream validation rules of ccs-protocol-facts.md: one passing and at
// least one failing row per rule, with the field, the rule, the NACK code or
// stanza error and the description CCS would give.
#include "protocol/JsonCodec.h"
#include "protocol/Validation.h"

#include <QTest>

using namespace ccs;

namespace {

// A valid request with `fields` merged over it (JSON text of an object).
QJsonObject request(const QByteArray &fields)
{
    QJsonObject base {{QStringLiteral("to"), QStringLiteral("TOKEN")},
        {QStringLiteral("message_id"), QStringLiteral("m-1")}};
    QJsonObject extra;
    ParseError error;
    if (!json::parseObject(fields, &extra, &error))
        qFatal("bad test row: %s", qPrintable(error.message));
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        if (it.value().isString() && it.value().toString() == QLatin1String("<remove>"))
            base.remove(it.key());
        else
            base.insert(it.key(), it.value());
    }
    return base;
}

QByteArray dataOfBytes(int bytes)
{
    // One key "k" (1 byte) and a value of bytes-1 bytes.
    return "{\"data\":{\"k\":\"" + QByteArray(bytes - 1, 'x') + "\"}}";
}

} // namespace

class TestValidation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rules_data();
    void rules();
    void stanzaErrorsComeFirst();
    void registrationIdsBeforeMissingTo();
    void allFailuresAtOnce();
    void dataPayloadBytesCountsKeysAndValuesInUtf8_data();
    void dataPayloadBytesCountsKeysAndValuesInUtf8();
    void userMessageNamesFieldAndAnswer();
    void ruleNamesAreDistinct();
};

void TestValidation::rules_data()
{
    QTest::addColumn<QByteArray>("fields");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<ValidationRule>("rule");
    QTest::addColumn<QString>("field");
    QTest::addColumn<bool>("stanzaError");
    QTest::addColumn<NackCode>("code");
    QTest::addColumn<QString>("description");

    auto ok = [](const char *name, const QByteArray &fields) {
        QTest::newRow(name) << fields << true << ValidationRule::MissingTo << QString() << false
                            << NackCode::InvalidJson << QString();
    };
    auto nack = [](const char *name, const QByteArray &fields, ValidationRule rule, const QString &field,
                    const QString &description, NackCode code = NackCode::InvalidJson) {
        QTest::newRow(name) << fields << false << rule << field << false << code << description;
    };
    auto stanza = [](const char *name, const QByteArray &fields, ValidationRule rule, const QString &field,
                      const QString &description) {
        QTest::newRow(name) << fields << false << rule << field << true << NackCode::InvalidJson
                            << description;
    };

    ok("minimal", "{}");
    ok("every field",
        R"({"data":{"a":"b"},"notification":{"title":"t","body":"b"},"collapse_key":"c","time_to_live":600,
           "delay_while_idle":true,"delivery_receipt_requested":false,"priority":"high","content_available":true,
           "mutable_content":false,"dry_run":true})");
    ok("unknown fields are ignored", R"({"random":"text","future_field":{"x":[1]}})");

    // to
    ok("to: token", R"({"to":"APA91bHFOtaQGSwupt5l1og"})");
    ok("to: notification key", R"({"to":"aUniqueKey"})");
    nack("to: absent", R"({"to":"<remove>"})", ValidationRule::MissingTo, "to",
        "InvalidJson: JSON_PARSING_ERROR : Missing Required Field: to");
    nack("to: empty", R"({"to":""})", ValidationRule::MissingTo, "to",
        "InvalidJson: JSON_PARSING_ERROR : Missing Required Field: to");
    nack("to: null", R"({"to":null})", ValidationRule::MissingTo, "to",
        "InvalidJson: JSON_PARSING_ERROR : Missing Required Field: to");
    nack("to: number", R"({"to":12345})", ValidationRule::ToNotString, "to",
        "InvalidJson: JSON_TYPE_ERROR : Field \"to\" must be a JSON java.lang.String: 12345");
    nack("to: array", R"({"to":["a","b"]})", ValidationRule::ToNotString, "to",
        "InvalidJson: JSON_TYPE_ERROR : Field \"to\" must be a JSON java.lang.String: [\"a\",\"b\"]");
    ok("to: topic", R"({"to":"/topics/news-1_a.b~c%20"})");
    nack("to: topic with space", R"({"to":"/topics/bad name"})", ValidationRule::TopicNameInvalid, "to",
        "Invalid token on 'to' field: /topics/bad name (a topic name is one or more of a-z A-Z 0-9 - _ . ~ "
        "%)",
        NackCode::BadRegistration);
    nack("to: empty topic", R"({"to":"/topics/"})", ValidationRule::TopicNameInvalid, "to",
        "Invalid token on 'to' field: /topics/ (a topic name is one or more of a-z A-Z 0-9 - _ . ~ %)",
        NackCode::BadRegistration);
    nack("to: topic with slash", R"({"to":"/topics/a/b"})", ValidationRule::TopicNameInvalid, "to",
        "Invalid token on 'to' field: /topics/a/b (a topic name is one or more of a-z A-Z 0-9 - _ . ~ %)",
        NackCode::BadRegistration);

    // message_id: a stanza error, since a NACK needs an id.
    ok("message_id: any string", R"({"message_id":"any id at all"})");
    stanza("message_id: absent", R"({"message_id":"<remove>"})", ValidationRule::MissingMessageId,
        "message_id", "InvalidJson: JSON_PARSING_ERROR : Missing Required Field: message_id");
    stanza("message_id: empty", R"({"message_id":""})", ValidationRule::MissingMessageId, "message_id",
        "InvalidJson: JSON_PARSING_ERROR : Missing Required Field: message_id");
    stanza("message_id: number", R"({"message_id":42})", ValidationRule::MessageIdNotString, "message_id",
        "InvalidJson: JSON_TYPE_ERROR : Field \"message_id\" must be a JSON java.lang.String: 42");

    // registration_ids: XMPP has no multicast
    nack("registration_ids", R"({"registration_ids":["a","b"]})", ValidationRule::RegistrationIdsNotAllowed,
        "registration_ids",
        "InvalidJson: JSON_PARSING_ERROR : Field \"registration_ids\" is not supported over XMPP (no "
        "multicast): "
        "send one message per token in \"to\"");

    // data
    ok("data: empty object", R"({"data":{}})");
    nack("data: string", R"({"data":"hello"})", ValidationRule::DataNotObject, "data",
        "InvalidJson: JSON_TYPE_ERROR : Field \"data\" must be a JSON object: hello");
    nack("data: array", R"({"data":[1]})", ValidationRule::DataNotObject, "data",
        "InvalidJson: JSON_TYPE_ERROR : Field \"data\" must be a JSON object: [1]");
    ok("data: exactly 4096 bytes", dataOfBytes(4096));
    nack("data: 4097 bytes", dataOfBytes(4097), ValidationRule::DataTooLarge, "data",
        "InvalidJson: MESSAGE_TOO_BIG : Message too big: data is 4097 bytes, at most 4096 are allowed");
    // 1366 three-byte characters plus the key: 1 + 4098 bytes, though only 1367 characters.
    nack("data: multi-byte over 4096", "{\"data\":{\"k\":\"" + QString(1366, QChar(0x20AC)).toUtf8() + "\"}}",
        ValidationRule::DataTooLarge, "data",
        "InvalidJson: MESSAGE_TOO_BIG : Message too big: data is 4099 bytes, at most 4096 are allowed");
    ok("data: key like from", R"({"data":{"fromage":"x","my_google":"x","xgcm":"x","Google":"x"}})");
    nack("data: from", R"({"data":{"from":"x"}})", ValidationRule::DataReservedKey, "data.from",
        "InvalidJson: INVALID_DATA_KEY : Data key \"from\" is reserved (\"from\" and keys starting with "
        "\"google\" or \"gcm\")");
    nack("data: google.", R"({"data":{"google.sent_time":"1"}})", ValidationRule::DataReservedKey,
        "data.google.sent_time",
        "InvalidJson: INVALID_DATA_KEY : Data key \"google.sent_time\" is reserved (\"from\" and keys "
        "starting "
        "with \"google\" or \"gcm\")");
    nack("data: gcm", R"({"data":{"gcm_x":"1"}})", ValidationRule::DataReservedKey, "data.gcm_x",
        "InvalidJson: INVALID_DATA_KEY : Data key \"gcm_x\" is reserved (\"from\" and keys starting with "
        "\"google\" or \"gcm\")");
    ok("data: number and boolean values", R"({"data":{"pong":1,"on":true,"pi":3.5}})");
    nack("data: null value", R"({"data":{"k":null}})", ValidationRule::DataValueNotString, "data.k",
        "InvalidJson: JSON_TYPE_ERROR : Field \"data.k\" must be a JSON java.lang.String: null");
    nack("data: object value", R"({"data":{"k":{"a":"b"}}})", ValidationRule::DataValueNotString, "data.k",
        "InvalidJson: JSON_TYPE_ERROR : Field \"data.k\" must be a JSON java.lang.String: {\"a\":\"b\"}");
    nack("data: array value", R"({"data":{"k":["a"]}})", ValidationRule::DataValueNotString, "data.k",
        "InvalidJson: JSON_TYPE_ERROR : Field \"data.k\" must be a JSON java.lang.String: [\"a\"]");

    // notification
    ok("notification: object", R"({"notification":{"title":"Hi"}})");
    nack("notification: string", R"({"notification":"Hi"})", ValidationRule::NotificationNotObject,
        "notification", "InvalidJson: JSON_TYPE_ERROR : Field \"notification\" must be a JSON object: Hi");

    // collapse_key
    ok("collapse_key: string", R"({"collapse_key":"updates"})");
    nack("collapse_key: number", R"({"collapse_key":7})", ValidationRule::CollapseKeyNotString,
        "collapse_key",
        "InvalidJson: JSON_TYPE_ERROR : Field \"collapse_key\" must be a JSON java.lang.String: 7");

    // time_to_live
    ok("time_to_live: 0", R"({"time_to_live":0})");
    ok("time_to_live: 4 weeks", R"({"time_to_live":2419200})");
    ok("time_to_live: 600.0", R"({"time_to_live":600.0})");
    nack("time_to_live: abc", R"({"time_to_live":"abc"})", ValidationRule::TimeToLiveNotNumber,
        "time_to_live",
        "InvalidJson: JSON_TYPE_ERROR : Field \"time_to_live\" must be a JSON java.lang.Number: abc");
    nack("time_to_live: \"600\"", R"({"time_to_live":"600"})", ValidationRule::TimeToLiveNotNumber,
        "time_to_live",
        "InvalidJson: JSON_TYPE_ERROR : Field \"time_to_live\" must be a JSON java.lang.Number: 600");
    nack("time_to_live: true", R"({"time_to_live":true})", ValidationRule::TimeToLiveNotNumber,
        "time_to_live",
        "InvalidJson: JSON_TYPE_ERROR : Field \"time_to_live\" must be a JSON java.lang.Number: true");
    nack("time_to_live: -1", R"({"time_to_live":-1})", ValidationRule::TimeToLiveOutOfRange, "time_to_live",
        "InvalidJson: INVALID_TTL : Field \"time_to_live\" must be a whole number of seconds from 0 to "
        "2419200: -1");
    nack("time_to_live: 4 weeks + 1", R"({"time_to_live":2419201})", ValidationRule::TimeToLiveOutOfRange,
        "time_to_live",
        "InvalidJson: INVALID_TTL : Field \"time_to_live\" must be a whole number of seconds from 0 to "
        "2419200: "
        "2419201");
    nack("time_to_live: fraction", R"({"time_to_live":1.5})", ValidationRule::TimeToLiveOutOfRange,
        "time_to_live",
        "InvalidJson: INVALID_TTL : Field \"time_to_live\" must be a whole number of seconds from 0 to "
        "2419200: 1.5");
    nack("time_to_live: huge", R"({"time_to_live":1e300})", ValidationRule::TimeToLiveOutOfRange,
        "time_to_live",
        "InvalidJson: INVALID_TTL : Field \"time_to_live\" must be a whole number of seconds from 0 to "
        "2419200: "
        "1e+300");

    // the booleans
    for (const char *key : {"delay_while_idle", "delivery_receipt_requested", "content_available",
             "mutable_content", "dry_run"}) {
        const QByteArray k(key);
        ok(QByteArray(k + ": true").constData(), "{\"" + k + "\":true}");
        ok(QByteArray(k + ": false").constData(), "{\"" + k + "\":false}");
        nack(QByteArray(k + ": \"true\"").constData(), "{\"" + k + "\":\"true\"}",
            ValidationRule::BooleanFieldNotBoolean, QString::fromLatin1(key),
            QStringLiteral(
                "InvalidJson: JSON_TYPE_ERROR : Field \"%1\" must be a JSON java.lang.Boolean: true")
                .arg(QLatin1String(key)));
        nack(QByteArray(k + ": 1").constData(), "{\"" + k + "\":1}", ValidationRule::BooleanFieldNotBoolean,
            QString::fromLatin1(key),
            QStringLiteral("InvalidJson: JSON_TYPE_ERROR : Field \"%1\" must be a JSON java.lang.Boolean: 1")
                .arg(QLatin1String(key)));
    }

    // priority
    ok("priority: normal", R"({"priority":"normal"})");
    ok("priority: high", R"({"priority":"high"})");
    nack("priority: urgent", R"({"priority":"urgent"})", ValidationRule::PriorityInvalid, "priority",
        "InvalidJson: JSON_PARSING_ERROR : Field \"priority\" must be \"normal\" or \"high\": urgent");
    nack("priority: HIGH", R"({"priority":"HIGH"})", ValidationRule::PriorityInvalid, "priority",
        "InvalidJson: JSON_PARSING_ERROR : Field \"priority\" must be \"normal\" or \"high\": HIGH");
    nack("priority: 10", R"({"priority":10})", ValidationRule::PriorityInvalid, "priority",
        "InvalidJson: JSON_PARSING_ERROR : Field \"priority\" must be \"normal\" or \"high\": 10");
}

void TestValidation::rules()
{
    QFETCH(QByteArray, fields);
    QFETCH(bool, valid);
    QFETCH(ValidationRule, rule);
    QFETCH(QString, field);
    QFETCH(bool, stanzaError);
    QFETCH(NackCode, code);
    QFETCH(QString, description);

    const QJsonObject object = request(fields);
    const auto failure = validateDownstream(object);
    const QList<ValidationFailure> all = validateDownstreamAll(object);
    if (valid) {
        QVERIFY2(!failure, failure ? qPrintable(failure->description) : "");
        QVERIFY(all.isEmpty());
        return;
    }
    QVERIFY(failure);
    QCOMPARE(ruleName(failure->rule), ruleName(rule));
    QCOMPARE(failure->field, field);
    QCOMPARE(failure->stanzaError, stanzaError);
    if (!stanzaError)
        QCOMPARE(NackCatalogue::name(failure->nackCode), NackCatalogue::name(code));
    QCOMPARE(failure->description, description);
    // Every row breaks exactly one rule, so the full list agrees.
    QCOMPARE(all.size(), 1);
    QCOMPARE(all.first().rule, rule);
    // The message the composer shows names the field.
    QVERIFY(failure->userMessage().startsWith(field + QLatin1String(": ")));
}

void TestValidation::stanzaErrorsComeFirst()
{
    // Nothing but bad fields and no message_id: CCS cannot NACK without an id.
    const QJsonObject object = request(R"({"message_id":"<remove>","to":"<remove>","time_to_live":"x"})");
    const auto failure = validateDownstream(object);
    QVERIFY(failure);
    QCOMPARE(failure->rule, ValidationRule::MissingMessageId);
    QVERIFY(failure->stanzaError);
}

void TestValidation::registrationIdsBeforeMissingTo()
{
    // Someone porting an HTTP request: the clearer message is about registration_ids.
    const QJsonObject object = request(R"({"to":"<remove>","registration_ids":["a"]})");
    QCOMPARE(validateDownstream(object)->rule, ValidationRule::RegistrationIdsNotAllowed);
    const QList<ValidationFailure> all = validateDownstreamAll(object);
    QCOMPARE(all.size(), 2);
    QCOMPARE(all.at(1).rule, ValidationRule::MissingTo);
}

void TestValidation::allFailuresAtOnce()
{
    const QJsonObject object = request(
        R"({"to":7,"data":{"from":"x"},"notification":[],"collapse_key":1,"time_to_live":"1","dry_run":0,
            "priority":"low"})");
    const QList<ValidationFailure> all = validateDownstreamAll(object);
    QStringList fields;
    for (const ValidationFailure &f : all)
        fields << f.field;
    QCOMPARE(fields,
        QStringList(
            {"to", "data.from", "notification", "collapse_key", "time_to_live", "dry_run", "priority"}));
    QCOMPARE(validateDownstream(object)->field, QStringLiteral("to"));
}

void TestValidation::dataPayloadBytesCountsKeysAndValuesInUtf8_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("bytes");
    QTest::newRow("empty") << QByteArray("{}") << 0;
    QTest::newRow("ascii") << QByteArray(R"({"hello":"world"})") << 10;
    QTest::newRow("two pairs") << QByteArray(R"({"a":"bc","de":""})") << 5;
    QTest::newRow("utf-8") << QByteArray("{\"\xC3\xA9\":\"\xE2\x82\xAC\xF0\x9F\x98\x80\"}") << 2 + 3 + 4;
    QTest::newRow("number as its text") << QByteArray(R"({"pong":1})") << 5;
    QTest::newRow("boolean as its text") << QByteArray(R"({"on":false})") << 7;
}

void TestValidation::dataPayloadBytesCountsKeysAndValuesInUtf8()
{
    QFETCH(QByteArray, data);
    QFETCH(int, bytes);
    QJsonObject object;
    QVERIFY(json::parseObject(data, &object, nullptr));
    QCOMPARE(dataPayloadBytes(object), bytes);
}

void TestValidation::userMessageNamesFieldAndAnswer()
{
    auto failure = validateDownstream(request(R"({"time_to_live":"abc"})"));
    QVERIFY(failure);
    QCOMPARE(failure->userMessage(),
        QStringLiteral("time_to_live: time to live must be a JSON number of seconds, "
                       "not text. CCS would answer with NACK INVALID_JSON."));
    failure = validateDownstream(request(R"({"message_id":"<remove>"})"));
    QVERIFY(failure);
    QCOMPARE(failure->userMessage(),
        QStringLiteral("message_id: a message id is required. CCS would answer with a stanza error."));
}

void TestValidation::ruleNamesAreDistinct()
{
    QSet<QString> names;
    for (int r = int(ValidationRule::MissingTo); r <= int(ValidationRule::TopicNameInvalid); ++r) {
        const QString name = ruleName(ValidationRule(r));
        QVERIFY(!name.isEmpty());
        QVERIFY(name != QLatin1String("Unknown"));
        names.insert(name);
    }
    QCOMPARE(names.size(), int(ValidationRule::TopicNameInvalid) + 1);
}

QTEST_GUILESS_MAIN(TestValidation)
#include "tst_validation.moc"
