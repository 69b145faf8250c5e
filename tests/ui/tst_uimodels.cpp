// The window's models under QAbstractItemModelTester, and the storage they export through.
#include "TestEmulator.h"
#include "common/FollowingTableView.h"
#include "connection/ProfileDialog.h"
#include "emulator/DeviceModel.h"
#include "inbox/InboxModel.h"
#include "outbox/OutboxModel.h"
#include "protocol/JsonCodec.h"
#include "storage/HistoryExport.h"
#include "storage/ProfileStore.h"
#include "storage/SecretStore.h"
#include "traffic/TrafficLogModel.h"

#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace ccs;
using namespace ccs::ui;

namespace {

DownstreamMessage message(const QString &id, const QString &to = QStringLiteral("dev-1"))
{
    DownstreamMessage m;
    m.messageId = id;
    m.to = to;
    m.data = QJsonObject {{QStringLiteral("k"), QStringLiteral("v")}};
    return m;
}

UpstreamMessage upstream(const QString &id, const QString &from, const QString &text)
{
    UpstreamMessage m;
    m.messageId = id;
    m.from = from;
    m.category = QStringLiteral("com.example.app");
    m.data = QJsonObject {{QStringLiteral("text"), text}};
    return m;
}

} // namespace

class TestUiModels : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void outboxModelFollowsLedger();
    void outboxModelFiltersInsideTheModel();
    void trafficModelFiltersWhileCapped();
    void inboxModelBatchesFiltersAndCountsDuplicates();
    void inboxModelKeepsWholeMessage();
    void inboxModelHoldsManyRowsCompactly();
    void trafficModelCapsAndRedacts();
    void trafficPrettyPrintsJsonInsideGcm();
    void deviceModelListsEmulatorDevices();
    void exportWritesJsonLinesAndCsv();
    void profileStoreNeverStoresKeys();
    void profileStoreRefusesBadProfiles();
    void fallbackSecretStoreKeepsKeyForSession();
};

