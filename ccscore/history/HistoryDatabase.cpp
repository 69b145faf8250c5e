#include "HistorySql_p.h"

#include <QDir>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QUuid>
#include <QVariant>

namespace ccs::history {

namespace {

// How long SQLite waits for another connection's lock: while opening (then a lock held
// longer is another program's, reported as Locked), and once open.
constexpr int kOpenBusyTimeoutMs = 250;
constexpr int kBusyTimeoutMs = 5000;

// Each migration takes the schema from version i to i + 1 inside one transaction.
const char *const kMigrationV1[] = {
    "CREATE TABLE session ("
    " id INTEGER PRIMARY KEY, started_ms INTEGER NOT NULL, program TEXT, host TEXT, port INTEGER,"
    " sender_id TEXT)",
    // One row per downstream message of a session; its state history as a JSON array,
    // rewritten in place as the message moves (one write per message per batch).
    "CREATE TABLE downstream ("
    " id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, message_id TEXT NOT NULL,"
    " to_token TEXT NOT NULL, request TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '',"
    " state TEXT NOT NULL, history TEXT NOT NULL DEFAULT '[]', attempts INTEGER NOT NULL DEFAULT 0,"
    " retries INTEGER NOT NULL DEFAULT 0, connection INTEGER NOT NULL DEFAULT 0, nack_code TEXT,"
    " error_description TEXT, queued_ms INTEGER NOT NULL, sent_ms INTEGER, acked_ms INTEGER,"
    " delivered_ms INTEGER, receipt_id TEXT)",
    // Message ids are unique within a session; this index also finds an id across sessions.
    "CREATE UNIQUE INDEX downstream_message ON downstream (message_id, session_id)",
    "CREATE INDEX downstream_time ON downstream (queued_ms)",
    "CREATE INDEX downstream_to ON downstream (to_token, queued_ms)",
    "CREATE INDEX downstream_state ON downstream (state, queued_ms)",
    "CREATE INDEX downstream_nack ON downstream (nack_code, queued_ms) WHERE nack_code IS NOT NULL",
    // Upstream messages: identity is (from_token, message_id); devices choose their own ids.
    "CREATE TABLE upstream ("
    " id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, from_token TEXT NOT NULL,"
    " message_id TEXT NOT NULL, category TEXT, payload TEXT NOT NULL DEFAULT '', message TEXT NOT NULL,"
    " connection INTEGER NOT NULL DEFAULT 0, received_ms INTEGER NOT NULL, ack_sent_ms INTEGER,"
    " times_seen INTEGER NOT NULL DEFAULT 1)",
    "CREATE UNIQUE INDEX upstream_message ON upstream (message_id, from_token, session_id)",
    "CREATE INDEX upstream_time ON upstream (received_ms)",
    "CREATE INDEX upstream_from ON upstream (from_token, received_ms)",
    // Receipts by their own dr2: id.
    "CREATE TABLE receipt ("
    " id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, receipt_id TEXT NOT NULL,"
    " original_message_id TEXT, device_token TEXT, status TEXT, category TEXT, message TEXT NOT NULL,"
    " connection INTEGER NOT NULL DEFAULT 0, received_ms INTEGER NOT NULL, ack_sent_ms INTEGER,"
    " times_seen INTEGER NOT NULL DEFAULT 1, UNIQUE (session_id, receipt_id))",
    "CREATE INDEX receipt_time ON receipt (received_ms)",
    "CREATE INDEX receipt_original ON receipt (original_message_id)",
    "CREATE INDEX receipt_device ON receipt (device_token, received_ms)",
    "CREATE TABLE connection_event ("
    " id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, at_ms INTEGER NOT NULL,"
    " connection INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, error TEXT, detail TEXT)",
    "CREATE INDEX connection_event_time ON connection_event (at_ms)",
    // Full-text search over the data (and notification) of every message, kept in step by triggers.
    "CREATE VIRTUAL TABLE downstream_fts USING fts5(payload, content='downstream', content_rowid='id')",
    "CREATE TRIGGER downstream_fts_insert AFTER INSERT ON downstream BEGIN"
    " INSERT INTO downstream_fts (rowid, payload) VALUES (new.id, new.payload); END",
    "CREATE TRIGGER downstream_fts_delete AFTER DELETE ON downstream BEGIN"
    " INSERT INTO downstream_fts (downstream_fts, rowid, payload) VALUES ('delete', old.id, old.payload); "
    "END",
    "CREATE TRIGGER downstream_fts_update AFTER UPDATE OF payload ON downstream BEGIN"
    " INSERT INTO downstream_fts (downstream_fts, rowid, payload) VALUES ('delete', old.id, old.payload);"
    " INSERT INTO downstream_fts (rowid, payload) VALUES (new.id, new.payload); END",
    "CREATE VIRTUAL TABLE upstream_fts USING fts5(payload, content='upstream', content_rowid='id')",
    "CREATE TRIGGER upstream_fts_insert AFTER INSERT ON upstream BEGIN"
    " INSERT INTO upstream_fts (rowid, payload) VALUES (new.id, new.payload); END",
    "CREATE TRIGGER upstream_fts_delete AFTER DELETE ON upstream BEGIN"
    " INSERT INTO upstream_fts (upstream_fts, rowid, payload) VALUES ('delete', old.id, old.payload); END",
    "CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT)",
};

// Version 2: new rows are indexed for full-text search by the writer, once per batch
// (HistoryWriter; one INSERT ... SELECT of the rows the batch added), not by a trigger
// per row: FTS5 flushes its pending terms at every statement savepoint, and a trigger
// makes every single-row INSERT one, which cost about a third of the writer's time.
const char *const kMigrationV2[] = {
    "DROP TRIGGER downstream_fts_insert",
    "DROP TRIGGER upstream_fts_insert",
};

struct Migration {
    const char *const *statements;
    int count;
};
const Migration kMigrations[] = {
    {kMigrationV1, int(std::size(kMigrationV1))},
    {kMigrationV2, int(std::size(kMigrationV2))},
};
static_assert(std::size(kMigrations) == kSchemaVersion);

OpenStatus classify(const QSqlError &error)
{
    const QString text = error.databaseText().toLower() + QLatin1Char(' ') + error.driverText().toLower();
    const QString native = error.nativeErrorCode();
    if (native == QLatin1String("26") || text.contains(QLatin1String("not a database"))
        || native == QLatin1String("11") || text.contains(QLatin1String("malformed")))
        return OpenStatus::NotADatabase;
    if (native == QLatin1String("5") || native == QLatin1String("6") || text.contains(QLatin1String("locked"))
        || text.contains(QLatin1String("busy")))
        return OpenStatus::Locked;
    return OpenStatus::Unreadable;
}

OpenResult fail(const QString &, OpenStatus status, const QString &path, const QString &why)
{
    QString sentence;
    switch (status) {
    case OpenStatus::NewerSchema:
        sentence = QStringLiteral("The history %1 was written by a newer version of CCS Admin (%2); "
                                  "it was left untouched. Update CCS Admin to read it.")
                       .arg(QDir::toNativeSeparators(path), why);
        break;
    case OpenStatus::NotADatabase:
        sentence = QStringLiteral("The history %1 is damaged or not a history database (%2); "
                                  "it was left untouched. Move it away to start a new one.")
                       .arg(QDir::toNativeSeparators(path), why);
        break;
    case OpenStatus::Locked:
        sentence = QStringLiteral("The history %1 is locked by another program (%2).")
                       .arg(QDir::toNativeSeparators(path), why);
        break;
    default:
        sentence = QStringLiteral("The history %1 cannot be opened (%2).")
                       .arg(QDir::toNativeSeparators(path), why);
        break;
    }
    return {status, sentence};
}

} // namespace

QString historyDirectory()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
        + QStringLiteral("/ccs-admin/history");
}

