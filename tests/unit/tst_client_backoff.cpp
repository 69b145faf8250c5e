#include "client/ReconnectBackoff_p.h"
#include "client/RetrySchedule_p.h"
#include "protocol/NackCatalogue.h"

#include <QTest>

using namespace ccs;
using namespace std::chrono_literals;

class TestClientBackoff : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void reconnectDelaysGrowWithJitter()
    {
        ReconnectBackoff backoff(1s, 60s, 42);
        QCOMPARE(backoff.ceiling(1), 1000ms);
        QCOMPARE(backoff.ceiling(2), 2000ms);
        QCOMPARE(backoff.ceiling(4), 8000ms);
        QCOMPARE(backoff.ceiling(7), 60000ms);
        QCOMPARE(backoff.ceiling(30), 60000ms);
        for (int n = 1; n <= 12; ++n) {
            const auto delay = backoff.nextDelay();
            QCOMPARE(backoff.failures(), n);
            QVERIFY2(delay >= backoff.ceiling(n) / 2 && delay <= backoff.ceiling(n),
                qPrintable(QStringLiteral("failure %1: %2 ms").arg(n).arg(delay.count())));
        }
        backoff.reset();
        QCOMPARE(backoff.failures(), 0);
        QVERIFY(backoff.nextDelay() <= 1000ms);
    }

    void jitterSpreadsClients()
    {
        // Two clients failing in step must not retry in step.
        QSet<qint64> seen;
        for (quint32 seed = 1; seed <= 20; ++seed) {
            ReconnectBackoff backoff(1s, 60s, seed);
            backoff.nextDelay();
            backoff.nextDelay();
            seen.insert(backoff.nextDelay().count());
        }
        QVERIFY2(seen.size() > 10, "jitter gives different delays");
    }

    void retryScheduleIsAMinHeap()
    {
        RetrySchedule schedule;
        QVERIFY(schedule.isEmpty());
        QVERIFY(!schedule.nextDueMs());
        schedule.schedule(500, 1);
        schedule.schedule(100, 2);
        schedule.schedule(300, 3);
        schedule.schedule(100, 4); // same due time as 2: scheduling order kept
        QCOMPARE(schedule.size(), 4);
        QCOMPARE(*schedule.nextDueMs(), 100);
        QCOMPARE(schedule.takeDue(99), std::vector<int> {});
        QCOMPARE(schedule.takeDue(300), (std::vector<int> {2, 4, 3}));
        QCOMPARE(*schedule.nextDueMs(), 500);
        QCOMPARE(schedule.takeDue(10000), std::vector<int> {1});
        QVERIFY(schedule.isEmpty());
    }

    void manyRetriesNeedOneTimerWorthOfState()
    {
        RetrySchedule schedule;
        for (int i = 0; i < 100000; ++i)
            schedule.schedule((i * 7919) % 100000, i);
        qint64 last = -1;
        int taken = 0;
        for (qint64 t = 0; t <= 100000; t += 1000) {
            const auto due = schedule.takeDue(t);
            taken += int(due.size());
            QVERIFY(t >= last);
            last = t;
        }
        QCOMPARE(taken, 100000);
    }

    void nackRetryDelaysFromTheCatalogue()
    {
        // The session uses these: back-off from 1 s, rate-exceeded later, draining at once.
        QCOMPARE(NackCatalogue::retryDelay(RetryClass::Backoff, 1), 1000ms);
        QCOMPARE(NackCatalogue::retryDelay(RetryClass::Backoff, 2), 2000ms);
        QVERIFY(NackCatalogue::retryDelay(RetryClass::Later, 1) > 1000ms);
        QCOMPARE(NackCatalogue::retryDelay(RetryClass::OtherConnection, 1), 0ms);
        QCOMPARE(NackCatalogue::retryClass(NackCode::ServiceUnavailable), RetryClass::Backoff);
        QCOMPARE(NackCatalogue::retryClass(NackCode::InternalServerError), RetryClass::Backoff);
        QCOMPARE(NackCatalogue::retryClass(NackCode::ConnectionDraining), RetryClass::OtherConnection);
        QCOMPARE(NackCatalogue::retryClass(NackCode::BadRegistration), RetryClass::Never);
        bool known = true;
        QCOMPARE(NackCatalogue::fromName(u"SOMETHING_NEW", &known), NackCode::InternalServerError);
        QVERIFY(!known);
    }
};

QTEST_GUILESS_MAIN(TestClientBackoff)
#include "tst_client_backoff.moc"
