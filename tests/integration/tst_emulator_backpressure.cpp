// A client that sends without ever reading its answers: the emulator stops
// reading from it once maxUnsentBytes of answers wait, so TCP pushes back on
// the client instead of the emulator buffering without bound; once the client
// reads again, every request is answered and nothing is lost.
#include "RawCcsClient.h"
#include "TestEmulator.h"

#include <QTest>
#include <QTimer>

using namespace ccs;
using namespace ccs::test;

class TestEmulatorBackpressure : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void clientThatNeverReadsIsPushedBack();
};

void TestEmulatorBackpressure::clientThatNeverReadsIsPushedBack()
{
    emulator::EmulatorConfig config = TestEmulator::defaultConfig();
    constexpr qint64 kCap = 256 * 1024;
    config.maxUnsentBytes = kCap;
    TestEmulator emu(config);
    QVERIFY2(emu.isRunning(), qPrintable(emu.error()));
    RawCcsClient client;
    QString error;
    QVERIFY2(client.loginTo(emu, &error), qPrintable(error));
    QCOMPARE(emu.server()->connections().size(), 1);
    const int connectionId = emu.server()->connections().constFirst().id;
    auto unsent = [&] {
        for (const emulator::ConnectionInfo &info : emu.server()->connections()) {
            if (info.id == connectionId)
                return info.unsentBytes;
        }
        return qint64(-1);
    };

    // The client stops reading, with small buffers of its own.
    QSslSocket *socket = client.socket();
    QObject::disconnect(socket, &QSslSocket::readyRead, nullptr, nullptr);
    socket->setReadBufferSize(16 * 1024);
    socket->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 64 * 1024);

    // Requests the emulator answers with about as many bytes (the id comes back):
    // 16 MB, far more than the kernel buffers on both sides hold.
    auto toWrite = [socket] { return socket->bytesToWrite() + socket->encryptedBytesToWrite(); };
    constexpr int kRequests = 16000;
    const QByteArray pad(1000, 'p');
    for (int i = 0; i < kRequests; ++i) {
        socket->write("<iq type='get' id='" + pad + QByteArray::number(i)
            + "'><query xmlns='urn:example:unknown'/></iq>");
    }
    qint64 maxUnsent = 0;
    QTimer probe;
    connect(&probe, &QTimer::timeout, this, [&] { maxUnsent = std::max(maxUnsent, unsent()); });
    probe.start(5);
    // Either the emulator read it all (no push back) or its answers reached the cap.
    QTRY_VERIFY_WITH_TIMEOUT(toWrite() == 0 || unsent() > kCap, 30000);
    QTest::qWait(300); // would it keep reading?
    probe.stop();
    maxUnsent = std::max(maxUnsent, unsent());
    qInfo() << "max unsent" << maxUnsent << "client still to write" << toWrite();
    // One read (64 KiB) past the cap at most, and the client is held back.
    QVERIFY2(maxUnsent <= kCap + 128 * 1024, qPrintable(QString::number(maxUnsent)));
    QVERIFY(toWrite() > 0);
    QVERIFY(socket->state() == QAbstractSocket::ConnectedState);

    // The client reads again: every request gets its answer.
    int answers = 0;
    QByteArray tail;
    auto drain = [&] {
        const QByteArray data = tail + socket->readAll();
        answers += static_cast<int>(data.count("</iq>"));
        tail = data.right(4); // too short to hold a whole "</iq>": nothing counted twice
    };
    connect(socket, &QSslSocket::readyRead, this, drain);
    drain();
    QTRY_COMPARE_WITH_TIMEOUT(answers, kRequests, 40000);
    QCOMPARE(unsent(), qint64(0));
}

QTEST_GUILESS_MAIN(TestEmulatorBackpressure)
#include "tst_emulator_backpressure.moc"