void TestUiModels::outboxModelFollowsLedger()
{
    MessageLedger ledger;
    OutboxModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setLedger(&ledger);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    for (int i = 0; i < 50; ++i)
        QVERIFY(ledger.add(message(QStringLiteral("m-%1").arg(i))) >= 0);
    // Nothing until the event loop turns; then one batch.
    QCOMPARE(model.rowCount(), 0);
    QTRY_COMPARE(model.rowCount(), 50);
    QCOMPARE(inserted.count(), 1);

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    ledger.transition(3, MessageState::InFlight, 1);
    ledger.transition(3, MessageState::Acked, 1);
    QTRY_VERIFY(changed.count() >= 1);
    QCOMPARE(model.index(3, OutboxModel::StateColumn).data().toString(), QStringLiteral("ACKed"));
    QCOMPARE(model.index(3, OutboxModel::IdColumn).data().toString(), QStringLiteral("m-3"));
    QCOMPARE(model.index(3, 0).data(OutboxModel::StateRole).toInt(), int(MessageState::Acked));

    ledger.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestUiModels::outboxModelFiltersInsideTheModel()
{
    MessageLedger ledger;
    OutboxModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setLedger(&ledger);
    for (int i = 0; i < 20; ++i)
        QVERIFY(ledger.add(message(QStringLiteral("m-%1").arg(i), i % 2 ? QStringLiteral("odd-device")
                                                                          : QStringLiteral("even-device")))
            >= 0);
    model.flush();
    QCOMPARE(model.rowCount(), 20);

    // Text: the recipient, case-insensitive; rows map to their ledger indices.
    model.setFilterText(QStringLiteral("  ODD-dev "));
    QCOMPARE(model.rowCount(), 10);
    QCOMPARE(model.announcedRecords(), 20);
    QCOMPARE(model.ledgerIndex(0), 1);
    QCOMPARE(model.index(2, OutboxModel::IdColumn).data().toString(), QStringLiteral("m-5"));
    QCOMPARE(model.index(2, 0).data(OutboxModel::LedgerIndexRole).toInt(), 5);
    QCOMPARE(model.rowForLedgerIndex(5), 2);
    QCOMPARE(model.rowForLedgerIndex(4), -1);

    // State group: a message that leaves the group leaves the rows, and comes back.
    model.setStateGroup(OutboxModel::StateGroup::Open);
    QCOMPARE(model.rowCount(), 10);
    ledger.transition(5, MessageState::InFlight, 1);
    ledger.transition(5, MessageState::Acked, 1);
    QTRY_COMPARE(model.rowCount(), 9);
    QCOMPARE(model.rowForLedgerIndex(5), -1);
    QCOMPARE(model.index(2, OutboxModel::IdColumn).data().toString(), QStringLiteral("m-7"));
    model.setStateGroup(OutboxModel::StateGroup::Delivered);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, OutboxModel::IdColumn).data().toString(), QStringLiteral("m-5"));
    ledger.transition(7, MessageState::InFlight, 1);
    ledger.transition(7, MessageState::Acked, 1);
    QTRY_COMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(1, OutboxModel::IdColumn).data().toString(), QStringLiteral("m-7"));

    // New records while filtered are filtered too; many moves at once still add up.
    for (int i = 20; i < 600; ++i)
        QVERIFY(ledger.add(message(QStringLiteral("m-%1").arg(i), QStringLiteral("odd-device"))) >= 0);
    QTRY_COMPARE(model.announcedRecords(), 600);
    QCOMPARE(model.rowCount(), 2);
    // A run of records moving in at once is one insert, not a reset of the views.
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserts(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removals(&model, &QAbstractItemModel::rowsRemoved);
    for (int i = 20; i < 600; ++i) {
        ledger.transition(i, MessageState::InFlight, 1);
        ledger.transition(i, MessageState::Acked, 1);
    }
    QTRY_COMPARE(model.rowCount(), 582);
    QCOMPARE(resets.count(), 0);
    QCOMPARE(inserts.count(), 1);
    QCOMPARE(model.index(2, OutboxModel::IdColumn).data().toString(), QStringLiteral("m-20"));
    // And a run moving out is one removal.
    for (int i = 20; i < 600; ++i)
        ledger.transition(i, MessageState::Failed, 1);
    QTRY_COMPARE(model.rowCount(), 2);
    QCOMPARE(resets.count(), 0);
    QCOMPARE(removals.count(), 1);
    QCOMPARE(model.index(1, OutboxModel::IdColumn).data().toString(), QStringLiteral("m-7"));
    // Scattered moves (every other record, hundreds of runs) are one reset, and add up too.
    model.setStateGroup(OutboxModel::StateGroup::Problems);
    QCOMPARE(model.rowCount(), 580);
    resets.clear();
    for (int i = 20; i < 600; i += 2)
        ledger.transition(i, MessageState::Acked, 1);
    QTRY_COMPARE(model.rowCount(), 290);
    QCOMPARE(resets.count(), 1);
    QCOMPARE(model.ledgerIndex(0), 21);
    QCOMPARE(model.ledgerIndex(289), 599);
    model.setStateGroup(OutboxModel::StateGroup::Delivered);
    for (int i = 21; i < 600; i += 2)
        ledger.transition(i, MessageState::Acked, 1);
    QTRY_COMPARE(model.rowCount(), 582);

    model.setFilterText({});
    model.setStateGroup(OutboxModel::StateGroup::All);
    QVERIFY(!model.isFiltered());
    QCOMPARE(model.rowCount(), 600);
    QCOMPARE(model.ledgerIndex(599), 599);
}

