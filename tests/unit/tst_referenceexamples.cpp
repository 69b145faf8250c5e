// Every JSON example of gcm-ccs-xmpp.txt, as printed there (with its comments,
// missing commas, trailing commas and curly quotes) and corrected to valid JSON.
// The examples are copied here so that the test does not need the reference.
#include "protocol/JsonCodec.h"
#include "protocol/Validation.h"

#include <QTest>

using namespace ccs;

namespace {

// "Request format": the downstream request.
const QByteArray kRequestLiteral = R"json(
  {
      "to":"REGISTRATION_ID",  // "to" replaces "registration_ids"
      "message_id":"m-1366082849205" // new required field
      "data":
      {
          "hello":"world",
      }
      "time_to_live":"600",
      "delay_while_idle": true/false,
      "delivery_receipt_requested": true/false
  }
)json";
const QByteArray kRequestCorrected = R"json(
  {
      "to":"REGISTRATION_ID",
      "message_id":"m-1366082849205",
      "data":
      {
          "hello":"world"
      },
      "time_to_live":600,
      "delay_while_idle": true,
      "delivery_receipt_requested": false
  }
)json";

// "ACK message".
const QByteArray kAckLiteral = R"json(
  {
      "from":"REGID",
      "message_id":"m-1366082849205"
      "message_type":"ack"
  }
)json";
const QByteArray kAckCorrected = R"json(
  {
      "from":"REGID",
      "message_id":"m-1366082849205",
      "message_type":"ack"
  }
)json";

// The three NACK examples are valid JSON as printed.
const QByteArray kNackBadRegistration = R"json(
  {
    "message_type":"nack",
    "message_id":"msgId1",
    "from":"SomeInvalidRegistrationId",
    "error":"BAD_REGISTRATION",
    "error_description":"Invalid token on 'to' field: SomeInvalidRegistrationId"
  }
)json";
const QByteArray kNackInvalidJson = R"json(
 {
   "message_type":"nack",
   "message_id":"msgId1",
   "from":"APA91bHFOtaQGSwupt5l1og",
   "error":"INVALID_JSON",
   "error_description":"InvalidJson: JSON_TYPE_ERROR : Field \"time_to_live\" must be a JSON java.lang.Number: abc"
 }
)json";
const QByteArray kNackRateExceeded = R"json(
  {
    "message_type":"nack",
    "message_id":"msgId1",
    "from":"REGID",
    "error":"DEVICE_MESSAGE_RATE_EXCEEDED",
    "error_description":"Downstream message rate exceeded for this registration id"
  }
)json";

// "Stanza error": the request CCS echoes back.
const QByteArray kStanzaErrorPayload = R"json(
     {"random": "text"}
)json";

// "Control messages".
const QByteArray kControlLiteral = R"json(
  {
    "message_type":"control"
    "control_type":"CONNECTION_DRAINING"
  }
)json";
const QByteArray kControlCorrected = R"json(
  {
    "message_type":"control",
    "control_type":"CONNECTION_DRAINING"
  }
)json";

// "Receive delivery receipts": the request.
const QByteArray kReceiptRequestLiteral = R"json(
  {
      "to":"REGISTRATION_ID",
      "message_id":"m-1366082849205"
      "data":
      {
          "hello":"world",
      }
      "time_to_live":"600",
      "delay_while_idle": true,
      "delivery_receipt_requested": true
  }
)json";
const QByteArray kReceiptRequestCorrected = R"json(
  {
      "to":"REGISTRATION_ID",
      "message_id":"m-1366082849205",
      "data":
      {
          "hello":"world"
      },
      "time_to_live":600,
      "delay_while_idle": true,
      "delivery_receipt_requested": true
  }
)json";

