#include "store/sqlite_schema.h"

#include <sqlite3.h>

#include <string>

#include "store/migration_order.h"
#include "store/sqlite_db.h"

namespace pastiche {

namespace {

bool has_column(sqlite3* db, const char* table, const std::string& column) {
  SqliteStatement cols(db, std::string("PRAGMA table_info(") + table + ")");
  bool found = false;
  while (cols.step()) found = found || cols.text(1) == column;
  return found;
}

void add_column(sqlite3* db, const char* table, const char* column, const char* type) {
  if (has_column(db, table, column)) return;
  sqlite_exec(db,
              (std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + type).c_str());
}

// 1: the tables (files from before versioning have them already) and the results' first
// download (the quota keeps unfetched results).
void v1_fetched(sqlite3* db) {
  sqlite_exec(db,
              "CREATE TABLE IF NOT EXISTS jobs ("
              " id TEXT PRIMARY KEY, owner TEXT NOT NULL, method TEXT NOT NULL,"
              " style TEXT NOT NULL, style_title TEXT NOT NULL DEFAULT '',"
              " params TEXT NOT NULL, status TEXT NOT NULL, progress TEXT NOT NULL DEFAULT '',"
              " error TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,"
              " created_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL DEFAULT 0,"
              " finished_ms INTEGER NOT NULL DEFAULT 0, seconds REAL NOT NULL DEFAULT 0,"
              " width INTEGER NOT NULL DEFAULT 0, height INTEGER NOT NULL DEFAULT 0)");
  sqlite_exec(db, "CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, created_ms)");
  sqlite_exec(db, "CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, created_ms)");
  sqlite_exec(db,
              "CREATE TABLE IF NOT EXISTS styles ("
              " id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,"
              " artist TEXT NOT NULL, description TEXT NOT NULL, created_ms INTEGER NOT NULL)");
  add_column(db, "jobs", "fetched_ms", "INTEGER NOT NULL DEFAULT 0");
  sqlite_exec(db, "CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, checked_ms INTEGER)");
}

// 2: the durable queue: which worker holds a running job and until when, cancel and delete
// requests for running jobs, the worker registry, and the per-lane claim order.
void v2_queue(sqlite3* db) {
  add_column(db, "jobs", "worker_id", "TEXT NOT NULL DEFAULT ''");
  add_column(db, "jobs", "lease_expires_ms", "INTEGER NOT NULL DEFAULT 0");
  add_column(db, "jobs", "cancel_requested", "INTEGER NOT NULL DEFAULT 0");
  add_column(db, "jobs", "delete_requested", "INTEGER NOT NULL DEFAULT 0");
  sqlite_exec(db, "CREATE INDEX IF NOT EXISTS jobs_lane ON jobs(status, method, created_ms)");
  sqlite_exec(db, "CREATE INDEX IF NOT EXISTS jobs_worker ON jobs(worker_id, status)");
  sqlite_exec(db,
              "CREATE TABLE IF NOT EXISTS workers ("
              " id TEXT PRIMARY KEY, host TEXT NOT NULL, lanes TEXT NOT NULL,"
              " started_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL)");
}

// 3: the fair queue: each job's turn among its lane's clients (claim order), its estimated
// seconds (the per-client work cap), and the indexes behind claim order and per-client caps.
void v3_fair_queue(sqlite3* db) {
  add_column(db, "jobs", "turn", "INTEGER NOT NULL DEFAULT 0");
  add_column(db, "jobs", "estimated_seconds", "REAL NOT NULL DEFAULT 0");
  sqlite_exec(db,
              "CREATE INDEX IF NOT EXISTS jobs_turn ON jobs(method, turn, created_ms) "
              "WHERE status='queued'");
  sqlite_exec(db,
              "CREATE INDEX IF NOT EXISTS jobs_client_active ON jobs(owner, method, turn) "
              "WHERE status IN ('queued','running')");
  // Jobs already queued take turns too: each client's in its own order.
  sqlite_exec(db,
              "UPDATE jobs SET turn=(SELECT COUNT(*) FROM jobs q WHERE q.status='queued' AND "
              "q.method=jobs.method AND q.owner=jobs.owner AND (q.created_ms<jobs.created_ms OR "
              "(q.created_ms=jobs.created_ms AND q.rowid<jobs.rowid))) WHERE status='queued'");
}

// 4: share links and the gallery (store/share_store.h): one share per job, its publication and
// the clients' votes. Triggers remove a job's share with the job, and a share's votes with it,
// whichever code deletes the row.
void v4_shares(sqlite3* db) {
  sqlite_exec(db,
              "CREATE TABLE IF NOT EXISTS shares ("
              " token TEXT PRIMARY KEY, job_id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL,"
              " created_ms INTEGER NOT NULL, published INTEGER NOT NULL DEFAULT 0,"
              " caption TEXT NOT NULL DEFAULT '', published_ms INTEGER NOT NULL DEFAULT 0,"
              " hidden INTEGER NOT NULL DEFAULT 0, rating_count INTEGER NOT NULL DEFAULT 0,"
              " rating_sum INTEGER NOT NULL DEFAULT 0)");
  sqlite_exec(db, "CREATE INDEX IF NOT EXISTS shares_owner ON shares(owner)");
  sqlite_exec(db,
              "CREATE INDEX IF NOT EXISTS shares_gallery ON shares(published_ms) "
              "WHERE published=1 AND hidden=0");
  sqlite_exec(db,
              "CREATE TABLE IF NOT EXISTS ratings ("
              " token TEXT NOT NULL, client TEXT NOT NULL, stars INTEGER NOT NULL,"
              " rated_ms INTEGER NOT NULL, PRIMARY KEY (token, client))");
  sqlite_exec(db,
              "CREATE TRIGGER IF NOT EXISTS jobs_delete_share AFTER DELETE ON jobs "
              "BEGIN DELETE FROM shares WHERE job_id = OLD.id; END");
  sqlite_exec(db,
              "CREATE TRIGGER IF NOT EXISTS shares_delete_ratings AFTER DELETE ON shares "
              "BEGIN DELETE FROM ratings WHERE token = OLD.token; END");
}

// 5: batches (POST /api/batches) and download names: the batch a job belongs to and the
// photo's file name, both set when the job is created.
void v5_batches(sqlite3* db) {
  add_column(db, "jobs", "batch_id", "TEXT NOT NULL DEFAULT ''");
  add_column(db, "jobs", "content_name", "TEXT NOT NULL DEFAULT ''");
  sqlite_exec(db,
              "CREATE INDEX IF NOT EXISTS jobs_batch ON jobs(batch_id, created_ms) "
              "WHERE batch_id != ''");
}

struct SqliteMigration {
  int version;
  void (*apply)(sqlite3*);
};

// Append only: a released version never changes.
constexpr SqliteMigration kSqliteMigrations[] = {
    {1, v1_fetched},     // tables, results' first download
    {2, v2_queue},       // leases, cancel flags, workers
    {3, v3_fair_queue},  // turns, estimated seconds
    {4, v4_shares},      // share links, gallery and ratings
    {5, v5_batches},     // batches and content names
};
static_assert(numbered_in_order(kSqliteMigrations, kSqliteSchemaVersion));

}  // namespace

int sqlite_schema_version(sqlite3* db) {
  SqliteStatement version(db, "PRAGMA user_version");
  return version.step() ? static_cast<int>(version.integer(0)) : 0;
}

void migrate_sqlite(sqlite3* db, int target) {
  for (const auto& m : kSqliteMigrations) {
    if (m.version > target) break;
    if (sqlite_schema_version(db) >= m.version) continue;
    SqliteTransaction tx(db);
    if (sqlite_schema_version(db) < m.version) {  // another connection may have done it
      m.apply(db);
      sqlite_exec(db, ("PRAGMA user_version = " + std::to_string(m.version)).c_str());
    }
    tx.commit();
  }
}

}  // namespace pastiche