QString fileNameForProfile(const QString &profile)
{
    const QString name = profile.isEmpty() ? QStringLiteral("default") : profile;
    return QString::fromLatin1(name.toUtf8().toPercentEncoding(QByteArray(" "), QByteArray("_")))
               .replace(QLatin1Char(' '), QLatin1Char('_'))
        + QStringLiteral(".sqlite");
}

QString databasePathForProfile(const QString &profile)
{
    return historyDirectory() + QLatin1Char('/') + fileNameForProfile(profile);
}

QString newInMemoryPath()
{
    return QStringLiteral("file:/ccs-history-%1?vfs=memdb").arg(QUuid::createUuid().toString(QUuid::Id128));
}

bool isInMemoryPath(const QString &path)
{
    return path == QLatin1String(":memory:")
        || (path.startsWith(QLatin1String("file:")) && path.endsWith(QLatin1String("?vfs=memdb")));
}

namespace {
OpenResult openDatabaseImpl(
    const QString &path, const QString &connectionName, bool readOnly, QSqlDatabase *out);
}

OpenResult openDatabase(const QString &path, const QString &connectionName, bool readOnly, QSqlDatabase *out)
{
    const OpenResult result = openDatabaseImpl(path, connectionName, readOnly, out);
    if (!result.ok()) // every handle of the connection is gone by now
        closeDatabase(connectionName);
    return result;
}

namespace {
OpenResult openDatabaseImpl(
    const QString &path, const QString &connectionName, bool readOnly, QSqlDatabase *out)
{
    const bool isMemory = isInMemoryPath(path);
    const QFileInfo info(path);
    if (!isMemory) {
        if (readOnly && !info.exists())
            return fail(connectionName, OpenStatus::Unreadable, path, QStringLiteral("no such file"));
        if (info.exists() && !info.isReadable())
            return fail(connectionName, OpenStatus::Unreadable, path, QStringLiteral("permission denied"));
        if (!info.exists() && !QDir().mkpath(info.absolutePath()))
            return fail(connectionName, OpenStatus::Unreadable, path,
                QStringLiteral("cannot create the folder %1").arg(info.absolutePath()));
    }
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connectionName);
    db.setDatabaseName(path);
    // Opening waits a short while for a lock (a file another program holds is reported at
    // once, and the window goes on without freezing); once open, a longer busy timeout lets
    // the readers and writers of ccs-admin and ccsctl share the file. Read-only never writes.
    const QString busy = QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(kOpenBusyTimeoutMs);
    QString options = readOnly ? QStringLiteral("QSQLITE_OPEN_READONLY;") + busy : busy;
    if (isMemory && path != QLatin1String(":memory:"))
        options += QStringLiteral(";QSQLITE_OPEN_URI");
    db.setConnectOptions(options);
    if (!db.open())
        return fail(connectionName, classify(db.lastError()), path, db.lastError().text());

