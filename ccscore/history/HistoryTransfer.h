#pragma once

#include "HistoryStore.h"

#include <QByteArray>
#include <QString>
#include <QVector>

class QIODevice;

namespace ccs::history {

// Moving a search result between machines: JSON Lines out (the format of
// `ccsctl history --json`, one HistoryRow::toJson() object per line), and the
// same lines in, into a separate history of their own that is only read.

// One line of JSON Lines for a row, without the newline.
QByteArray jsonLine(const HistoryRow &row);

// Writes every message the query matches (newest first, read a page at a time, at most
// `limit` when limit > 0) to `out`, one line each. Returns how many, -1 on error.
qint64 exportJsonLines(HistoryStore *store, HistoryQuery query, qint64 limit, QIODevice *out, QString *error);

struct ImportProblem {
    qint64 line = 0; // 1-based
    QString reason;
};

struct ImportResult {
    qint64 imported = 0; // messages now in the imported history
    QVector<ImportProblem> problems; // lines that were not imported, by number
    QString error; // the import could not be made at all (no file written then)
    bool ok() const { return error.isEmpty(); }
};

// Settings an imported history carries (HistoryStore::setting), to tell it from a profile's.
inline constexpr char kImportedFromSetting[] = "imported_from";
inline constexpr char kImportedAtSetting[] = "imported_at";

// Reads JSON Lines from `in` into a new history at databasePath (which must not exist:
// nothing is ever overwritten). Good lines are imported, broken ones are reported by
// line number; blank lines are skipped. sourceName is kept as kImportedFromSetting.
ImportResult importJsonLines(QIODevice *in, const QString &sourceName, const QString &databasePath);

// Where an import of sourceFile goes: <directory>/<its base name>-<UTC time>[-N].sqlite, a
// name not taken yet. directory defaults to importedDirectory().
QString newImportPath(const QString &sourceFile, const QString &directory = {});
QString importedDirectory(); // <historyDirectory()>/imported

} // namespace ccs::history