void TestUiModels::trafficModelFiltersWhileCapped()
{
    TrafficLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setCapacity(10);
    for (int i = 0; i < 8; ++i)
        model.append(TrafficDirection::Out, 1,
            QStringLiteral("<message id=\"%1\"><x>%2</x></message>").arg(i).arg(QLatin1String(i % 2 ? "ODD" : "even")));
    model.flush();
    model.setFilterText(QStringLiteral("odd"));
    QCOMPARE(model.rowCount(), 4); // 1, 3, 5, 7
    // Eight more: the oldest eight go, the filter keeps only the odd ones of what is left.
    for (int i = 8; i < 16; ++i)
        model.append(TrafficDirection::In, 1,
            QStringLiteral("<message id=\"%1\"><x>%2</x></message>").arg(i).arg(QLatin1String(i % 2 ? "odd" : "even")));
    QTRY_COMPARE(model.announcedRecords(), 10);
    QCOMPARE(model.droppedCount(), 6);
    QCOMPARE(model.rowCount(), 5); // 7, 9, 11, 13, 15
    QVERIFY(model.index(0, 0).data(TrafficLogModel::XmlRole).toString().contains(QStringLiteral("\"7\"")));
    QVERIFY(model.index(4, 0).data(TrafficLogModel::XmlRole).toString().contains(QStringLiteral("\"15\"")));
    model.setFilterText({});
    QCOMPARE(model.rowCount(), 10);
    QVERIFY(model.index(0, 0).data(TrafficLogModel::XmlRole).toString().contains(QStringLiteral("\"6\"")));
}

void TestUiModels::inboxModelBatchesFiltersAndCountsDuplicates()
{
    InboxModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    for (int i = 0; i < 1000; ++i)
        model.append(upstream(QStringLiteral("up-%1").arg(i),
                         i % 2 ? QStringLiteral("dev-odd") : QStringLiteral("dev-even"),
                         QStringLiteral("hello %1").arg(i)),
            1, 1000 + i, 1001 + i);
    QTRY_COMPARE(model.rowCount(), 1000);
    QCOMPARE(inserted.count(), 1); // one batch for a burst
    QCOMPARE(model.index(7, InboxModel::IdColumn).data().toString(), QStringLiteral("up-7"));
    QVERIFY(model.index(7, InboxModel::DataColumn).data().toString().contains(QStringLiteral("hello 7")));

    QVERIFY(model.markDuplicate(QStringLiteral("dev-odd"), QStringLiteral("up-7"), 2));
    QVERIFY(!model.markDuplicate(QStringLiteral("dev-odd"), QStringLiteral("nope"), 2));
    // The identity is (from, message_id): up-7 came from dev-odd only.
    QVERIFY(!model.markDuplicate(QStringLiteral("dev-even"), QStringLiteral("up-7"), 2));
    QCOMPARE(model.rowCount(), 1000); // counted, not listed again
    QCOMPARE(model.duplicateCount(), 1);
    QCOMPARE(model.index(7, InboxModel::SeenColumn).data().toInt(), 2);

    InboxModel::Filter filter;
    filter.device = QStringLiteral("dev-odd");
    model.setFilter(filter);
    QCOMPARE(model.rowCount(), 500);
    filter.text = QStringLiteral("HELLO 99");
    model.setFilter(filter);
    // hello 99, 991, 993, 995, 997, 999 among the odd ones
    QCOMPARE(model.rowCount(), 6);
    QCOMPARE(model.rowForMessageId(QStringLiteral("up-99")), 0);
    QCOMPARE(model.rowForMessageId(QStringLiteral("up-99"), QStringLiteral("dev-odd")), 0);
    QCOMPARE(model.rowForMessageId(QStringLiteral("up-99"), QStringLiteral("dev-even")), -1);

    // Rows arriving while filtered are filtered too.
    model.append(
        upstream(QStringLiteral("up-x"), QStringLiteral("dev-odd"), QStringLiteral("hello 990000")), 1, 5, 6);
    model.append(upstream(QStringLiteral("up-y"), QStringLiteral("dev-even"), QStringLiteral("hello 990000")),
        1, 5, 6);
    QTRY_COMPARE(model.rowCount(), 7);
    QCOMPARE(model.totalCount(), 1002);

    model.setFilter({});
    QCOMPARE(model.rowCount(), 1002);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.totalCount(), 0);
}

