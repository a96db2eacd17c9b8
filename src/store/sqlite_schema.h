// The SQLite schema as one ordered list of versioned migrations; the file's version is its
// PRAGMA user_version (0 = the schema from before versioning, or a new file).
#pragma once

struct sqlite3;

namespace pastiche {

constexpr int kSqliteSchemaVersion = 5;

// Applies each migration above the file's version, up to `target`, in its own IMMEDIATE
// transaction that re-reads the version first: connections (threads or processes) opening the
// same file together apply each step once. Throws std::runtime_error.
void migrate_sqlite(sqlite3* db, int target = kSqliteSchemaVersion);
int sqlite_schema_version(sqlite3* db);

}  // namespace pastiche
