#include "store/pg_schema.h"

#include <chrono>
#include <string>

#include "store/migration_order.h"

namespace pastiche {

namespace {

// The jobs table mirrors SQLite's; `seq` is the insertion order (SQLite's rowid) that breaks
// ties between jobs created in the same millisecond.
constexpr const char* kV1Tables = R"sql(
CREATE TABLE jobs (
  seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, method TEXT NOT NULL, style TEXT NOT NULL,
  style_title TEXT NOT NULL DEFAULT '', params TEXT NOT NULL, status TEXT NOT NULL,
  progress TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL,
  started_ms BIGINT NOT NULL DEFAULT 0, finished_ms BIGINT NOT NULL DEFAULT 0,
  seconds DOUBLE PRECISION NOT NULL DEFAULT 0, width INTEGER NOT NULL DEFAULT 0,
  height INTEGER NOT NULL DEFAULT 0, fetched_ms BIGINT NOT NULL DEFAULT 0);
CREATE INDEX jobs_owner ON jobs (owner, created_ms, seq);
CREATE INDEX jobs_status ON jobs (status, created_ms, seq);
CREATE TABLE styles (
  seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, artist TEXT NOT NULL,
  description TEXT NOT NULL, created_ms BIGINT NOT NULL);
CREATE INDEX styles_owner ON styles (owner, created_ms, seq);
CREATE TABLE health (id INTEGER PRIMARY KEY, checked_ms BIGINT NOT NULL);
)sql";

// The durable queue: holder, lease and cancel flags of running jobs, the per-lane claim order
// (queued jobs only), and the worker registry.
constexpr const char* kV2Queue = R"sql(
ALTER TABLE jobs ADD COLUMN worker_id TEXT NOT NULL DEFAULT '',
  ADD COLUMN lease_expires_ms BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN delete_requested BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX jobs_lane ON jobs (method, created_ms, seq) WHERE status = 'queued';
CREATE INDEX jobs_held ON jobs (worker_id, lease_expires_ms) WHERE status = 'running';
CREATE TABLE workers (
  id TEXT PRIMARY KEY, host TEXT NOT NULL, lanes TEXT NOT NULL,
  started_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL);
)sql";

// Images shared by every node; keys in byte order so a prefix is a key range. One row holds
// the total, kept in the same transaction as each change (the disk quota reads it often).
constexpr const char* kV3Images = R"sql(
CREATE TABLE images (
  key TEXT COLLATE "C" PRIMARY KEY, bytes BYTEA NOT NULL, size BIGINT NOT NULL);
CREATE TABLE image_usage (id INTEGER PRIMARY KEY CHECK (id = 1), total_bytes BIGINT NOT NULL);
INSERT INTO image_usage VALUES (1, 0);
)sql";

// Images are compressed already (PNG, JPEG): stored out of line without PostgreSQL's own
// compression attempt, which cost a third of the database's CPU per fast job (measured).
constexpr const char* kV4ImagesUncompressed = R"sql(
ALTER TABLE images ALTER COLUMN bytes SET STORAGE EXTERNAL;
)sql";

// Images may instead live in a directory shared by every node (bytes NULL, the size still
// counted here); which of the two a cluster uses is recorded once, with the directory's mark.
constexpr const char* kV5ImageLocation = R"sql(
ALTER TABLE images ALTER COLUMN bytes DROP NOT NULL;
CREATE TABLE image_location (
  id INTEGER PRIMARY KEY CHECK (id = 1), kind TEXT NOT NULL, mark TEXT NOT NULL);
)sql";

// Disk quota reservations (store/pg_quota_reservations.h): bytes promised to a submit or upload
// before its images are stored, then (for_job) to the job's output while it is queued or running.
constexpr const char* kV6QuotaReservations = R"sql(
CREATE TABLE quota_reservations (
  id TEXT PRIMARY KEY, bytes BIGINT NOT NULL, for_job BOOLEAN NOT NULL DEFAULT false,
  created_ms BIGINT NOT NULL);
)sql";

