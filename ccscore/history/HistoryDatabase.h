#pragma once

#include <QString>

namespace ccs::history {

// The schema this build writes. A database whose PRAGMA user_version is higher
// was written by a newer CCS Admin: it is refused and left as it is.
inline constexpr int kSchemaVersion = 2;
// The oldest schema a read-only reader (ccsctl history) reads as it is: the tables and
// their columns are the same since version 1.
inline constexpr int kOldestReadableSchema = 1;

enum class OpenStatus {
    Ok,
    NewerSchema, // written by a newer version: refused, untouched
    NotADatabase, // corrupt or not SQLite: refused, untouched
    Locked, // another program holds it
    Unreadable, // permissions, missing directory, I/O error
};

struct OpenResult {
    OpenStatus status = OpenStatus::Ok;
    QString error; // a sentence a person can act on; empty when Ok
    bool ok() const { return status == OpenStatus::Ok; }
};

// Where a profile's history lives: <data>/ccs-admin/history/<profile>.sqlite,
// shared by ccs-admin and ccsctl (GenericDataLocation, so both programs find it).
QString historyDirectory();
QString databasePathForProfile(const QString &profile);
// A file name for any profile name: letters, digits, '-', '_' and '.' stay, the rest is %XX.
QString fileNameForProfile(const QString &profile);

// A history kept in memory only, for when a profile's file cannot be used: an SQLite
// in-memory database (the memdb VFS) that the writer's and the reader's connections
// share while either is open. Each call names a new one.
QString newInMemoryPath();
bool isInMemoryPath(const QString &path);

} // namespace ccs::history
