#include "client/CcsConnection_p.h"
#include "client/CcsSession.h"
#include "client/IdIndex_p.h"
#include "client/MessageLedger.h"

#include <QSignalSpy>
#include <QTest>

#include <type_traits>
#include <utility>

using namespace ccs;

// One owner per state, checked by the compiler: what the session hands out is
// read-only, so no view can add to the ledger or move a message's state, and a
// connection's window (pending set, draining mark) is written by the session alone.
static_assert(std::is_same_v<decltype(std::declval<const CcsSession &>().ledger()), const MessageLedger *>);
static_assert(std::is_same_v<decltype(std::declval<CcsSession &>().ledger()), const MessageLedger *>);
static_assert(
    !std::is_invocable_v<decltype(&MessageLedger::add), const MessageLedger *, const DownstreamMessage &>);
static_assert(!std::is_invocable_v<decltype(&MessageLedger::transition), const MessageLedger *, int,
              MessageState, int, const QString &>);
static_assert(!std::is_invocable_v<decltype(&MessageLedger::entryForUpdate), const MessageLedger *, int>);
static_assert(!std::is_invocable_v<decltype(&MessageLedger::clear), const MessageLedger *>);
static_assert(
    std::is_same_v<decltype(std::declval<CcsConnection &>().pending()), const QHash<QString, int> &>);
static_assert(std::is_same_v<decltype(std::declval<CcsConnection &>().isDraining()), bool>);
// The old public fields are gone: outside the session nothing can name them.
template<typename C>
concept HasPublicWindowFields = requires(C &c)
{
    c.pending = {};
    c.draining = true;
};
template<typename C>
concept HasPublicWindowMembers = requires(C &c)
{
    c.m_pending.clear();
    c.m_draining = true;
};
static_assert(!HasPublicWindowFields<CcsConnection> && !HasPublicWindowMembers<CcsConnection>);

class TestClientLedger : public QObject
{
    Q_OBJECT

private:
    static DownstreamMessage message(const QString &id)
    {
        DownstreamMessage m;
        m.to = QStringLiteral("dev-1");
        m.messageId = id;
        return m;
    }

private Q_SLOTS:
    // Ids whose 64-bit hashes are equal (forced here: every id hashes alike) are
    // still told apart, found, and refused when taken.
    void idIndexKeepsIdsWithOneHash()
    {
        IdIndex index([](QStringView) -> quint64 { return 42; });
        QStringList ids;
        auto idAt = [&ids](int at) -> const QString & { return ids.at(at); };
        for (const QString &id : {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}) {
            QVERIFY(index.insert(id, int(ids.size()), idAt));
            ids.append(id);
        }
        QCOMPARE(index.find(QStringLiteral("a"), idAt), 0);
        QCOMPARE(index.find(QStringLiteral("b"), idAt), 1);
        QCOMPARE(index.find(QStringLiteral("c"), idAt), 2);
        QCOMPARE(index.find(QStringLiteral("d"), idAt), -1);
        QVERIFY(!index.insert(QStringLiteral("a"), 3, idAt)); // the first, by its slot
        QVERIFY(!index.insert(QStringLiteral("c"), 3, idAt)); // a later one, by its text
        index.clear();
        QCOMPARE(index.find(QStringLiteral("b"), idAt), -1);
    }

    void idIndexFindsAMillionIds()
    {
        IdIndex index;
        QStringList ids;
        ids.reserve(1000000);
        auto idAt = [&ids](int at) -> const QString & { return ids.at(at); };
        for (int i = 0; i < 1000000; ++i) {
            ids.append(QString::number(i));
            QVERIFY(index.insert(ids.constLast(), i, idAt));
        }
        for (int i = 0; i < 1000000; i += 9973)
            QCOMPARE(index.find(QString::number(i), idAt), i);
        QVERIFY(!index.insert(QStringLiteral("123456"), 1000000, idAt));
        QCOMPARE(index.find(QStringLiteral("1000000"), idAt), -1);
    }

    void addRecordsQueuedAndSignals()
    {
        MessageLedger ledger;
        QSignalSpy added(&ledger, &MessageLedger::entryAdded);
        QCOMPARE(ledger.add(message(QStringLiteral("a"))), 0);
        QCOMPARE(ledger.add(message(QStringLiteral("b"))), 1);
        QCOMPARE(added.count(), 2);
        QCOMPARE(added.at(1).at(0).toInt(), 1);
        QCOMPARE(ledger.size(), 2);
        QCOMPARE(ledger.indexOf(QStringLiteral("b")), 1);
        QCOMPARE(ledger.indexOf(QStringLiteral("zz")), -1);
        QVERIFY(ledger.find(QStringLiteral("zz")) == nullptr);
        QCOMPARE(ledger.find(QStringLiteral("a"))->state, MessageState::Queued);
        QCOMPARE(ledger.at(0).history.size(), 1);
        QVERIFY(ledger.at(0).queuedAtMs > 0);
        QCOMPARE(ledger.count(MessageState::Queued), 2);
    }

