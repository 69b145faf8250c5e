#include "protocol/ConstantTime_p.h"
#include "protocol/Redaction.h"

#include <QTest>

using namespace ccs;

// The one redaction of ccscore (logs, traffic view, traffic export) and the one
// constant-time comparison of credentials.
class TestRedaction : public QObject
{
    Q_OBJECT

private:
    static constexpr auto kKey = "AIzaSyB-k3y_with+slash/and=";
    static QString plainPayload(const QByteArray &authzid, const QByteArray &authcid)
    {
        return QString::fromLatin1(
            (authzid + QByteArray(1, '\0') + authcid + QByteArray(1, '\0') + QByteArray(kKey)).toBase64());
    }
    static RedactionSecrets secrets()
    {
        return {QString::fromLatin1(kKey), QStringLiteral("123456"), QStringLiteral("gcm.googleapis.com")};
    }

private Q_SLOTS:
    void hidesEveryFormOfTheSecret_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("keyOnly"); // redacted with the key alone too (no sender ID, no domain)
        QTest::addColumn<QString>("mustNotContain");
        QTest::addColumn<QString>("expected"); // empty: only "must not contain" and "[redacted]" are checked

        const QString key = QString::fromLatin1(kKey);
        const QString plain = plainPayload({}, "123456@gcm.googleapis.com");
        QTest::newRow("sasl auth payload")
            << QStringLiteral(
                   "<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"PLAIN\">%1</auth>")
                   .arg(plain)
            << true << plain
            << QStringLiteral(
                   "<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"PLAIN\">[redacted]</auth>");
        QTest::newRow("sasl auth with a prefix")
            << QStringLiteral("<sasl:auth mechanism='PLAIN'>%1</sasl:auth>").arg(plain) << true << plain
            << QStringLiteral("<sasl:auth mechanism='PLAIN'>[redacted]</sasl:auth>");
        QTest::newRow("sasl response")
            << QStringLiteral("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                              "c2VjcmV0</response>")
            << true << QStringLiteral("c2VjcmV0")
            << QStringLiteral("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>[redacted]</response>");
        QTest::newRow("sasl challenge")
            << QStringLiteral("<challenge>bm9uY2U=</challenge>") << true << QStringLiteral("bm9uY2U=")
            << QStringLiteral("<challenge>[redacted]</challenge>");
        QTest::newRow("sasl success data")
            << QStringLiteral("<success>dj1ybmQ=</success>") << true << QStringLiteral("dj1ybmQ=")
            << QStringLiteral("<success>[redacted]</success>");
        QTest::newRow("the key in clear") << QStringLiteral("<x>key=%1 end</x>").arg(key) << true << key
                                          << QStringLiteral("<x>key=[redacted] end</x>");
        QTest::newRow("the key twice in an error")
            << QStringLiteral("auth failed for %1 (%1)").arg(key) << true << key
            << QStringLiteral("auth failed for [redacted] ([redacted])");
        QTest::newRow("the key xml-escaped")
            << QStringLiteral("<x>%1</x>").arg(QStringLiteral("a&b<key>").toHtmlEscaped()) << false
            << QStringLiteral("a&amp;b&lt;key&gt;") << QString();
        QTest::newRow("the key in base64")
            << QStringLiteral("<x>%1</x>").arg(QString::fromLatin1(QByteArray(kKey).toBase64())) << true
            << QString::fromLatin1(QByteArray(kKey).toBase64()) << QStringLiteral("<x>[redacted]</x>");
        QTest::newRow("plain payload outside sasl")
            << QStringLiteral("QXmpp sent %1 to the server").arg(plain) << true << plain
            << QStringLiteral("QXmpp sent [redacted] to the server");
        const QString senderOnly = plainPayload({}, "123456");
        QTest::newRow("plain payload, sender id without domain")
            << QStringLiteral("payload %1").arg(senderOnly) << true << senderOnly
            << QStringLiteral("payload [redacted]");
        const QString otherAuthzid = plainPayload("someone-else", "999@example.org");
        QTest::newRow("plain payload, another authzid and authcid")
            << QStringLiteral("payload %1.").arg(otherAuthzid) << true << otherAuthzid
            << QStringLiteral("payload [redacted].");
    }