void TestUiModels::inboxModelKeepsWholeMessage()
{
    InboxModel model;
    UpstreamMessage m = upstream(QStringLiteral("up-1"), QStringLiteral("tok"), QStringLiteral("x"));
    m.timeToLive = 60;
    m.extra.insert(QStringLiteral("unknown_field"), 42);
    model.append(m, 3, 100, 105);
    model.flush();
    QCOMPARE(model.message(0), m);
    QCOMPARE(model.ackedAtMs(0), 105);
    QCOMPARE(model.connectionId(0), 3);
}

void TestUiModels::inboxModelHoldsManyRowsCompactly()
{
    // 100,000 rows arriving 2,000 per event-loop pass into a live, following view.
    InboxModel model;
    FollowingTableView view;
    view.setModel(&model);
    view.resize(800, 600);
    view.show();
    constexpr int kRows = 100000, kBurst = 2000;
    qint64 payloadBytes = 0;
    qint64 worstPassMs = 0;
    QElapsedTimer total;
    total.start();
    for (int i = 0; i < kRows; i += kBurst) {
        QElapsedTimer pass;
        pass.start();
        for (int j = i; j < i + kBurst; ++j) {
            const auto m = upstream(QStringLiteral("up-%1").arg(j), QStringLiteral("dev-%1").arg(j % 50),
                QStringLiteral("reading %1").arg(j));
            payloadBytes += m.messageId.size()
                + json::serialize(QJsonObject {{QStringLiteral("data"), m.data}}).size();
            model.append(m, 1, j, j + 1);
        }
        QCoreApplication::processEvents(); // the batch is inserted and the view scrolls
        worstPassMs = std::max(worstPassMs, pass.elapsed());
    }
    model.flush();
    QCOMPARE(model.rowCount(), kRows);
    QCOMPARE(model.index(kRows - 1, InboxModel::IdColumn).data().toString(),
        QStringLiteral("up-%1").arg(kRows - 1));
    const double overheadPerRow = double(model.approximateBytes() - payloadBytes) / kRows;
    qInfo("inbox: %d rows in %lld ms, worst pass %lld ms, %.0f bytes per row beyond the payload", kRows,
        total.elapsed(), worstPassMs, overheadPerRow);
    // Compact records: a fixed-size record, an id-hash entry and arena slack, not a heap object per field.
    QVERIFY2(overheadPerRow < 160, qPrintable(QString::number(overheadPerRow)));
    QVERIFY(view.isFollowing());
}

void TestUiModels::trafficModelCapsAndRedacts()
{
    TrafficLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setCapacity(10);
    model.setSecret(QStringLiteral("super-secret-key"));
    for (int i = 0; i < 25; ++i)
        model.append(TrafficDirection::Out, 1, QStringLiteral("<message id=\"%1\"/>").arg(i));
    QTRY_COMPARE(model.rowCount(), 10);
    QCOMPARE(model.droppedCount(), 15);
    QVERIFY(
        model.index(0, TrafficLogModel::StanzaColumn).data().toString().contains(QStringLiteral("\"15\"")));
    for (int i = 0; i < 5; ++i)
        model.append(TrafficDirection::In, 1, QStringLiteral("<message id=\"n%1\"/>").arg(i));
    QTRY_COMPARE(
        model.index(9, 0).data(TrafficLogModel::XmlRole).toString(), QStringLiteral("<message id=\"n4\"/>"));
    QCOMPARE(model.rowCount(), 10);

    const QString plain = QString::fromLatin1(QByteArray("\0"
                                                         "123456@gcm.googleapis.com\0"
                                                         "super-secret-key",
        43)
                                                  .toBase64());
    model.append(TrafficDirection::Out, 1,
        QStringLiteral("<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"PLAIN\">%1</auth>")
            .arg(plain));
    model.append(TrafficDirection::Out, 1, QStringLiteral("<x>super-secret-key</x>"));
    model.flush();
    for (int row = 0; row < model.rowCount(); ++row) {
        const QString xml = model.index(row, 0).data(TrafficLogModel::XmlRole).toString();
        QVERIFY2(!xml.contains(QStringLiteral("super-secret-key")), qPrintable(xml));
        QVERIFY2(!xml.contains(plain), qPrintable(xml));
    }
    QVERIFY(
        model.index(9, 0).data(TrafficLogModel::XmlRole).toString().contains(QStringLiteral("[redacted]")));
}

