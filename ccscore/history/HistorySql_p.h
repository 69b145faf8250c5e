#pragma once

// Inside ccscore only: Qt SQL stays out of the public headers, so users of the
// history need not build against QtSql.
#include "HistoryDatabase.h"

#include <QSqlDatabase>

namespace ccs::history {

// Opens (creating when missing) and brings the schema up to kSchemaVersion.
// connectionName must be unique per thread. readOnly opens without creating or migrating.
// On failure the connection is removed again and the file is not changed.
OpenResult openDatabase(const QString &path, const QString &connectionName, bool readOnly, QSqlDatabase *out);
// Closes and removes a connection made by openDatabase.
void closeDatabase(const QString &connectionName);

// Full-text indexing of new rows, once per transaction (schema 2 has no per-row trigger):
// note the last row ids before inserting, then index every row after them.
struct RowIds {
    qint64 downstream = 0;
    qint64 upstream = 0;
};
bool lastRowIds(const QSqlDatabase &db, RowIds *ids, QString *error);
bool indexRowsAfter(const QSqlDatabase &db, const RowIds &ids, QString *error);

} // namespace ccs::history
