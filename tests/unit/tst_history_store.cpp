// The SQLite history: schema, refusal of newer and damaged files, the writer's
// batches, search filters and paging, upstream identity, retention.
#include "client/MessageLedger.h"
#include "history/HistoryDatabase.h"
#include "history/HistoryRecorder.h"
#include "history/HistoryStore.h"
#include "history/HistoryWriter.h"
#include "protocol/JsonCodec.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace ccs;
using namespace ccs::history;

namespace {

QByteArray fileDigest(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
}

DownstreamMessage message(const QString &to, const QString &id, const QJsonObject &data)
{
    DownstreamMessage m;
    m.to = to;
    m.messageId = id;
    m.data = data;
    return m;
}

UpstreamMessage upstream(const QString &from, const QString &id, const QString &text)
{
    UpstreamMessage m;
    m.from = from;
    m.messageId = id;
    m.category = QStringLiteral("com.example");
    m.data = QJsonObject {{QStringLiteral("text"), text}};
    return m;
}

QStringList ids(const QVector<HistoryRow> &rows)
{
    QStringList list;
    for (const HistoryRow &row : rows)
        list << row.messageId;
    return list;
}

} // namespace

class TestHistoryStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void createsVersionedWalDatabase()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sub/p.sqlite"));
        HistoryStore store;
        QVERIFY2(store.open(path).ok(), qPrintable(store.lastError()));
        QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("look"));
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version")) && q.next());
            QCOMPARE(q.value(0).toInt(), kSchemaVersion);
            QVERIFY(q.exec(QStringLiteral("PRAGMA journal_mode")) && q.next());
            QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
        }
        QSqlDatabase::removeDatabase(QStringLiteral("look"));
        store.close();
        // Opening again keeps the data and migrates nothing.
        QVERIFY(store.open(path).ok());
    }

    void migratesSchema1AndIndexesEveryBatch()
    {
        // A schema-1 file (full-text indexing by per-row triggers) is migrated to 2 (the writer
        // indexes each batch at once); rows from before and after are found by their words,
        // and the full-text index matches the rows exactly.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("v1.sqlite"));
        auto write = [&](const QString &id, const QString &word) {
            HistoryWriter writer;
            QVERIFY(writer.open(path, {QStringLiteral("test"), {}, 0, {}}).ok());
            MessageLedger ledger;
            HistoryRecorder recorder(&writer);
            recorder.attachLedger(&ledger);
            const int index = ledger.add(message(QStringLiteral("dev"), id, {{QStringLiteral("w"), word}}));
            ledger.transition(index, MessageState::InFlight, 1);
            writer.flush();
            ledger.transition(index, MessageState::Acked, 1); // an update in a later batch
            writer.append(UpstreamRecord {upstream(QStringLiteral("dev"), id, word + QStringLiteral(" up")), 1, 1000, 1000});
        };
        write(QStringLiteral("old"), QStringLiteral("before"));
        {
            // Back to schema 1 as it was: the per-row triggers, user_version 1.
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1"));
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("CREATE TRIGGER downstream_fts_insert AFTER INSERT ON downstream BEGIN"
                                          " INSERT INTO downstream_fts (rowid, payload) VALUES (new.id, new.payload); END")));
            QVERIFY(q.exec(QStringLiteral("CREATE TRIGGER upstream_fts_insert AFTER INSERT ON upstream BEGIN"
                                          " INSERT INTO upstream_fts (rowid, payload) VALUES (new.id, new.payload); END")));
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version=1")));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("v1"));
        {
            HistoryStore reader; // a reader reads schema 1 as it is
            QVERIFY(reader.open(path, true).ok());
        }
        write(QStringLiteral("new"), QStringLiteral("after"));
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v2"));
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version")) && q.next());
            QCOMPARE(q.value(0).toInt(), kSchemaVersion);
            QVERIFY(q.exec(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_insert'"))
                && q.next());
            QCOMPARE(q.value(0).toInt(), 0);
            // FTS5's own check: the index holds exactly the rows' words.
            QVERIFY2(q.exec(QStringLiteral("INSERT INTO downstream_fts (downstream_fts) VALUES ('integrity-check')")),
                qPrintable(q.lastError().text()));
            QVERIFY2(q.exec(QStringLiteral("INSERT INTO upstream_fts (upstream_fts) VALUES ('integrity-check')")),
                qPrintable(q.lastError().text()));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("v2"));
        HistoryStore store;
        QVERIFY(store.open(path, true).ok());
        QVector<HistoryRow> rows;
        HistoryQuery q;
        for (const QString &word : {QStringLiteral("before"), QStringLiteral("after")}) {
            q.text = word;
            QVERIFY(store.search(q, &rows));
            QCOMPARE(rows.size(), 2); // the message and the device's answer
        }
        q.text = QStringLiteral("up");
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.size(), 2);
    }

    void refusesNewerSchemaAndLeavesItUntouched()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("newer.sqlite"));
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("newer"));
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("CREATE TABLE future (x)")));
            QVERIFY(q.exec(QStringLiteral("INSERT INTO future VALUES ('kept')")));
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version=%1").arg(kSchemaVersion + 1)));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("newer"));
        const QByteArray before = fileDigest(path);
        HistoryStore store;
        const OpenResult result = store.open(path);
        QCOMPARE(result.status, OpenStatus::NewerSchema);
        QVERIFY2(result.error.contains(QLatin1String("newer version")), qPrintable(result.error));
        QVERIFY(result.error.contains(QLatin1String("untouched")));
        QVERIFY(!store.isOpen());
        HistoryWriter writer;
        QCOMPARE(writer.open(path, {}).status, OpenStatus::NewerSchema);
        QCOMPARE(fileDigest(path), before);
        QVERIFY(!QFile::exists(path + QStringLiteral("-wal")));
    }

    void refusesDamagedFileAndLeavesItUntouched()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("damaged.sqlite"));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            QByteArray junk(8192, 'x');
            junk.prepend("this is not an SQLite file");
            file.write(junk);
        }
        const QByteArray before = fileDigest(path);
        HistoryStore store;
        const OpenResult result = store.open(path);
        QCOMPARE(result.status, OpenStatus::NotADatabase);
        QVERIFY2(result.error.contains(QLatin1String("damaged")), qPrintable(result.error));
        QCOMPARE(fileDigest(path), before);
        QVERIFY(!QFile::exists(path + QStringLiteral("-wal")));
    }

    void refusesLockedFileAndLeavesItUntouched()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("locked.sqlite"));
        {
            HistoryStore store;
            QVERIFY(store.open(path).ok());
        }
        const QByteArray before = fileDigest(path);
        {
            // Another program holds the file exclusively.
            QSqlDatabase holder
                = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("holder"));
            holder.setDatabaseName(path);
            QVERIFY(holder.open());
            QSqlQuery q(holder);
            QVERIFY(q.exec(QStringLiteral("PRAGMA locking_mode=EXCLUSIVE")));
            QVERIFY(q.exec(QStringLiteral("BEGIN EXCLUSIVE")));
            QVERIFY(q.exec(QStringLiteral("SELECT count(*) FROM session")));
            HistoryStore store;
            QElapsedTimer opening;
            opening.start();
            const OpenResult result = store.open(path); // a short wait for the lock, not 5 s
            QVERIFY2(opening.elapsed() < 2500, qPrintable(QString::number(opening.elapsed())));
            QCOMPARE(result.status, OpenStatus::Locked);
            QVERIFY2(result.error.contains(QLatin1String("locked")), qPrintable(result.error));
            QVERIFY(q.exec(QStringLiteral("ROLLBACK")));
            q.finish();
            holder.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("holder"));
        QCOMPARE(fileDigest(path), before);
        HistoryStore store;
        QVERIFY(store.open(path).ok());
    }

    void refusesUnreadableFile()
    {
        if (::geteuid() == 0)
            QSKIP("root reads every file");
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("closed.sqlite"));
        {
            HistoryStore store;
            QVERIFY(store.open(path).ok());
        }
        QFile::setPermissions(path, QFileDevice::Permissions());
        HistoryStore store;
        QCOMPARE(store.open(path).status, OpenStatus::Unreadable);
        QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    }

    void inMemoryHistoryIsSharedByWriterAndReader()
    {
        // The fallback for a file that cannot be used: nothing on disk, the writer's thread
        // and the reader see the same history, and two of them are separate.
        const QString path = newInMemoryPath();
        QVERIFY(isInMemoryPath(path));
        QVERIFY(path != newInMemoryPath());
        HistoryWriter writer;
        QVERIFY(writer.open(path, {QStringLiteral("test"), {}, 0, {}}).ok());
        MessageLedger ledger;
        HistoryRecorder recorder(&writer);
        recorder.attachLedger(&ledger);
        for (int i = 0; i < 50; ++i) {
            const int index = ledger.add(message(QStringLiteral("dev-%1").arg(i % 5), QStringLiteral("m-%1").arg(i),
                {{QStringLiteral("text"), i == 17 ? QStringLiteral("needle") : QStringLiteral("hay")}}));
            ledger.transition(index, MessageState::InFlight, 1);
        }
        writer.flush();
        HistoryStore store;
        QVERIFY2(store.open(path).ok(), qPrintable(store.lastError()));
        QVector<HistoryRow> rows;
        HistoryQuery q;
        q.text = QStringLiteral("needle");
        QVERIFY(store.search(q, &rows));
        QCOMPARE(ids(rows), QStringList {QStringLiteral("m-17")});
        // Written while the reader is open, found by it.
        ledger.transition(17, MessageState::Acked, 1);
        writer.flush();
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.first().state, QStringLiteral("Acked"));
        QCOMPARE(store.stats().downstream, 50);
        QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));

        HistoryStore other;
        QVERIFY(other.open(newInMemoryPath()).ok());
        QCOMPARE(other.stats().downstream, 0);
    }

    void writerRecordsLedgerAndSearchFinds()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("h.sqlite"));
        HistoryWriter writer;
        QVERIFY(
            writer.open(path, {QStringLiteral("test"), QStringLiteral("h"), 1, QStringLiteral("42")}).ok());
        MessageLedger ledger;
        HistoryRecorder recorder(&writer);
        recorder.attachLedger(&ledger);

        const int a = ledger.add(message(QStringLiteral("dev-1"), QStringLiteral("m-1"),
            {{QStringLiteral("greeting"), QStringLiteral("hello world")}}));
        const int b = ledger.add(message(QStringLiteral("dev-2"), QStringLiteral("m-2"),
            {{QStringLiteral("greeting"), QStringLiteral("good night")}}));
        const int c = ledger.add(message(QStringLiteral("dev-1"), QStringLiteral("m-3"),
            {{QStringLiteral("other"), QStringLiteral("hello moon")}}));
        ledger.transition(a, MessageState::InFlight, 1);
        ledger.transition(a, MessageState::Acked, 1);
        ledger.transition(b, MessageState::InFlight, 2);
        ledger.entryForUpdate(b).nackText = QStringLiteral("DEVICE_UNREGISTERED");
        ledger.transition(b, MessageState::Nacked, 2, QStringLiteral("DEVICE_UNREGISTERED"));
        writer.flush();
        // A later batch updates the row written by an earlier one.
        ledger.transition(c, MessageState::InFlight, 2);
        ledger.transition(a, MessageState::Delivered, 1);
        // Two devices choose the same upstream id: two messages.
        writer.append(UpstreamRecord {
            upstream(QStringLiteral("dev-1"), QStringLiteral("1"), QStringLiteral("hello up")), 1, 1000,
            1000});
        writer.append(UpstreamRecord {
            upstream(QStringLiteral("dev-2"), QStringLiteral("1"), QStringLiteral("other")), 1, 1001, 1001});
        writer.append(DuplicateRecord {QStringLiteral("dev-1"), QStringLiteral("1"), 2});
        writer.append(ReceiptRecord {
            Receipt::make(QStringLiteral("m-1"), QStringLiteral("dev-1"), QStringLiteral("com.example")), 1,
            1002});
        writer.append(ConnectionEventRecord {1003, 1, QStringLiteral("Connected"), {}, {}});
        writer.flush();
        QVERIFY(writer.committedRecords() > 0);

        HistoryStore store;
        QVERIFY2(store.open(path, true).ok(), qPrintable(store.lastError()));
        QVector<HistoryRow> rows;
        HistoryQuery q;
        q.upstream = q.receipts = false;
        QVERIFY(store.search(q, &rows));
        QCOMPARE(
            ids(rows), (QStringList {QStringLiteral("m-3"), QStringLiteral("m-2"), QStringLiteral("m-1")}));
        QCOMPARE(rows.last().state, QStringLiteral("Delivered"));
        QVERIFY(rows.last().historyJson.contains(QLatin1String("Acked")));
        QVERIFY(rows.last().json.contains(QLatin1String("hello world")));

        q.state = QStringLiteral("nacked");
        QVERIFY(store.search(q, &rows));
        QCOMPARE(ids(rows), QStringList {QStringLiteral("m-2")});
        q = {};
        q.nackCode = QStringLiteral("DEVICE_UNREGISTERED");
        QVERIFY(store.search(q, &rows));
        QCOMPARE(ids(rows), QStringList {QStringLiteral("m-2")});
        QCOMPARE(rows.first().nackCode, QStringLiteral("DEVICE_UNREGISTERED"));

        q = {};
        q.text = QStringLiteral("hello");
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.size(), 3); // m-1, m-3 and dev-1's upstream "hello up"
        q.text = QStringLiteral("hello world");
        QVERIFY(store.search(q, &rows));
        QCOMPARE(ids(rows), QStringList {QStringLiteral("m-1")});
        q.text = QStringLiteral("\"unbalanced AND (");
        QVERIFY(store.search(q, &rows)); // words only: no FTS syntax error
        QCOMPARE(rows.size(), 0);

        // The per-device view: everything to and from dev-1.
        q = {};
        q.token = QStringLiteral("dev-1");
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.size(), 4); // m-1, m-3, upstream 1, the receipt
        q = {};
        q.messageId = QStringLiteral("1");
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.size(), 2); // the same id from two devices
        for (const HistoryRow &row : rows)
            if (row.token == QLatin1String("dev-1"))
                QCOMPARE(row.timesSeen, 2);
        q.messageId = QStringLiteral("m-1");
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.size(), 2); // the message and its receipt
        q = {};
        q.connection = 2;
        q.upstream = q.receipts = false;
        QVERIFY(store.search(q, &rows));
        QCOMPARE(ids(rows), (QStringList {QStringLiteral("m-3"), QStringLiteral("m-2")}));
        q = {};
        q.untilMs = 1002; // upstream at 1000 and 1001 only
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.size(), 2);
        q = {};
        q.sinceMs = 1001;
        q.untilMs = 1002;
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.size(), 1);

        const HistoryStats stats = store.stats();
        QCOMPARE(stats.downstream, 3);
        QCOMPARE(stats.upstream, 2);
        QCOMPARE(stats.receipts, 1);
        QCOMPARE(stats.connectionEvents, 1);
        QVERIFY(stats.fileBytes > 0);
    }

    void batchesOfManyNewMessagesKeepEveryRow()
    {
        // New messages are inserted by statements of many rows; a message id the session has
        // already stored (the ledger was cleared and the id used again) is one row, with its
        // latest state, and the rest of its statement's rows are stored all the same.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("many.sqlite"));
        HistoryWriter writer;
        QVERIFY(writer.open(path, {QStringLiteral("test"), {}, 0, {}}).ok());
        MessageLedger ledger;
        HistoryRecorder recorder(&writer);
        recorder.attachLedger(&ledger);
        QStringList expected;
        const auto send = [&](const QString &id, const QString &word, MessageState state) {
            DownstreamMessage m = message(QStringLiteral("dev-%1").arg(expected.size() % 7), id,
                {{QStringLiteral("w"), word}, {QStringLiteral("escaped"), QStringLiteral("\"q\" \\ é")}});
            m.timeToLive = 60;
            const int index = ledger.add(m);
            ledger.transition(index, MessageState::InFlight, 1);
            ledger.transition(index, state, 1, state == MessageState::Nacked ? QStringLiteral("BAD \"x\"") : QString());
            if (!expected.contains(id))
                expected << id;
        };
        for (int i = 0; i < 150; ++i) // two statements of 64 rows and 22 single rows
            send(QStringLiteral("m-%1").arg(i), QStringLiteral("first%1").arg(i), MessageState::Acked);
        writer.flush();
        ledger.clear();
        for (int i = 150; i < 250; ++i) // m-5 again, inside the first statement of 64
            send(i == 160 ? QStringLiteral("m-5") : QStringLiteral("m-%1").arg(i),
                QStringLiteral("second%1").arg(i), i == 160 ? MessageState::Nacked : MessageState::Acked);
        writer.flush();
        QCOMPARE(writer.committedRecords(), qint64(250 * 3));

        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("many"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        {
            QSqlQuery q(db);
            // One row per message, in the order they were queued.
            QVERIFY(q.exec(QStringLiteral("SELECT message_id FROM downstream ORDER BY id")));
            QStringList stored;
            while (q.next())
                stored << q.value(0).toString();
            QCOMPARE(stored, expected);
            QVERIFY(q.exec(QStringLiteral("SELECT state, history, request, payload, to_token FROM downstream"
                                          " WHERE message_id = 'm-5'"))
                && q.next());
            QCOMPARE(q.value(0).toString(), QStringLiteral("Nacked"));
            QVERIFY2(q.value(1).toString().endsWith(QStringLiteral(
                         "{\"state\":\"Nacked\",\"at_ms\":%1,\"connection\":1,\"detail\":\"BAD \\\"x\\\"\"}]")
                                                        .arg(ledger.at(10).history.last().atMs)),
                qPrintable(q.value(1).toString()));
            QVERIFY(q.value(3).toString().contains(QStringLiteral("first5"))); // the request of the first
            // Every row holds the request as it goes on the wire, and what search looks in.
            QVERIFY(q.exec(QStringLiteral("SELECT request, payload, state, sent_ms > 0, queued_ms > 0 FROM downstream"
                                          " WHERE message_id = 'm-200'"))
                && q.next());
            const LedgerEntry &e = ledger.at(50);
            QCOMPARE(e.message.messageId, QStringLiteral("m-200"));
            QCOMPARE(q.value(0).toByteArray(), json::serialize(e.message.toJson()));
            QCOMPARE(q.value(1).toByteArray(), json::serialize(*e.message.data));
            QCOMPARE(q.value(2).toString(), QStringLiteral("Acked"));
            QVERIFY(q.value(3).toBool() && q.value(4).toBool());
            QVERIFY2(q.exec(QStringLiteral("INSERT INTO downstream_fts (downstream_fts) VALUES ('integrity-check')")),
                qPrintable(q.lastError().text()));
        }
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("many"));
        HistoryStore store;
        QVERIFY(store.open(path, true).ok());
        QVector<HistoryRow> rows;
        HistoryQuery q;
        for (const QString &word : {QStringLiteral("first3"), QStringLiteral("first100"),
                 QStringLiteral("second170"), QStringLiteral("second249")}) {
            q.text = word;
            QVERIFY(store.search(q, &rows));
            QCOMPARE(rows.size(), 1);
        }
        q.text = QStringLiteral("second160"); // m-5's second request: its row kept the first
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.size(), 0);
    }

    void pagesWithoutGapsOrRepeats()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("p.sqlite"));
        HistoryWriter writer;
        QVERIFY(writer.open(path, {}).ok());
        MessageLedger ledger;
        HistoryRecorder recorder(&writer);
        recorder.attachLedger(&ledger);
        for (int i = 0; i < 250; ++i)
            ledger.add(
                message(QStringLiteral("dev"), QStringLiteral("m-%1").arg(i), {{QStringLiteral("n"), i}}));
        for (int i = 0; i < 120; ++i) // many at the same millisecond
            writer.append(UpstreamRecord {
                upstream(QStringLiteral("dev"), QString::number(i), QStringLiteral("x")), 0, 5000, 5000});
        writer.flush();
        HistoryStore store;
        QVERIFY(store.open(path).ok());
        HistoryQuery q;
        q.limit = 37;
        QSet<QString> seen;
        int pages = 0;
        QVector<HistoryRow> rows;
        for (;;) {
            QVERIFY(store.search(q, &rows));
            if (rows.isEmpty())
                break;
            ++pages;
            for (const HistoryRow &row : rows) {
                const QString key = rowKindName(row.kind) + row.messageId;
                QVERIFY2(!seen.contains(key), qPrintable(key));
                seen.insert(key);
            }
            q.after = HistoryStore::cursorAfter(rows.last());
        }
        QCOMPARE(seen.size(), 370);
        QCOMPARE(pages, (370 + 36) / 37);
    }

    void retentionAndDelete()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("r.sqlite"));
        HistoryWriter writer;
        QVERIFY(writer.open(path, {}).ok());
        MessageLedger ledger;
        HistoryRecorder recorder(&writer);
        recorder.attachLedger(&ledger);
        for (int i = 0; i < 50; ++i)
            ledger.add(message(QStringLiteral("dev"), QStringLiteral("m-%1").arg(i),
                {{QStringLiteral("word"), QStringLiteral("findme")}}));
        // Old upstream traffic (1970): dropped by a day's retention.
        writer.append(UpstreamRecord {
            upstream(QStringLiteral("dev"), QStringLiteral("1"), QStringLiteral("old")), 0, 1000, 1000});
        writer.flush();
        HistoryStore store;
        QVERIFY(store.open(path).ok());
        QCOMPARE(store.applyRetention(1, 0), 1);
        QCOMPARE(store.stats().upstream, 0);
        QCOMPARE(store.applyRetention(0, 20), 30);
        QCOMPARE(store.stats().downstream, 20);
        QVector<HistoryRow> rows;
        HistoryQuery q;
        q.text = QStringLiteral("findme");
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.size(), 20); // the full-text index follows deletions
        QCOMPARE(rows.last().messageId, QStringLiteral("m-30"));
        QVERIFY(store.deleteAll());
        QCOMPARE(store.stats().downstream, 0);
        QVERIFY(store.search(q, &rows));
        QCOMPARE(rows.size(), 0);
        // The writer keeps writing into the emptied file.
        ledger.add(message(QStringLiteral("dev"), QStringLiteral("after"), {}));
        writer.flush();
        QCOMPARE(store.stats().downstream, 1);
    }

    void profileFileNames()
    {
        QCOMPARE(
            fileNameForProfile(QStringLiteral("Local emulator")), QStringLiteral("Local_emulator.sqlite"));
        QCOMPARE(fileNameForProfile(QStringLiteral("a/b")), QStringLiteral("a%2Fb.sqlite"));
        QCOMPARE(fileNameForProfile(QStringLiteral("a_b")), QStringLiteral("a%5Fb.sqlite"));
        QVERIFY(databasePathForProfile(QStringLiteral("x"))
                    .endsWith(QLatin1String("/ccs-admin/history/x.sqlite")));
    }
};

QTEST_GUILESS_MAIN(TestHistoryStore)
#include "tst_history_store.moc"