void TestUiModels::trafficPrettyPrintsJsonInsideGcm()
{
    const QString xml = QStringLiteral(
        "<message id=\"a\"><gcm "
        "xmlns=\"google:mobile:data\">{\"to\":\"t\",\"data\":{\"k\":\"&lt;v&gt;\"}}</gcm></message>");
    const QString pretty = TrafficLogModel::prettyPrint(xml);
    QVERIFY2(pretty.contains(QStringLiteral("\n")), qPrintable(pretty));
    QVERIFY2(pretty.contains(QStringLiteral("\"to\": \"t\"")), qPrintable(pretty));
    QVERIFY2(pretty.contains(QStringLiteral("&lt;v>")) || pretty.contains(QStringLiteral("&lt;v&gt;")),
        qPrintable(pretty));
    // A fragment that is not a document comes back as it was.
    QCOMPARE(
        TrafficLogModel::prettyPrint(QStringLiteral("<stream:stream>")), QStringLiteral("<stream:stream>"));
}

void TestUiModels::deviceModelListsEmulatorDevices()
{
    test::TestEmulator emulator;
    QVERIFY2(emulator.isRunning(), qPrintable(emulator.error()));
    DeviceModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setServer(emulator.server());
    QCOMPARE(model.rowCount(), emulator.server()->devices().size());
    QVERIFY(model.rowCount() > 0);
    const QString token = model.index(0, 0).data(DeviceModel::TokenRole).toString();
    QCOMPARE(token, emulator.server()->devices().first().spec.token);
    emulator::DeviceSpec extra;
    extra.token = QStringLiteral("dev-added");
    extra.name = QStringLiteral("Added");
    QVERIFY(emulator.server()->addDevice(extra));
    model.refresh();
    QCOMPARE(model.rowCount(), emulator.server()->devices().size());
    model.setServer(nullptr);
    QCOMPARE(model.rowCount(), 0);
}

void TestUiModels::exportWritesJsonLinesAndCsv()
{
    QTemporaryDir dir;
    MessageLedger ledger;
    DownstreamMessage m = message(QStringLiteral("m-1"));
    m.data = QJsonObject {{QStringLiteral("text"), QStringLiteral("comma, \"quote\"\nnewline")}};
    ledger.add(m);
    ledger.transition(0, MessageState::InFlight, 1);
    ledger.transition(0, MessageState::Nacked, 1, QStringLiteral("BAD_REGISTRATION"));

    const QString jsonl = dir.filePath(QStringLiteral("out.jsonl"));
    storage::HistoryWriter writer;
    QString error;
    QVERIFY(writer.open(jsonl, storage::exportFormatForPath(jsonl), storage::ledgerCsvColumns(), &error));
    writer.write(storage::ledgerEntryToJson(ledger.at(0)));
    QVERIFY2(writer.commit(&error), qPrintable(error));
    QFile file(jsonl);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().split('\n');
    QCOMPARE(lines.size(), 2); // one object, then the final newline
    const QJsonObject row = QJsonDocument::fromJson(lines.first()).object();
    QCOMPARE(row.value(QStringLiteral("message_id")).toString(), QStringLiteral("m-1"));
    QCOMPARE(row.value(QStringLiteral("history")).toArray().size(), 3);
    QCOMPARE(row.value(QStringLiteral("message")).toObject(), m.toJson());

    const QString csv = dir.filePath(QStringLiteral("in.csv"));
    QCOMPARE(storage::exportFormatForPath(csv), storage::ExportFormat::Csv);
    storage::HistoryWriter csvWriter;
    QVERIFY(csvWriter.open(csv, storage::ExportFormat::Csv, storage::upstreamCsvColumns(), &error));
    csvWriter.write(storage::upstreamToJson(
        upstream(QStringLiteral("u,1"), QStringLiteral("tok"), QStringLiteral("a \"b\"")), 1000, 1001, 2, 1));
    QVERIFY(csvWriter.commit(&error));
    QFile csvFile(csv);
    QVERIFY(csvFile.open(QIODevice::ReadOnly));
    const QByteArray text = csvFile.readAll();
    QVERIFY(text.startsWith("received_at,acked_at,from,category,message_id,connection,times_seen,data\r\n"));
    QVERIFY2(text.contains(",\"u,1\",2,1,\"{\"\"text\"\":\"\"a \\\"\"b\\\"\"\"\"}\"\r\n"), text.constData());

    // A path that cannot be written: a clear error, nothing half-written.
    storage::HistoryWriter bad;
    QVERIFY(
        !bad.open(dir.filePath(QStringLiteral("missing/dir/x.csv")), storage::ExportFormat::Csv, {}, &error));
    QVERIFY(error.contains(QStringLiteral("Cannot write")));
}

