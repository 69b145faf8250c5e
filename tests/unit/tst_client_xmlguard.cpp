// The byte-level guards in front of the client's incremental XML reader:
// Utf8Validator (well-formed UTF-8, split anywhere) and XmlSizeGuard (long runs
// are cut without breaking the XML; over-long markup is refused).

#include "xmpp/XmlSizeGuard_p.h"
#include "protocol/Utf8Validator_p.h"

#include <QRandomGenerator>
#include <QTest>
#include <QXmlStreamReader>

using namespace ccs;

namespace {

// Feeds `input` through a guard in chunks of `chunk` bytes; returns what the reader would get.
QByteArray guarded(XmlSizeGuard &guard, const QByteArray &input, qsizetype chunk, int *cuts = nullptr,
    bool *tooLong = nullptr)
{
    QByteArray out;
    int cutCount = 0;
    for (qsizetype at = 0; at < input.size(); at += chunk) {
        const QByteArray part = input.mid(at, chunk);
        qsizetype pos = 0;
        while (pos < part.size()) {
            const auto result = guard.process(part, &pos, &out);
            if (result == XmlSizeGuard::Result::CutStarted)
                ++cutCount;
            if (result == XmlSizeGuard::Result::MarkupTooLong) {
                if (tooLong)
                    *tooLong = true;
                return out;
            }
        }
    }
    if (cuts)
        *cuts = cutCount;
    return out;
}

// Parses a complete document; an empty string if it is well-formed, else the error.
QString parseError(const QByteArray &document, QStringList *texts = nullptr)
{
    QXmlStreamReader reader(document);
    while (!reader.atEnd()) {
        reader.readNext();
        if (texts && reader.isCharacters() && !reader.isWhitespace())
            texts->append(reader.text().toString());
    }
    return reader.hasError() ? reader.errorString() : QString();
}

} // namespace

class TestClientXmlGuard : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void utf8Valid_data();
    void utf8Valid();
    void utf8Invalid_data();
    void utf8Invalid();
    void smallDocumentPassesUnchanged_data();
    void smallDocumentPassesUnchanged();
    void longRunsAreCut_data();
    void longRunsAreCut();
    void markupTooLong_data();
    void markupTooLong();
};

void TestClientXmlGuard::utf8Valid_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("ascii") << QByteArray("<message id='a'>{}</message>");
    QTest::newRow("two-byte") << QByteArray("caf\xc3\xa9");
    QTest::newRow("three-byte") << QByteArray("\xe2\x82\xac \xef\xbf\xbd");
    QTest::newRow("four-byte") << QByteArray("\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
    QTest::newRow("edges") << QByteArray(
        "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80");
}

void TestClientXmlGuard::utf8Valid()
{
    QFETCH(QByteArray, bytes);
    // Split at every position: sequences cut between two reads are still valid.
    for (qsizetype split = 0; split <= bytes.size(); ++split) {
        Utf8Validator v;
        QVERIFY(v.feed(QByteArrayView(bytes).first(split)));
        QVERIFY2(v.feed(QByteArrayView(bytes).sliced(split)), qPrintable(QString::number(split)));
        QVERIFY(!v.isIncomplete());
        QCOMPARE(v.errorOffset(), -1);
    }
    Utf8Validator bytewise;
    for (char c : std::as_const(bytes))
        QVERIFY(bytewise.feed(QByteArrayView(&c, 1)));
}

void TestClientXmlGuard::utf8Invalid_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<qint64>("offset");
    QTest::newRow("ff") << QByteArray("ab\xff") << qint64(2);
    QTest::newRow("stray-continuation") << QByteArray("a\x80") << qint64(1);
    QTest::newRow("overlong-2") << QByteArray("\xc0\xaf") << qint64(0);
    QTest::newRow("overlong-3") << QByteArray("\xe0\x80\xaf") << qint64(1);
    QTest::newRow("overlong-4") << QByteArray("\xf0\x80\x80\xaf") << qint64(1);
    QTest::newRow("surrogate") << QByteArray("x\xed\xa0\x80") << qint64(2);
    QTest::newRow("above-10ffff") << QByteArray("\xf4\x90\x80\x80") << qint64(1);
    QTest::newRow("f5") << QByteArray("\xf5\x80\x80\x80") << qint64(0);
    QTest::newRow("truncated-then-ascii") << QByteArray("\xe2\x82<") << qint64(2);
}

void TestClientXmlGuard::utf8Invalid()
{
    QFETCH(QByteArray, bytes);
    QFETCH(qint64, offset);
    Utf8Validator v;
    QVERIFY(v.feed("prefix "));
    QVERIFY(!v.feed(bytes));
    QVERIFY(!v.isValid());
    QCOMPARE(v.errorOffset(), 7 + offset);
    QVERIFY(!v.feed("more")); // stays failed
    v.reset();
    QVERIFY(v.feed("fine"));
}

