// Message ids: readable, and unique across many calls, threads and processes.
#include "protocol/MessageIdGenerator.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

using namespace ccs;

namespace {
// When set, the binary prints ids instead of running the tests: the test
// starts itself as a second process to draw ids there.
constexpr auto kPrintIdsVariable = "CCS_TEST_PRINT_MESSAGE_IDS";
const QRegularExpression kIdPattern(QStringLiteral("^m-(\\d{8})-(\\d{6})-([0-9a-f]{8})-(\\d{6,})$"));
} // namespace

class TestMessageIdGenerator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readableFormat();
    void uniqueAcrossManyCalls();
    void uniqueAcrossThreads();
    void uniqueAcrossProcesses();
    void looksGenerated_data();
    void looksGenerated();
};

void TestMessageIdGenerator::readableFormat()
{
    const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-1);
    const QString id = MessageIdGenerator::next();
    const QDateTime after = QDateTime::currentDateTimeUtc().addSecs(1);
    const auto match = kIdPattern.match(id);
    QVERIFY2(match.hasMatch(), qPrintable(id));
    QVERIFY(id.startsWith(QLatin1String("m-")));
    const QDateTime stamp
        = QDateTime::fromString(match.captured(1) + match.captured(2), QStringLiteral("yyyyMMddHHmmss"));
    QVERIFY(stamp.isValid());
    QDateTime utc = stamp;
    utc.setTimeSpec(Qt::UTC);
    QVERIFY(utc >= before.addSecs(-1) && utc <= after);
    // The counter counts up within a process; the process tag stays.
    const auto next = kIdPattern.match(MessageIdGenerator::next());
    QCOMPARE(next.captured(3), match.captured(3));
    QCOMPARE(next.captured(4).toULongLong(), match.captured(4).toULongLong() + 1);
}

void TestMessageIdGenerator::uniqueAcrossManyCalls()
{
    QSet<QString> ids;
    for (int i = 0; i < 100000; ++i)
        ids.insert(MessageIdGenerator::next());
    QCOMPARE(ids.size(), 100000);
}

void TestMessageIdGenerator::uniqueAcrossThreads()
{
    std::vector<QStringList> drawn(4);
    std::vector<std::thread> threads;
    for (QStringList &ids : drawn) {
        threads.emplace_back([&ids] {
            for (int i = 0; i < 20000; ++i)
                ids << MessageIdGenerator::next();
        });
    }
    for (std::thread &t : threads)
        t.join();
    QSet<QString> all;
    for (const QStringList &ids : drawn) {
        for (const QString &id : ids)
            all.insert(id);
    }
    QCOMPARE(all.size(), 80000);
}

void TestMessageIdGenerator::uniqueAcrossProcesses()
{
    // Two more processes started at once draw ids in the same second as this one.
    const QString self = QCoreApplication::applicationFilePath();
    QList<QStringList> drawn;
    std::vector<std::unique_ptr<QProcess>> processes;
    for (int i = 0; i < 2; ++i) {
        auto p = std::make_unique<QProcess>();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QLatin1String(kPrintIdsVariable), QStringLiteral("1000"));
        p->setProcessEnvironment(env);
        p->start(self, {});
        processes.push_back(std::move(p));
    }
    QStringList mine;
    for (int i = 0; i < 1000; ++i)
        mine << MessageIdGenerator::next();
    drawn << mine;
    for (auto &p : processes) {
        QVERIFY(p->waitForFinished(30000));
        QCOMPARE(p->exitCode(), 0);
        const QStringList ids
            = QString::fromLatin1(p->readAllStandardOutput()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(ids.size(), 1000);
        drawn << ids;
    }
    QSet<QString> all;
    QSet<QString> tags;
    for (const QStringList &ids : drawn) {
        for (const QString &id : ids) {
            const auto match = kIdPattern.match(id);
            QVERIFY2(match.hasMatch(), qPrintable(id));
            all.insert(id);
        }
        // Each process has one tag, and no two processes share it.
        tags.insert(kIdPattern.match(ids.first()).captured(3));
        QCOMPARE(kIdPattern.match(ids.last()).captured(3), kIdPattern.match(ids.first()).captured(3));
    }
    QCOMPARE(all.size(), 3000);
    QCOMPARE(tags.size(), 3);
}

void TestMessageIdGenerator::looksGenerated_data()
{
    QTest::addColumn<QString>("id");
    QTest::addColumn<bool>("generated");
    QTest::newRow("fresh") << MessageIdGenerator::next() << true;
    QTest::newRow("example") << "m-20261127-225012-7f3a9c21-000001" << true;
    QTest::newRow("big counter") << "m-20261127-225012-7f3a9c21-1234567" << true;
    QTest::newRow("reference style") << "m-1366082849205" << false;
    QTest::newRow("no prefix") << "20261127-225012-7f3a9c21-000001" << false;
    QTest::newRow("upper-case tag") << "m-20261127-225012-7F3A9C21-000001" << false;
    QTest::newRow("short counter") << "m-20261127-225012-7f3a9c21-001" << false;
    QTest::newRow("extra part") << "m-20261127-225012-7f3a9c21-000001-x" << false;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("receipt id") << "dr2:m-20261127-225012-7f3a9c21-000001" << false;
}

void TestMessageIdGenerator::looksGenerated()
{
    QFETCH(QString, id);
    QFETCH(bool, generated);
    QCOMPARE(MessageIdGenerator::looksGenerated(id), generated);
}

int main(int argc, char **argv)
{
    const QByteArray count = qgetenv(kPrintIdsVariable);
    if (!count.isEmpty()) {
        for (int i = 0; i < count.toInt(); ++i)
            std::printf("%s\n", qPrintable(MessageIdGenerator::next()));
        return 0;
    }
    QCoreApplication app(argc, argv);
    TestMessageIdGenerator test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_messageidgenerator.moc"