// The receipt itself, with its curly quotes.
const QByteArray kReceiptLiteral = R"json(
  {
      "category":"com.example.yourapp", // to know which app sent it
      "data":
      {
         “message_status":"MESSAGE_SENT_TO_DEVICE",
         “original_message_id”:”m-1366082849205”
         “device_registration_id”: “REGISTRATION_ID”
      },
      "message_id":"dr2:m-1366082849205",
      "message_type":"receipt",
      "from":"gcm.googleapis.com"
  }
)json";
const QByteArray kReceiptCorrected = R"json(
  {
      "category":"com.example.yourapp",
      "data":
      {
         "message_status":"MESSAGE_SENT_TO_DEVICE",
         "original_message_id":"m-1366082849205",
         "device_registration_id": "REGISTRATION_ID"
      },
      "message_id":"dr2:m-1366082849205",
      "message_type":"receipt",
      "from":"gcm.googleapis.com"
  }
)json";

// "Upstream Messages".
const QByteArray kUpstreamLiteral = R"json(
  {
      "category":"com.example.yourapp", // to know which app sent it
      "data":
      {
          "hello":"world",
      },
      "message_id":"m-123",
      "from":"REGID"
  }
)json";
const QByteArray kUpstreamCorrected = R"json(
  {
      "category":"com.example.yourapp",
      "data":
      {
          "hello":"world"
      },
      "message_id":"m-123",
      "from":"REGID"
  }
)json";

// The ACK the app server sends for it.
const QByteArray kUpstreamAckLiteral = R"json(
  {
      "to":"REGID",
      "message_id":"m-123"
      "message_type":"ack"
  }
)json";
const QByteArray kUpstreamAckCorrected = R"json(
  {
      "to":"REGID",
      "message_id":"m-123",
      "message_type":"ack"
  }
)json";

// What the Java sample's createJsonMessage()/createJsonAck() and the Python
// sample's send() put on the wire (json-simple and json.dumps output).
const QByteArray kJavaMessage
    = R"json({"to":"RegistrationIdOfTheTargetDevice","collapse_key":"sample","time_to_live":10000,"delay_while_idle":true,"message_id":"m-1","data":{"Hello":"World","CCS":"Dummy Message","EmbeddedMessageId":"m-1"}})json";
const QByteArray kJavaAck = R"json({"message_type":"ack","to":"REGID","message_id":"m-123"})json";
const QByteArray kPythonAck = R"json({"to": "REGID", "message_type": "ack", "message_id": "m-123"})json";
const QByteArray kPythonEcho = R"json({"to": "REGID", "message_id": "a1B2c3D4", "data": {"pong": 1}})json";
const QByteArray kPythonFirst
    = R"json({"to": "Registration Id of the target device", "message_id": "reg_id", "data": {"message_destination": "RegId", "message_id": "x7Y8z9W0"}})json";

} // namespace

class TestReferenceExamples : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void literalFormsGiveAClearError_data();
    void literalFormsGiveAClearError();
    void correctedFormsParse_data();
    void correctedFormsParse();
    void request();
    void requestAsPrintedHasAStringTtl();
    void ack();
    void nacks_data();
    void nacks();
    void stanzaErrorPayload();
    void control();
    void receiptRequest();
    void receipt();
    void upstream();
    void upstreamAck_data();
    void upstreamAck();
    void javaAndPythonSamples_data();
    void javaAndPythonSamples();
};