// The fair queue: each job's turn among its lane's clients (claim order, served by jobs_turn,
// which replaces jobs_lane), its estimated seconds (the per-client work cap), and the index that
// finds a client's queued and running jobs (its caps, its next turn). Jobs already queued take
// turns too: each client's in its own order.
constexpr const char* kV7FairQueue = R"sql(
ALTER TABLE jobs ADD COLUMN turn BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN estimated_seconds DOUBLE PRECISION NOT NULL DEFAULT 0;
DROP INDEX IF EXISTS jobs_lane;
CREATE INDEX jobs_turn ON jobs (method, turn, created_ms, seq) WHERE status = 'queued';
CREATE INDEX jobs_client_active ON jobs (owner, method, turn)
  WHERE status IN ('queued', 'running');
UPDATE jobs j SET turn = t.n FROM (
  SELECT id, ROW_NUMBER() OVER (PARTITION BY method, owner ORDER BY created_ms, seq) - 1 AS n
  FROM jobs WHERE status = 'queued') t
WHERE j.id = t.id;
)sql";

// Share links and the gallery (store/share_store.h): one share per job, its publication and the
// clients' votes; a job's share and a share's votes go with it (foreign keys).
constexpr const char* kV8Shares = R"sql(
CREATE TABLE shares (
  seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  token TEXT PRIMARY KEY,
  job_id TEXT NOT NULL UNIQUE REFERENCES jobs (id) ON DELETE CASCADE,
  owner TEXT NOT NULL, created_ms BIGINT NOT NULL,
  published BOOLEAN NOT NULL DEFAULT false, caption TEXT NOT NULL DEFAULT '',
  published_ms BIGINT NOT NULL DEFAULT 0, hidden BOOLEAN NOT NULL DEFAULT false,
  rating_count BIGINT NOT NULL DEFAULT 0, rating_sum BIGINT NOT NULL DEFAULT 0);
CREATE INDEX shares_owner ON shares (owner);
CREATE INDEX shares_gallery ON shares (published_ms, seq) WHERE published AND NOT hidden;
CREATE TABLE ratings (
  token TEXT NOT NULL REFERENCES shares (token) ON DELETE CASCADE,
  client TEXT NOT NULL, stars SMALLINT NOT NULL CHECK (stars BETWEEN 1 AND 5),
  rated_ms BIGINT NOT NULL, PRIMARY KEY (token, client));
)sql";

// Batches (POST /api/batches) and download names: the batch a job belongs to and the photo's
// file name, both set when the job is created.
constexpr const char* kV9Batches = R"sql(
ALTER TABLE jobs ADD COLUMN batch_id TEXT NOT NULL DEFAULT '',
  ADD COLUMN content_name TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_batch ON jobs (batch_id, created_ms, seq) WHERE batch_id <> '';
)sql";

struct PgMigration {
  int version;
  const char* name;
  const char* sql;
};

// Append only: a released version never changes.
constexpr PgMigration kPgMigrations[] = {
    {1, "jobs, styles and health", kV1Tables},
    {2, "job queue: leases, cancel flags, workers", kV2Queue},
    {3, "images", kV3Images},
    {4, "images stored without compression", kV4ImagesUncompressed},
    {5, "images in the database or a shared directory", kV5ImageLocation},
    {6, "disk quota reservations", kV6QuotaReservations},
    {7, "fair queue: turns, estimated seconds", kV7FairQueue},
    {8, "share links, gallery and ratings", kV8Shares},
    {9, "batches and content names", kV9Batches},
};
static_assert(numbered_in_order(kPgMigrations, kPgSchemaVersion));

// Any constant shared by every Pastiche process: the migration lock's key.
constexpr long long kMigrationLock = 0x7061737469636865LL;  // "pastiche"

int current_version(pqxx::transaction_base& tx) {
  auto exists = tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0].as<bool>()) return 0;
  return tx.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0].as<int>();
}

}  // namespace

int postgres_schema_version(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  return current_version(tx);
}

void migrate_postgres(pqxx::connection& conn, int target) {
  {
    pqxx::read_transaction tx(conn);
    if (current_version(tx) >= target) return;  // the usual case: no lock needed
  }
  pqxx::work tx(conn);
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
  tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
      " name TEXT NOT NULL, applied_ms BIGINT NOT NULL)");
  const int version = current_version(tx);  // another process may have applied some meanwhile
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (const auto& m : kPgMigrations) {
    if (m.version <= version || m.version > target) continue;
    tx.exec(m.sql);
    tx.exec_params("INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)",
                   m.version, std::string(m.name), static_cast<long long>(now));
  }
  tx.commit();
}

}  // namespace pastiche