void TestUiModels::profileStoreNeverStoresKeys()
{
    QTemporaryDir dir;
    const QString ini = dir.filePath(QStringLiteral("profiles.ini"));
    storage::ProfileStore store(ini);
    const QStringList names = store.names();
    QCOMPARE(names.mid(0, 3),
        (QStringList {QStringLiteral("Local emulator"), QStringLiteral("GCM production"),
            QStringLiteral("GCM pre-production")}));
    QCOMPARE(store.profile(QStringLiteral("GCM production"))->port, quint16(5235));
    QCOMPARE(store.profile(QStringLiteral("GCM pre-production"))->host,
        QStringLiteral("gcm-preprod.googleapis.com"));
    QCOMPARE(store.profile(QStringLiteral("GCM pre-production"))->port, quint16(5236));
    QCOMPARE(store.lastProfile(), QStringLiteral("Local emulator"));

    storage::Profile p;
    p.name = QStringLiteral("Staging/EU");
    p.host = QStringLiteral("ccs.example.com");
    p.port = 5236;
    p.senderId = QStringLiteral("1234");
    QSignalSpy changed(&store, &storage::ProfileStore::profilesChanged);
    QString error;
    QVERIFY2(store.save(p, &error), qPrintable(error));
    QCOMPARE(changed.count(), 1);
    store.setLastProfile(p.name);

    storage::ProfileStore reopened(ini);
    const auto loaded = reopened.profile(p.name);
    QVERIFY(loaded);
    QCOMPARE(loaded->host, p.host);
    QCOMPARE(loaded->senderId, p.senderId);
    QCOMPARE(reopened.lastProfile(), p.name);
    // A key entered with a profile (the Profiles dialog, as a user does) goes to the
    // secret store; the settings file gets the profile and not the key.
    const QString key = QStringLiteral("profile-key-4d9b2e7a61f0");
    storage::MemorySecretStore secrets;
    {
        ui::ProfileDialog dialog(&reopened, &secrets);
        dialog.selectProfile(p.name);
        auto *apiKey = dialog.findChild<QLineEdit *>(QStringLiteral("profileApiKey"));
        QVERIFY(apiKey);
        QTest::keyClicks(apiKey, key);
        QSignalSpy saved(&dialog, &ui::ProfileDialog::keySaved);
        QVERIFY(dialog.saveCurrent());
        QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 1, 5000);
    }
    std::optional<storage::SecretResult> stored;
    secrets.readKey(p.name, this, [&](const storage::SecretResult &r) { stored = r; });
    QTRY_VERIFY(stored.has_value());
    QCOMPARE(stored->secret, key); // the key was handed over...
    QFile file(ini);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray raw = file.readAll();
    QVERIFY(raw.contains("ccs.example.com")); // ...the profile is in the file...
    QVERIFY(!raw.contains(key.toUtf8())); // ...and the key is not, in any form
    QVERIFY(!raw.contains(key.toUtf8().toBase64()));
    QVERIFY(!raw.contains(key.toUtf8().toHex()));
    const QByteArray text = raw.toLower();
    QVERIFY(!text.contains("apikey") && !text.contains("api_key") && !text.contains("password"));

    ConnectionSettings settings;
    QVERIFY(loaded->toConnectionSettings(&settings, &error));
    QCOMPARE(settings.port, quint16(5236));
    QVERIFY(settings.apiKey.isEmpty());
    QVERIFY(settings.pinnedCertificates.isEmpty());

    QVERIFY(reopened.remove(p.name, &error));
    QVERIFY(!reopened.profile(p.name));
}