void TestReferenceExamples::literalFormsGiveAClearError_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected"); // fragment of the message
    QTest::addColumn<QByteArray>("marker"); // the error points at its first occurrence

    QTest::newRow("request") << kRequestLiteral << "comments are not allowed" << QByteArray("// \"to\"");
    // Each problem on its own, with the earlier ones repaired, so every kind of damage is seen.
    QByteArray r = kRequestLiteral;
    r.replace("  // \"to\" replaces \"registration_ids\"", "");
    QTest::newRow("request, 2nd comment") << r << "comments are not allowed" << QByteArray("// new");
    r.replace(" // new required field", "");
    QTest::newRow("request, missing comma") << r << "expected ',' or '}'" << QByteArray("\"data\"");
    r.replace("\"m-1366082849205\"", "\"m-1366082849205\",");
    QTest::newRow("request, trailing comma")
        << r << "trailing commas are not allowed" << QByteArray("}\n      \"time");
    r.replace("\"world\",", "\"world\"");
    QTest::newRow("request, missing comma after data")
        << r << "expected ',' or '}'" << QByteArray("\"time_to_live\"");
    r.replace("}\n      \"time", "},\n      \"time");
    QTest::newRow("request, true/false") << r << "expected ',' or '}'" << QByteArray("/false");

    QTest::newRow("ack") << kAckLiteral << "expected ',' or '}'" << QByteArray("\"message_type\"");
    QTest::newRow("control") << kControlLiteral << "expected ',' or '}'" << QByteArray("\"control_type\"");
    QTest::newRow("receipt request") << kReceiptRequestLiteral << "expected ',' or '}'"
                                     << QByteArray("\"data\"");

    QTest::newRow("receipt") << kReceiptLiteral << "comments are not allowed" << QByteArray("// to know");
    QByteArray receipt = kReceiptLiteral;
    receipt.replace(" // to know which app sent it", "");
    QTest::newRow("receipt, curly quote")
        << receipt << "a curly quote (JSON needs straight quotes \")" << QByteArray("“message_status");

    QTest::newRow("upstream") << kUpstreamLiteral << "comments are not allowed" << QByteArray("// to know");
    QByteArray upstream = kUpstreamLiteral;
    upstream.replace(" // to know which app sent it", "");
    QTest::newRow("upstream, trailing comma")
        << upstream << "trailing commas are not allowed" << QByteArray("},\n      \"message_id");
    QTest::newRow("upstream ack") << kUpstreamAckLiteral << "expected ',' or '}'"
                                  << QByteArray("\"message_type\"");
    // The same text with the stanza's XML around it is not JSON either.
    QTest::newRow("stanza instead of json")
        << QByteArray("<message><gcm xmlns=\"google:mobile:data\">{}</gcm>")
        << "expected a JSON object '{' but found '<'" << QByteArray("<");
}

void TestReferenceExamples::literalFormsGiveAClearError()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    QFETCH(QByteArray, marker);

    ParseError error;
    QJsonObject object;
    QVERIFY(!json::parseObject(text, &object, &error));
    QVERIFY2(error.message.contains(expected), qPrintable(error.message));
    QVERIFY(text.indexOf(marker) >= 0);
    QCOMPARE(error.offset, text.indexOf(marker));

    // The line:column in the message is where the marker stands.
    const QByteArray before = text.left(error.offset);
    const int line = int(before.count('\n')) + 1;
    const int column = int(QString::fromUtf8(before.mid(before.lastIndexOf('\n') + 1)).size()) + 1;
    QVERIFY2(error.message.startsWith(QStringLiteral("JSON error at line %1:%2: ").arg(line).arg(column)),
        qPrintable(error.message));

    const ServerMessage server = json::parseServerMessage(text);
    QVERIFY(std::holds_alternative<ParseError>(server));
    const ClientMessage client = json::parseClientMessage(text);
    QVERIFY(std::holds_alternative<ParseError>(client));
}

void TestReferenceExamples::correctedFormsParse_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("request") << kRequestCorrected;
    QTest::newRow("ack") << kAckCorrected;
    QTest::newRow("nack bad registration") << kNackBadRegistration;
    QTest::newRow("nack invalid json") << kNackInvalidJson;
    QTest::newRow("nack rate exceeded") << kNackRateExceeded;
    QTest::newRow("stanza error payload") << kStanzaErrorPayload;
    QTest::newRow("control") << kControlCorrected;
    QTest::newRow("receipt request") << kReceiptRequestCorrected;
    QTest::newRow("receipt") << kReceiptCorrected;
    QTest::newRow("upstream") << kUpstreamCorrected;
    QTest::newRow("upstream ack") << kUpstreamAckCorrected;
    QTest::newRow("java message") << kJavaMessage;
    QTest::newRow("java ack") << kJavaAck;
    QTest::newRow("python ack") << kPythonAck;
    QTest::newRow("python echo") << kPythonEcho;
    QTest::newRow("python first") << kPythonFirst;
}