void TestClientXmlGuard::smallDocumentPassesUnchanged_data()
{
    QTest::addColumn<QByteArray>("document");
    QTest::newRow("gcm") << QByteArray(
        "<s><message id='m1'><gcm xmlns='google:mobile:data'>{\"a\":\"&lt;/gcm&gt;&amp;\"}"
        "</gcm></message></s>");
    QTest::newRow("everything") << QByteArray(
        "<s a=\"x>y\" b='\"'><!-- c > d - e -->text<![CDATA[ <x> ]] ]]><?pi data > ?><e/>&#65;\xc3\xa9</s>");
    QTest::newRow("doctype") << QByteArray("<!DOCTYPE s [<!ENTITY e \"v>\">]><s>&e;</s>");
}

void TestClientXmlGuard::smallDocumentPassesUnchanged()
{
    QFETCH(QByteArray, document);
    QVERIFY2(parseError(document).isEmpty(), qPrintable(parseError(document)));
    for (qsizetype chunk : {qsizetype(1), qsizetype(2), qsizetype(7), document.size()}) {
        XmlSizeGuard guard(1024, 1024);
        int cuts = -1;
        QCOMPARE(guarded(guard, document, chunk, &cuts), document);
        QCOMPARE(cuts, 0);
    }
}

void TestClientXmlGuard::longRunsAreCut_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<QByteArray>("unit"); // repeated to make the long run
    QTest::addColumn<QByteArray>("tail");
    QTest::newRow("text") << QByteArray("<s><m>") << QByteArray("x") << QByteArray("</m><n>after</n></s>");
    QTest::newRow("text-entities") << QByteArray("<s><m>") << QByteArray("&amp;&#65;")
                                   << QByteArray("</m></s>");
    QTest::newRow("text-utf8") << QByteArray("<s><m>") << QByteArray("\xe2\x82\xac")
                               << QByteArray("</m></s>");
    QTest::newRow("attribute") << QByteArray("<s><m id='") << QByteArray("a\"")
                               << QByteArray("' k=\"v\"/></s>");
    QTest::newRow("comment") << QByteArray("<s><!--") << QByteArray("-x") << QByteArray("--><m/></s>");
    QTest::newRow("cdata") << QByteArray("<s><m><![CDATA[") << QByteArray("]x") << QByteArray("]]></m></s>");
    QTest::newRow("pi") << QByteArray("<s><?p ") << QByteArray("?x") << QByteArray("?><m/></s>");
}

void TestClientXmlGuard::longRunsAreCut()
{
    QFETCH(QByteArray, head);
    QFETCH(QByteArray, unit);
    QFETCH(QByteArray, tail);
    constexpr qsizetype maxRun = 1000;
    const QByteArray document = head + unit.repeated(5000) + tail;
    QVERIFY2(parseError(document).isEmpty(), qPrintable(parseError(document)));
    for (qsizetype chunk : {qsizetype(1), qsizetype(3), qsizetype(4096), document.size()}) {
        XmlSizeGuard guard(maxRun, 1024);
        int cuts = 0;
        const QByteArray out = guarded(guard, document, chunk, &cuts);
        QCOMPARE(cuts, 1);
        // Cut to about maxRun, still well-formed, and what follows the run is intact.
        QVERIFY2(
            out.size() < head.size() + maxRun + 16 + tail.size(), qPrintable(QString::number(out.size())));
        QVERIFY2(parseError(out).isEmpty(), qPrintable(parseError(out) + QString::fromUtf8(out.right(60))));
        QVERIFY(out.startsWith(head));
        QVERIFY(out.endsWith(tail.mid(tail.indexOf('>') + 1)));
    }
    // Random chunking gives the same bytes as one piece.
    XmlSizeGuard whole(maxRun, 1024);
    const QByteArray expected = guarded(whole, document, document.size());
    XmlSizeGuard random(maxRun, 1024);
    QByteArray out;
    qsizetype at = 0;
    while (at < document.size()) {
        const qsizetype n = 1 + QRandomGenerator::global()->bounded(300);
        const QByteArray part = document.mid(at, n);
        qsizetype pos = 0;
        while (pos < part.size())
            random.process(part, &pos, &out);
        at += n;
    }
    QCOMPARE(out, expected);
}

void TestClientXmlGuard::markupTooLong_data()
{
    QTest::addColumn<QByteArray>("document");
    QTest::newRow("attributes") << "<s><m " + QByteArray("a='x' ").repeated(1000) + "/></s>";
    QTest::newRow("name") << "<s><" + QByteArray(5000, 'n') + "/></s>";
    QTest::newRow("doctype") << "<!DOCTYPE s [" + QByteArray("<!ENTITY e 'v'>").repeated(500) + "]><s/>";
}

void TestClientXmlGuard::markupTooLong()
{
    QFETCH(QByteArray, document);
    XmlSizeGuard guard(100000, 1024);
    bool tooLong = false;
    guarded(guard, document, 512, nullptr, &tooLong);
    QVERIFY(tooLong);
    // Under a larger limit the same markup passes unchanged.
    XmlSizeGuard roomy(100000, 100000);
    bool roomyTooLong = false;
    QCOMPARE(guarded(roomy, document, 512, nullptr, &roomyTooLong), document);
    QVERIFY(!roomyTooLong);
}

QTEST_GUILESS_MAIN(TestClientXmlGuard)
#include "tst_client_xmlguard.moc"