    void duplicateIdIsRefused()
    {
        MessageLedger ledger;
        QCOMPARE(ledger.add(message(QStringLiteral("a"))), 0);
        QCOMPARE(ledger.add(message(QStringLiteral("a"))), -1);
        QCOMPARE(ledger.size(), 1);
    }

    void transitionsKeepHistoryTimesAndCounts()
    {
        MessageLedger ledger;
        const int i = ledger.add(message(QStringLiteral("a")));
        QSignalSpy changed(&ledger, &MessageLedger::entryChanged);
        ledger.transition(i, MessageState::InFlight, 3);
        ledger.transition(i, MessageState::RetryWaiting, 3, QStringLiteral("SERVICE_UNAVAILABLE"));
        ledger.transition(i, MessageState::Queued);
        ledger.transition(i, MessageState::InFlight, 4);
        QTest::qWait(2);
        ledger.transition(i, MessageState::Acked, 4);
        ledger.transition(i, MessageState::Delivered, 4);

        const LedgerEntry &e = ledger.at(i);
        QCOMPARE(e.state, MessageState::Delivered);
        QCOMPARE(e.history.size(), 7);
        QCOMPARE(e.history.at(2).detail, QStringLiteral("SERVICE_UNAVAILABLE"));
        QCOMPARE(e.history.at(4).connectionId, 4);
        QCOMPARE(e.attempts, 2);
        QCOMPARE(e.connectionId, 4);
        for (int k = 1; k < e.history.size(); ++k)
            QVERIFY(e.history.at(k).atMs >= e.history.at(k - 1).atMs);
        QVERIFY(e.ackLatencyMs().has_value());
        QVERIFY(*e.ackLatencyMs() >= 2);
        QVERIFY(e.deliveryLatencyMs().has_value());
        QCOMPARE(changed.count(), 6);
        QCOMPARE(changed.at(0).at(1).value<MessageState>(), MessageState::Queued);
        QCOMPARE(changed.at(0).at(2).value<MessageState>(), MessageState::InFlight);
        QCOMPARE(ledger.count(MessageState::Delivered), 1);
        QCOMPARE(ledger.count(MessageState::Queued), 0);
        QCOMPARE(ledger.count(MessageState::InFlight), 0);
    }

    void latencyAbsentBeforeAck()
    {
        MessageLedger ledger;
        const int i = ledger.add(message(QStringLiteral("a")));
        QVERIFY(!ledger.at(i).ackLatencyMs());
        ledger.transition(i, MessageState::InFlight, 1);
        QVERIFY(!ledger.at(i).ackLatencyMs());
        QVERIFY(!ledger.at(i).deliveryLatencyMs());
    }

    void outOfRangeTransitionIsIgnored()
    {
        MessageLedger ledger;
        QSignalSpy changed(&ledger, &MessageLedger::entryChanged);
        ledger.transition(5, MessageState::Acked);
        ledger.transition(-1, MessageState::Acked);
        QCOMPARE(changed.count(), 0);
    }

    void terminalStates_data()
    {
        QTest::addColumn<MessageState>("state");
        QTest::addColumn<bool>("terminal");
        QTest::newRow("Queued") << MessageState::Queued << false;
        QTest::newRow("InFlight") << MessageState::InFlight << false;
        QTest::newRow("RetryWaiting") << MessageState::RetryWaiting << false;
        QTest::newRow("Acked") << MessageState::Acked << true;
        QTest::newRow("Delivered") << MessageState::Delivered << true;
        QTest::newRow("Nacked") << MessageState::Nacked << true;
        QTest::newRow("Expired") << MessageState::Expired << true;
        QTest::newRow("Failed") << MessageState::Failed << true;
        QTest::newRow("Cancelled") << MessageState::Cancelled << true;
    }
    void terminalStates()
    {
        QFETCH(MessageState, state);
        QFETCH(bool, terminal);
        QCOMPARE(isTerminal(state), terminal);
        QVERIFY(!stateName(state).isEmpty());
    }

    void clearEmptiesEverything()
    {
        MessageLedger ledger;
        ledger.add(message(QStringLiteral("a")));
        QSignalSpy cleared(&ledger, &MessageLedger::cleared);
        ledger.clear();
        QCOMPARE(cleared.count(), 1);
        QCOMPARE(ledger.size(), 0);
        QCOMPARE(ledger.count(MessageState::Queued), 0);
        QCOMPARE(ledger.add(message(QStringLiteral("a"))), 0);
    }

    void windowIsClamped_data()
    {
        QTest::addColumn<int>("configured");
        QTest::addColumn<int>("effective");
        QTest::newRow("default") << 100 << 100;
        QTest::newRow("lower") << 10 << 10;
        QTest::newRow("higher is refused") << 1000 << 100;
        QTest::newRow("zero") << 0 << 1;
        QTest::newRow("negative") << -5 << 1;
    }
    void windowIsClamped()
    {
        QFETCH(int, configured);
        QFETCH(int, effective);
        ConnectionSettings settings;
        settings.windowSize = configured;
        QCOMPARE(effectiveWindow(settings), effective);
    }
};

QTEST_GUILESS_MAIN(TestClientLedger)
#include "tst_client_ledger.moc"
