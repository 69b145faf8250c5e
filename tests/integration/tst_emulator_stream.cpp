// The emulator's XML stream against bad input: malformed XML, a DTD, an
// oversize stanza, deep nesting, unknown stanzas, and a stanza cut across
// many writes. Each ends in the right stream error (or works), never a crash.
#include "RawCcsClient.h"
#include "TestEmulator.h"

#include <QTest>

using namespace ccs;
using namespace ccs::test;

class TestEmulatorStream : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void streamErrors_data();
    void streamErrors();
    void oversizeStanza();
    void stanzaBelowLimitAccepted();
    void byteByByte();
    void serverSurvivesAndServesOthers();
    void stopClosesStreams();
    void authTimeout();
    void connectionLimit();
    void unauthenticatedConnectionsAreBoundedApart();
};

void TestEmulatorStream::streamErrors_data()
{
    QTest::addColumn<QByteArray>("xml");
    QTest::addColumn<QString>("condition");
    QTest::newRow("mismatched tag") << QByteArray("<message><gcm xmlns='google:mobile:data'>{}</message>")
                                    << "not-well-formed";
    QTest::newRow("garbage") << QByteArray("<<<>>>") << "not-well-formed";
    QTest::newRow("bad entity") << QByteArray("<message>&bogus;</message>") << "not-well-formed";
    QTest::newRow("deep nesting") << QByteArray("<message>") + QByteArray("<a>").repeated(40)
                                  << "policy-violation";
    QTest::newRow("unknown stanza") << QByteArray("<foo/>") << "unsupported-stanza-type";
    QTest::newRow("second stream header")
        << QByteArray("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        << "unsupported-stanza-type";
}

void TestEmulatorStream::streamErrors()
{
    QFETCH(QByteArray, xml);
    QFETCH(QString, condition);
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    c.sendRaw(xml);
    QVERIFY(c.waitForDisconnected());
    QCOMPARE(c.streamError(), condition);
    QVERIFY(c.streamClosedByServer());
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->openConnections(), 0, 5000);
}

void TestEmulatorStream::oversizeStanza()
{
    auto config = TestEmulator::defaultConfig();
    config.maxStanzaBytes = 64 * 1024;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    // Never finished: the emulator must not buffer it for ever.
    c.sendRaw("<message id='big'><gcm xmlns='google:mobile:data'>{\"to\":\"dev-1\",\"data\":{\"k\":\"");
    for (int i = 0; i < 20; ++i)
        c.sendRaw(QByteArray(8 * 1024, 'x'));
    QVERIFY(c.waitForDisconnected());
    QCOMPARE(c.streamError(), QStringLiteral("policy-violation"));
    QCOMPARE(emu.server()->counters().downstreamReceived, 0);
}

void TestEmulatorStream::stanzaBelowLimitAccepted()
{
    auto config = TestEmulator::defaultConfig();
    config.maxStanzaBytes = 64 * 1024;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    // 40 KB of data: a NACK (too big for CCS) but not a stream error.
    c.sendJson({{"to", "dev-1"}, {"message_id", "m"}, {"data", QJsonObject {{"k", QString(40000, 'y')}}}});
    QVERIFY(c.waitForGcmCount(1));
    QCOMPARE(c.gcmMessages().first().value("error").toString(), QStringLiteral("INVALID_JSON"));
    QVERIFY(c.isConnected());
}

void TestEmulatorStream::byteByByte()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    const QByteArray stanza
        = "<message id='slow'><gcm xmlns='google:mobile:data'>{\"to\":\"dev-1\","
          "\"message_id\":\"slow-1\",\"data\":{\"t\":\"\xc3\xa9\xe2\x82\xac &amp; &lt;\"}}"
          "</gcm></message>";
    for (char ch : stanza) {
        c.sendRaw(QByteArray(1, ch));
        c.socket()->flush();
        QTest::qWait(0);
    }
    QVERIFY(c.waitForGcmCount(1));
    QCOMPARE(c.gcmMessages().first().value("message_id").toString(), QStringLiteral("slow-1"));
}

void TestEmulatorStream::serverSurvivesAndServesOthers()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    for (int i = 0; i < 5; ++i) {
        RawCcsClient bad;
        bad.setPinnedCertificate(emu.certificate());
        QVERIFY(bad.connectTls(QStringLiteral("127.0.0.1"), emu.port()));
        bad.sendRaw(i % 2 ? QByteArray("\x00\x01\x02garbage", 10) : QByteArray("<notastream/>"));
        QVERIFY(bad.waitForDisconnected());
    }
    RawCcsClient good;
    QVERIFY(good.loginTo(emu));
    good.sendJson({{"to", "dev-1"}, {"message_id", "ok"}});
    QVERIFY(good.waitForGcmCount(1));
}