void TestReferenceExamples::correctedFormsParse()
{
    QFETCH(QByteArray, text);
    QJsonObject object;
    ParseError error;
    QVERIFY2(json::parseObject(text, &object, &error), qPrintable(error.message));
    QVERIFY(!object.isEmpty());
    // Compact, and the same object when read back.
    const QByteArray compact = json::serialize(object);
    QVERIFY(!compact.contains('\n'));
    QJsonObject back;
    QVERIFY(json::parseObject(compact, &back, &error));
    QCOMPARE(back, object);
}

void TestReferenceExamples::request()
{
    const ClientMessage parsed = json::parseClientMessage(kRequestCorrected);
    QVERIFY(std::holds_alternative<DownstreamMessage>(parsed));
    const auto &m = std::get<DownstreamMessage>(parsed);
    QCOMPARE(m.to, QStringLiteral("REGISTRATION_ID"));
    QCOMPARE(m.messageId, QStringLiteral("m-1366082849205"));
    QCOMPARE(m.data, QJsonObject({{QStringLiteral("hello"), QStringLiteral("world")}}));
    QCOMPARE(m.timeToLive, std::optional<qint64>(600));
    QCOMPARE(m.delayWhileIdle, std::optional<bool>(true));
    QCOMPARE(m.deliveryReceiptRequested, std::optional<bool>(false));
    QVERIFY(m.extra.isEmpty());
    QJsonObject object;
    QVERIFY(json::parseObject(kRequestCorrected, &object, nullptr));
    QVERIFY(!validateDownstream(object));
    QCOMPARE(m.toJson(), object);
}

void TestReferenceExamples::requestAsPrintedHasAStringTtl()
{
    // The syntax repaired but "time_to_live":"600" kept, as the reference prints it:
    // CCS NACKs that with INVALID_JSON.
    QByteArray text = kRequestCorrected;
    text.replace("\"time_to_live\":600", "\"time_to_live\":\"600\"");
    QJsonObject object;
    QVERIFY(json::parseObject(text, &object, nullptr));
    const auto failure = validateDownstream(object);
    QVERIFY(failure);
    QCOMPARE(failure->rule, ValidationRule::TimeToLiveNotNumber);
    QCOMPARE(failure->field, QStringLiteral("time_to_live"));
    QVERIFY(!failure->stanzaError);
    QCOMPARE(failure->nackCode, NackCode::InvalidJson);
    QCOMPARE(failure->description,
        QStringLiteral(
            "InvalidJson: JSON_TYPE_ERROR : Field \"time_to_live\" must be a JSON java.lang.Number: 600"));
    // Parsing keeps the wrongly typed field rather than losing it.
    const auto m = DownstreamMessage::fromJson(object);
    QVERIFY(!m.timeToLive);
    QCOMPARE(m.extra.value(QLatin1String("time_to_live")).toString(), QStringLiteral("600"));
    QCOMPARE(m.toJson(), object);
}

void TestReferenceExamples::ack()
{
    const ServerMessage parsed = json::parseServerMessage(kAckCorrected);
    QVERIFY(std::holds_alternative<Ack>(parsed));
    const auto &a = std::get<Ack>(parsed);
    QCOMPARE(a.from, QStringLiteral("REGID"));
    QCOMPARE(a.messageId, QStringLiteral("m-1366082849205"));
    QVERIFY(a.to.isEmpty());
    QVERIFY(a.extra.isEmpty());
    QJsonObject object;
    QVERIFY(json::parseObject(kAckCorrected, &object, nullptr));
    QCOMPARE(a.toJson(), object);
}

void TestReferenceExamples::nacks_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<NackCode>("code");
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("description");
    QTest::addColumn<RetryClass>("retry");
    QTest::newRow("bad registration")
        << kNackBadRegistration << NackCode::BadRegistration << "SomeInvalidRegistrationId"
        << "Invalid token on 'to' field: SomeInvalidRegistrationId" << RetryClass::Never;
    QTest::newRow("invalid json") << kNackInvalidJson << NackCode::InvalidJson << "APA91bHFOtaQGSwupt5l1og"
                                  << "InvalidJson: JSON_TYPE_ERROR : Field \"time_to_live\" must be a JSON "
                                     "java.lang.Number: abc"
                                  << RetryClass::Never;
    QTest::newRow("rate exceeded") << kNackRateExceeded << NackCode::DeviceMessageRateExceeded << "REGID"
                                   << "Downstream message rate exceeded for this registration id"
                                   << RetryClass::Later;
}