void TestUiModels::profileStoreRefusesBadProfiles()
{
    QTemporaryDir dir;
    storage::ProfileStore store(dir.filePath(QStringLiteral("p.ini")));
    QString error;
    storage::Profile p;
    QVERIFY(!store.save(p, &error));
    QVERIFY(error.contains(QStringLiteral("name")));
    p.name = QStringLiteral("gcm production");
    QVERIFY(!store.save(p, &error));
    QVERIFY(error.contains(QStringLiteral("built-in")));
    QVERIFY(!store.remove(QStringLiteral("Local emulator"), &error));
    p.name = QStringLiteral("Pinned");
    p.trust = storage::TrustMode::PinnedCertificate;
    QVERIFY(!store.save(p, &error));
    p.pinnedCertificatePath = dir.filePath(QStringLiteral("missing.pem"));
    QVERIFY(store.save(p, &error));
    ConnectionSettings settings;
    QVERIFY(!store.profile(QStringLiteral("Pinned"))->toConnectionSettings(&settings, &error));
    QVERIFY2(error.contains(QStringLiteral("missing.pem")), qPrintable(error));

    test::TestEmulator emulator;
    p.pinnedCertificatePath = emulator.certificatePemPath();
    QVERIFY(store.save(p, &error));
    QVERIFY2(
        store.profile(QStringLiteral("Pinned"))->toConnectionSettings(&settings, &error), qPrintable(error));
    QCOMPARE(settings.pinnedCertificates, QList<QSslCertificate> {emulator.certificate()});
}

void TestUiModels::fallbackSecretStoreKeepsKeyForSession()
{
    auto primary = std::make_unique<storage::MemorySecretStore>();
    primary->setSimulateUnavailable(true); // as a headless machine without Secret Service
    storage::FallbackSecretStore store(std::move(primary));
    QSignalSpy fellBack(&store, &storage::SecretStore::fellBackToMemory);
    // Nothing has asked the keychain yet: no fallback, nothing said.
    QVERIFY(!store.hasFallenBack());
    QVERIFY(store.fallbackReason().isEmpty());
    QCOMPARE(fellBack.count(), 0);

    std::optional<storage::SecretResult> read;
    store.readKey(QStringLiteral("p"), this, [&](const storage::SecretResult &r) { read = r; });
    QTRY_VERIFY(read.has_value());
    QCOMPARE(read->status, storage::SecretResult::Status::Unavailable);
    QCOMPARE(fellBack.count(), 1);
    QVERIFY(store.hasFallenBack()); // the first unanswered call made it fall back
    QVERIFY(!store.fallbackReason().isEmpty());

    std::optional<storage::SecretResult> written;
    store.writeKey(QStringLiteral("p"), QStringLiteral("k-123"), this,
        [&](const storage::SecretResult &r) { written = r; });
    QTRY_VERIFY(written.has_value());
    QVERIFY(written->ok());
    QVERIFY(written->sessionOnly);
    QVERIFY(written->error.contains(QStringLiteral("session only")));
    QVERIFY(!written->error.contains(QStringLiteral("k-123")));
    QVERIFY(!store.isPersistent());

    read.reset();
    store.readKey(QStringLiteral("p"), this, [&](const storage::SecretResult &r) { read = r; });
    QTRY_VERIFY(read.has_value());
    QVERIFY(read->ok());
    QCOMPARE(read->secret, QStringLiteral("k-123"));

    // A callback whose context is gone is not called.
    bool called = false;
    {
        QObject context;
        store.readKey(QStringLiteral("p"), &context, [&](const storage::SecretResult &) { called = true; });
    }
    QTest::qWait(20);
    QVERIFY(!called);
}

QTEST_MAIN(TestUiModels)
#include "tst_uimodels.moc"