    QSqlQuery query(db);
    // Reading the version changes nothing, so a refused file stays as it was.
    if (!query.exec(QStringLiteral("PRAGMA user_version")) || !query.next())
        return fail(connectionName, classify(query.lastError()), path, query.lastError().text());
    const int version = query.value(0).toInt();
    if (version > kSchemaVersion)
        return fail(connectionName, OpenStatus::NewerSchema, path,
            QStringLiteral("schema %1, this version reads up to %2").arg(version).arg(kSchemaVersion));
    if (version > 0 || isMemory || info.exists()) {
        // An existing file that claims version 0 but holds tables is not ours.
        if (version == 0 && query.exec(QStringLiteral("SELECT count(*) FROM sqlite_master")) && query.next()
            && query.value(0).toInt() > 0)
            return fail(connectionName, OpenStatus::NotADatabase, path,
                QStringLiteral("an SQLite file without a history schema"));
    }
    query.finish();
    if (readOnly) {
        if (version < kOldestReadableSchema)
            return fail(connectionName, OpenStatus::Unreadable, path,
                QStringLiteral("schema %1 needs an upgrade; open it once with CCS Admin").arg(version));
        query.exec(QStringLiteral("PRAGMA busy_timeout=%1").arg(kBusyTimeoutMs));
        *out = db;
        return {};
    }
    if (!isMemory) {
        if (!query.exec(QStringLiteral("PRAGMA journal_mode=WAL")))
            return fail(connectionName, classify(query.lastError()), path, query.lastError().text());
        query.finish();
    }
    // NORMAL in WAL mode: a commit survives a crash of the program; only a power loss may
    // take the last commits back, and never damages the file.
    query.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
    // Index pages stay in memory across batches (32 MiB), so inserts rarely read from disk.
    query.exec(QStringLiteral("PRAGMA cache_size=-32768"));
    query.exec(QStringLiteral("PRAGMA temp_store=MEMORY"));
    for (int v = version; v < kSchemaVersion; ++v) {
        if (!db.transaction())
            return fail(connectionName, classify(db.lastError()), path, db.lastError().text());
        const Migration &migration = kMigrations[v];
        for (int i = 0; i < migration.count; ++i) {
            if (!query.exec(QString::fromLatin1(migration.statements[i]))) {
                const QSqlError error = query.lastError();
                db.rollback();
                return fail(connectionName, classify(error), path,
                    QStringLiteral("migration to schema %1 failed: %2").arg(v + 1).arg(error.text()));
            }
        }
        if (!query.exec(QStringLiteral("PRAGMA user_version=%1").arg(v + 1)) || !db.commit()) {
            const QSqlError error = query.lastError();
            db.rollback();
            return fail(connectionName, classify(error), path, error.text());
        }
    }
    query.exec(QStringLiteral("PRAGMA busy_timeout=%1").arg(kBusyTimeoutMs));
    *out = db;
    return {};
}
} // namespace

bool lastRowIds(const QSqlDatabase &db, RowIds *ids, QString *error)
{
    QSqlQuery query(db);
    // max(id) of a rowid table reads its last page only.
    if (!query.exec(QStringLiteral("SELECT (SELECT coalesce(max(id), 0) FROM downstream),"
                                   " (SELECT coalesce(max(id), 0) FROM upstream)"))
        || !query.next()) {
        *error = query.lastError().text();
        return false;
    }
    ids->downstream = query.value(0).toLongLong();
    ids->upstream = query.value(1).toLongLong();
    return true;
}

bool indexRowsAfter(const QSqlDatabase &db, const RowIds &ids, QString *error)
{
    QSqlQuery query(db);
    for (const auto &[table, after] : {std::pair {QStringLiteral("downstream"), ids.downstream},
             std::pair {QStringLiteral("upstream"), ids.upstream}}) {
        query.prepare(
            QStringLiteral("INSERT INTO %1_fts (rowid, payload) SELECT id, payload FROM %1 WHERE id > ?").arg(table));
        query.addBindValue(after);
        if (!query.exec()) {
            *error = query.lastError().text();
            return false;
        }
    }
    return true;
}

void closeDatabase(const QString &connectionName)
{
    {
        QSqlDatabase db = QSqlDatabase::database(connectionName, false);
        if (db.isValid())
            db.close();
    }
    QSqlDatabase::removeDatabase(connectionName);
}

} // namespace ccs::history