void TestReferenceExamples::nacks()
{
    QFETCH(QByteArray, text);
    QFETCH(NackCode, code);
    QFETCH(QString, from);
    QFETCH(QString, description);
    QFETCH(RetryClass, retry);
    const ServerMessage parsed = json::parseServerMessage(text);
    QVERIFY(std::holds_alternative<Nack>(parsed));
    const auto &n = std::get<Nack>(parsed);
    QCOMPARE(n.messageId, QStringLiteral("msgId1"));
    QCOMPARE(n.from, from);
    QCOMPARE(n.code, code);
    QCOMPARE(n.errorText, NackCatalogue::name(code));
    QCOMPARE(n.errorDescription, description);
    QCOMPARE(NackCatalogue::retryClass(n.code), retry);
    QJsonObject object;
    QVERIFY(json::parseObject(text, &object, nullptr));
    QCOMPARE(n.toJson(), object);
    QCOMPARE(Nack::make(n.messageId, n.from, code, description), n);
}

void TestReferenceExamples::stanzaErrorPayload()
{
    // {"random": "text"} has no message_id: CCS answers with a stanza error, not a NACK.
    QJsonObject object;
    QVERIFY(json::parseObject(kStanzaErrorPayload, &object, nullptr));
    const auto failure = validateDownstream(object);
    QVERIFY(failure);
    QCOMPARE(failure->rule, ValidationRule::MissingMessageId);
    QVERIFY(failure->stanzaError);
    QCOMPARE(failure->field, QStringLiteral("message_id"));
    QCOMPARE(failure->description,
        QStringLiteral("InvalidJson: JSON_PARSING_ERROR : Missing Required Field: message_id"));
    // Unknown fields are kept.
    const ClientMessage parsed = json::parseClientMessage(kStanzaErrorPayload);
    QVERIFY(std::holds_alternative<DownstreamMessage>(parsed));
    QCOMPARE(std::get<DownstreamMessage>(parsed).extra, object);
}

void TestReferenceExamples::control()
{
    const ServerMessage parsed = json::parseServerMessage(kControlCorrected);
    QVERIFY(std::holds_alternative<Control>(parsed));
    const auto &c = std::get<Control>(parsed);
    QVERIFY(c.isConnectionDraining());
    QCOMPARE(c, Control::connectionDraining());
    QJsonObject object;
    QVERIFY(json::parseObject(kControlCorrected, &object, nullptr));
    QCOMPARE(c.toJson(), object);
}

void TestReferenceExamples::receiptRequest()
{
    const ClientMessage parsed = json::parseClientMessage(kReceiptRequestCorrected);
    QVERIFY(std::holds_alternative<DownstreamMessage>(parsed));
    const auto &m = std::get<DownstreamMessage>(parsed);
    QCOMPARE(m.deliveryReceiptRequested, std::optional<bool>(true));
    QCOMPARE(m.delayWhileIdle, std::optional<bool>(true));
    QJsonObject object;
    QVERIFY(json::parseObject(kReceiptRequestCorrected, &object, nullptr));
    QVERIFY(!validateDownstream(object));
}