void TestEmulatorStream::stopClosesStreams()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    RawCcsClient c;
    QVERIFY(c.loginTo(emu));
    emu.server()->stop();
    QVERIFY(c.waitForDisconnected());
    QVERIFY(c.streamClosedByServer());
    QVERIFY(!emu.server()->isListening());
}

void TestEmulatorStream::authTimeout()
{
    auto config = TestEmulator::defaultConfig();
    config.authTimeoutMs = 1000; // long enough for the second client to bind under load
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient idle;
    idle.setPinnedCertificate(emu.certificate());
    QVERIFY(idle.connectTls(QStringLiteral("127.0.0.1"), emu.port()));
    QVERIFY(idle.openStream());
    RawCcsClient bound;
    QVERIFY(bound.loginTo(emu)); // bound in time: not affected
    QVERIFY(idle.waitForDisconnected(5000));
    QCOMPARE(idle.streamError(), QStringLiteral("connection-timeout"));
    QTest::qWait(400);
    QVERIFY(bound.isConnected());
    QCOMPARE(emu.server()->counters().streamErrors, 1);
}

void TestEmulatorStream::connectionLimit()
{
    // CCS allowed 1000 connections per sender ID: the limit counts
    // authenticated connections of one sender, checked when one authenticates.
    auto config = TestEmulator::defaultConfig();
    config.maxConnectionsPerSender = 2;
    config.senders.append({QStringLiteral("999999999999"), QStringLiteral("other-sender-key-0123456789")});
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient a;
    RawCcsClient b;
    RawCcsClient c;
    QVERIFY(a.loginTo(emu));
    QVERIFY(b.loginTo(emu));
    QString error;
    c.setPinnedCertificate(emu.certificate());
    QVERIFY(c.connectTls(QStringLiteral("127.0.0.1"), emu.port()));
    QVERIFY(c.openStream());
    QVERIFY(c.authenticate(QStringLiteral("%1@gcm.googleapis.com").arg(TestEmulator::kSenderId),
        QString::fromLatin1(TestEmulator::kApiKey)));
    c.bind(); // the third connection of this sender is closed once it binds
    QVERIFY(c.waitForDisconnected());
    QCOMPARE(c.streamError(), QStringLiteral("policy-violation"));
    QVERIFY2(c.streamErrorText().contains(QStringLiteral("sender")), qPrintable(c.streamErrorText()));
    QCOMPARE(emu.server()->counters().connectionLimitRejections, 1);
    // Another sender has its own 1000 (here 2).
    RawCcsClient other;
    other.setPinnedCertificate(emu.certificate());
    QVERIFY2(other.login(QStringLiteral("127.0.0.1"), emu.port(), QStringLiteral("999999999999"),
                 QStringLiteral("other-sender-key-0123456789"), &error),
        qPrintable(error));
    a.closeStream();
    QVERIFY(a.waitForDisconnected());
    QTRY_COMPARE_WITH_TIMEOUT(emu.server()->openConnections(), 2, 5000);
    RawCcsClient d;
    QVERIFY(d.loginTo(emu)); // room again
}

void TestEmulatorStream::unauthenticatedConnectionsAreBoundedApart()
{
    // Sockets that never authenticate cannot take a sender's slots: they have
    // a bound of their own, and an authenticated connection does not count in it.
    auto config = TestEmulator::defaultConfig();
    config.maxUnauthenticatedConnections = 2;
    TestEmulator emu(config);
    QVERIFY(emu.isRunning());
    RawCcsClient bound;
    QVERIFY(bound.loginTo(emu));
    RawCcsClient waiting1, waiting2, third;
    for (RawCcsClient *c : {&waiting1, &waiting2}) {
        c->setPinnedCertificate(emu.certificate());
        QVERIFY(c->connectTls(QStringLiteral("127.0.0.1"), emu.port()));
        QVERIFY(c->openStream());
    }
    third.setPinnedCertificate(emu.certificate());
    QVERIFY(third.connectTls(QStringLiteral("127.0.0.1"), emu.port()));
    QVERIFY(third.waitForDisconnected());
    QCOMPARE(third.streamError(), QStringLiteral("policy-violation"));
    QVERIFY(waiting1.isConnected());
    QVERIFY(bound.isConnected());
    // Once one of them authenticates, there is room for another.
    QVERIFY(waiting1.authenticate(QStringLiteral("%1@gcm.googleapis.com").arg(TestEmulator::kSenderId),
        QString::fromLatin1(TestEmulator::kApiKey)));
    RawCcsClient fourth;
    fourth.setPinnedCertificate(emu.certificate());
    QVERIFY(fourth.connectTls(QStringLiteral("127.0.0.1"), emu.port()));
    QVERIFY(fourth.openStream());
    QVERIFY(fourth.isConnected());
}

QTEST_GUILESS_MAIN(TestEmulatorStream)
#include "tst_emulator_stream.moc"
