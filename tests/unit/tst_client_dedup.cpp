#include "client/DeduplicationSet_p.h"

#include <QTest>

using namespace ccs;

class TestClientDedup : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countsSightings()
    {
        DeduplicationSet set(10, 1000);
        QCOMPARE(set.see(QStringLiteral("a"), 0), 1);
        QCOMPARE(set.see(QStringLiteral("b"), 1), 1);
        QCOMPARE(set.see(QStringLiteral("a"), 2), 2);
        QCOMPARE(set.see(QStringLiteral("a"), 3), 3);
        QCOMPARE(set.size(), 2);
        QVERIFY(set.contains(QStringLiteral("b")));
    }

    void receiptIdsAreDistinctFromOriginals()
    {
        DeduplicationSet set;
        QCOMPARE(set.see(QStringLiteral("m-1"), 0), 1);
        QCOMPARE(set.see(QStringLiteral("dr2:m-1"), 0), 1);
    }

    void capacityBoundsMemoryOldestFirst()
    {
        DeduplicationSet set(3, 1000000);
        set.see(QStringLiteral("1"), 0);
        set.see(QStringLiteral("2"), 0);
        set.see(QStringLiteral("3"), 0);
        set.see(QStringLiteral("4"), 0);
        QCOMPARE(set.size(), 3);
        QVERIFY(!set.contains(QStringLiteral("1")));
        QVERIFY(set.contains(QStringLiteral("4")));
        QCOMPARE(set.see(QStringLiteral("2"), 0), 2);
    }

    void ageBoundForgetsOldIds()
    {
        DeduplicationSet set(100, 1000);
        set.see(QStringLiteral("old"), 0);
        set.see(QStringLiteral("new"), 900);
        QCOMPARE(set.see(QStringLiteral("old"), 999), 2);
        // At 1000 ms "old" is forgotten; a redelivery that late counts as new.
        QCOMPARE(set.see(QStringLiteral("other"), 1000), 1);
        QVERIFY(!set.contains(QStringLiteral("old")));
        QVERIFY(set.contains(QStringLiteral("new")));
    }

    void largeVolumeStaysBounded()
    {
        DeduplicationSet set(100000, 24 * 3600 * 1000);
        for (int i = 0; i < 250000; ++i)
            QCOMPARE(set.see(QString::number(i), i), 1);
        QCOMPARE(set.size(), 100000);
        QCOMPARE(set.see(QStringLiteral("249999"), 250000), 2);
        QVERIFY(!set.contains(QStringLiteral("149999")));
        QVERIFY(set.contains(QStringLiteral("150000")));
    }

    void shrinkingLimitsEvicts()
    {
        DeduplicationSet set(10, 1000);
        for (int i = 0; i < 10; ++i)
            set.see(QString::number(i), 0);
        set.setLimits(4, 1000);
        QCOMPARE(set.size(), 4);
        QVERIFY(set.contains(QStringLiteral("9")));
        QVERIFY(!set.contains(QStringLiteral("5")));
        set.clear();
        QCOMPARE(set.size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestClientDedup)
#include "tst_client_dedup.moc"