void TestReferenceExamples::receipt()
{
    const ServerMessage parsed = json::parseServerMessage(kReceiptCorrected);
    QVERIFY(std::holds_alternative<Receipt>(parsed));
    const auto &r = std::get<Receipt>(parsed);
    QCOMPARE(r.messageId, QStringLiteral("dr2:m-1366082849205"));
    QCOMPARE(r.from, QStringLiteral("gcm.googleapis.com"));
    QCOMPARE(r.category, QStringLiteral("com.example.yourapp"));
    QCOMPARE(r.messageStatus, QStringLiteral("MESSAGE_SENT_TO_DEVICE"));
    QCOMPARE(r.originalMessageId, QStringLiteral("m-1366082849205"));
    QCOMPARE(r.deviceRegistrationId, QStringLiteral("REGISTRATION_ID"));
    QCOMPARE(r,
        Receipt::make(QStringLiteral("m-1366082849205"), QStringLiteral("REGISTRATION_ID"),
            QStringLiteral("com.example.yourapp")));
    QJsonObject object;
    QVERIFY(json::parseObject(kReceiptCorrected, &object, nullptr));
    QCOMPARE(r.toJson(), object);
    // A receipt is ACKed with its own dr2: id, prefix kept.
    const Ack ack = Ack::forUpstream(r.from, r.messageId);
    QCOMPARE(
        ack.toJson().value(QLatin1String("message_id")).toString(), QStringLiteral("dr2:m-1366082849205"));
}

void TestReferenceExamples::upstream()
{
    const ServerMessage parsed = json::parseServerMessage(kUpstreamCorrected);
    QVERIFY(std::holds_alternative<UpstreamMessage>(parsed));
    const auto &u = std::get<UpstreamMessage>(parsed);
    QCOMPARE(u.category, QStringLiteral("com.example.yourapp"));
    QCOMPARE(u.data, QJsonObject({{QStringLiteral("hello"), QStringLiteral("world")}}));
    QCOMPARE(u.messageId, QStringLiteral("m-123"));
    QCOMPARE(u.from, QStringLiteral("REGID"));
    QVERIFY(!u.timeToLive);
    QJsonObject object;
    QVERIFY(json::parseObject(kUpstreamCorrected, &object, nullptr));
    QCOMPARE(u.toJson(), object);
    // The ACK the reference shows for it.
    QJsonObject ack;
    QVERIFY(json::parseObject(kUpstreamAckCorrected, &ack, nullptr));
    QCOMPARE(Ack::forUpstream(u.from, u.messageId).toJson(), ack);
}

void TestReferenceExamples::upstreamAck_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("reference") << kUpstreamAckCorrected;
    QTest::newRow("java") << kJavaAck;
    QTest::newRow("python") << kPythonAck;
}

void TestReferenceExamples::upstreamAck()
{
    QFETCH(QByteArray, text);
    const ClientMessage parsed = json::parseClientMessage(text);
    QVERIFY(std::holds_alternative<Ack>(parsed));
    QCOMPARE(std::get<Ack>(parsed), Ack::forUpstream(QStringLiteral("REGID"), QStringLiteral("m-123")));
}

void TestReferenceExamples::javaAndPythonSamples_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("messageId");
    QTest::newRow("java") << kJavaMessage << "RegistrationIdOfTheTargetDevice"
                          << "m-1";
    QTest::newRow("python echo") << kPythonEcho << "REGID"
                                 << "a1B2c3D4";
    QTest::newRow("python first") << kPythonFirst << "Registration Id of the target device"
                                  << "reg_id";
}

void TestReferenceExamples::javaAndPythonSamples()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, to);
    QFETCH(QString, messageId);
    const ClientMessage parsed = json::parseClientMessage(text);
    QVERIFY(std::holds_alternative<DownstreamMessage>(parsed));
    const auto &m = std::get<DownstreamMessage>(parsed);
    QCOMPARE(m.to, to);
    QCOMPARE(m.messageId, messageId);
    QVERIFY(m.data);
    QVERIFY(m.extra.isEmpty());
    QJsonObject object;
    QVERIFY(json::parseObject(text, &object, nullptr));
    // The samples' own messages pass validation (the Python echo's {"pong": 1} included).
    const auto failure = validateDownstream(object);
    QVERIFY2(!failure, failure ? qPrintable(failure->description) : "");
    QCOMPARE(m.toJson(), object);
}

QTEST_GUILESS_MAIN(TestReferenceExamples)
#include "tst_referenceexamples.moc"