    void hidesEveryFormOfTheSecret()
    {
        QFETCH(QString, text);
        QFETCH(bool, keyOnly);
        QFETCH(QString, mustNotContain);
        QFETCH(QString, expected);

        RedactionSecrets s = secrets();
        if (QByteArray(QTest::currentDataTag()) == "the key xml-escaped")
            s.apiKey = QStringLiteral("a&b<key>");
        const QString out = redactSecrets(text, s);
        QVERIFY2(!out.contains(mustNotContain), qPrintable(out));
        QVERIFY2(!out.contains(s.apiKey), qPrintable(out));
        QVERIFY2(out.contains(QLatin1String(kRedacted)), qPrintable(out));
        if (!expected.isEmpty())
            QCOMPARE(out, expected);
        if (keyOnly) {
            const QString alone = redactSecrets(text, {s.apiKey, {}, {}});
            QVERIFY2(!alone.contains(mustNotContain), qPrintable(alone));
            QVERIFY2(!alone.contains(s.apiKey), qPrintable(alone));
        }
    }

    // Whatever bytes come before and after it, the key's base64 is found and the
    // whole base64 run goes: each of the three alignments, with and without padding.
    void keyInsideAnyBase64_data()
    {
        QTest::addColumn<QByteArray>("before");
        QTest::addColumn<QByteArray>("after");
        for (const QByteArray before : {QByteArray(), QByteArray("x"), QByteArray("xy"), QByteArray("xyz")})
            for (const QByteArray after : {QByteArray(), QByteArray("1"), QByteArray("12")})
                QTest::addRow("%d before, %d after", int(before.size()), int(after.size()))
                    << before << after;
    }

    void keyInsideAnyBase64()
    {
        QFETCH(QByteArray, before);
        QFETCH(QByteArray, after);
        const QString encoded = QString::fromLatin1((before + QByteArray(kKey) + after).toBase64());
        const QString text = QStringLiteral("<x a=\"1\">%1</x>").arg(encoded);
        const QString expected = QStringLiteral("<x a=\"1\">[redacted]</x>");
        QCOMPARE(redactSecrets(text, secrets()), expected);
        QCOMPARE(redactSecrets(text, {QString::fromLatin1(kKey), {}, {}}), expected);
        const Redactor redactor(secrets());
        QCOMPARE(redactor(text), expected);
        QCOMPARE(redactor(text + text), expected + expected); // every occurrence
    }

    void leavesOrdinaryTrafficAlone_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("gcm message") << QStringLiteral(
            "<message id=\"m-1\"><gcm "
            "xmlns=\"google:mobile:data\">{\"to\":\"dGhpcyBpcyBhIHRva2VuIG9mIGEgZGV2aWNl\","
            "\"message_id\":\"m-1\",\"data\":{\"text\":\"hello\"}}</gcm></message>");
        QTest::newRow("empty sasl elements") << QStringLiteral("<auth mechanism='PLAIN'/><success/>");
        QTest::newRow("similar element names")
            << QStringLiteral("<authorize>a</authorize><successor>b</successor>");
        QTest::newRow("stream header") << QStringLiteral(
            "<stream:stream to=\"gcm.googleapis.com\" version=\"1.0\" xmlns=\"jabber:client\">");
    }

    void leavesOrdinaryTrafficAlone()
    {
        QFETCH(QString, text);
        QCOMPARE(redactSecrets(text, secrets()), text);
    }

    void withoutAKeyOnlySaslIsHidden()
    {
        QCOMPARE(redactSecrets(QStringLiteral("<auth>abc</auth> key"), {}),
            QStringLiteral("<auth>[redacted]</auth> key"));
    }

    void constantTimeEqualsCompares_data()
    {
        QTest::addColumn<QByteArray>("a");
        QTest::addColumn<QByteArray>("b");
        QTest::addColumn<bool>("equal");
        QTest::newRow("same") << QByteArray("Bearer token-1") << QByteArray("Bearer token-1") << true;
        QTest::newRow("both empty") << QByteArray() << QByteArray("") << true;
        QTest::newRow("first byte differs") << QByteArray("xearer") << QByteArray("Bearer") << false;
        QTest::newRow("last byte differs") << QByteArray("Bearer1") << QByteArray("Bearer2") << false;
        QTest::newRow("prefix") << QByteArray("Bear") << QByteArray("Bearer") << false;
        QTest::newRow("empty vs not") << QByteArray() << QByteArray("x") << false;
        QTest::newRow("embedded NUL") << QByteArray("a\0b", 3) << QByteArray("a\0c", 3) << false;
        QTest::newRow("high bit") << QByteArray("\xff\x80") << QByteArray("\xff\x80") << true;
    }

    void constantTimeEqualsCompares()
    {
        QFETCH(QByteArray, a);
        QFETCH(QByteArray, b);
        QFETCH(bool, equal);
        QCOMPARE(constantTimeEquals(a, b), equal);
        QCOMPARE(constantTimeEquals(b, a), equal);
    }
};

QTEST_APPLESS_MAIN(TestRedaction)
#include "tst_redaction.moc"
