#include "store/sqlite_db.h"

#include <sqlite3.h>

#include <stdexcept>
#include <utility>

#include "common/error.h"

namespace pastiche {

namespace {

// The file stays locked past the busy timeout, or cannot be read or written (I/O error, disk
// full, gone): the database is unavailable, not the request wrong.
bool is_unavailable(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void throw_sqlite(int rc, const std::string& message) {
  if (is_unavailable(rc)) throw DatabaseUnavailable(message);
  throw std::runtime_error(message);
}

}  // namespace

SqliteStatement::SqliteStatement(sqlite3* db, const std::string& sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr);
  if (rc != SQLITE_OK) throw_sqlite(rc, std::string("sqlite prepare: ") + sqlite3_errmsg(db));
}

SqliteStatement::~SqliteStatement() {
  sqlite3_finalize(st_);
}

SqliteStatement& SqliteStatement::bind(const std::string& v) {
  sqlite3_bind_text(st_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int64_t v) {
  sqlite3_bind_int64(st_, ++index_, v);
  return *this;
}

SqliteStatement& SqliteStatement::bind(double v) {
  sqlite3_bind_double(st_, ++index_, v);
  return *this;
}

bool SqliteStatement::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw_sqlite(rc, std::string("sqlite step: ") + sqlite3_errmsg(db_));
}

std::string SqliteStatement::text(int col) const {
  auto p = sqlite3_column_text(st_, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(st_, col)))
           : std::string();
}

int64_t SqliteStatement::integer(int col) const {
  return sqlite3_column_int64(st_, col);
}

double SqliteStatement::real(int col) const {
  return sqlite3_column_double(st_, col);
}

int SqliteStatement::changes() const {
  return sqlite3_changes(db_);
}

void sqlite_exec(sqlite3* db, const char* sql, const std::string& what) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    throw_sqlite(rc, what.empty() ? "sqlite: " + msg : "sqlite (" + what + "): " + msg);
  }
}

SqliteTransaction::SqliteTransaction(sqlite3* db) : db_(db) {
  sqlite_exec(db_, "BEGIN IMMEDIATE");
}

SqliteTransaction::~SqliteTransaction() {
  if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteTransaction::commit() {
  sqlite_exec(db_, "COMMIT");
  done_ = true;
}

const char* const kSqliteJobColumns =
    "id, owner, method, style, style_title, params, status, progress, error, attempts, "
    "created_ms, started_ms, finished_ms, seconds, width, height, fetched_ms, worker_id, "
    "lease_expires_ms, cancel_requested, delete_requested, batch_id, content_name";

std::vector<JobRecord> read_sqlite_jobs(SqliteStatement& st) {
  std::vector<JobRecord> out;
  while (st.step()) {
    JobRecord j;
    j.id = st.text(0);
    j.owner = st.text(1);
    j.method = st.text(2);
    j.style = st.text(3);
    j.style_title = st.text(4);
    j.params = st.text(5);
    j.status = parse_job_status(st.text(6));
    j.progress = st.text(7);
    j.error = st.text(8);
    j.attempts = static_cast<int>(st.integer(9));
    j.created_ms = st.integer(10);
    j.started_ms = st.integer(11);
    j.finished_ms = st.integer(12);
    j.seconds = st.real(13);
    j.width = static_cast<int>(st.integer(14));
    j.height = static_cast<int>(st.integer(15));
    j.fetched_ms = st.integer(16);
    j.worker_id = st.text(17);
    j.lease_expires_ms = st.integer(18);
    j.cancel_requested = st.integer(19) != 0;
    j.delete_requested = st.integer(20) != 0;
    j.batch_id = st.text(21);
    j.content_name = st.text(22);
    out.push_back(std::move(j));
  }
  return out;
}

void insert_sqlite_job(sqlite3* db, const JobRecord& j) {
  SqliteStatement st(db, std::string("INSERT INTO jobs (") + kSqliteJobColumns +
                             ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  st.bind(j.id).bind(j.owner).bind(j.method).bind(j.style).bind(j.style_title).bind(j.params);
  st.bind(to_string(j.status)).bind(j.progress).bind(j.error).bind(j.attempts);
  st.bind(j.created_ms).bind(j.started_ms).bind(j.finished_ms).bind(j.seconds);
  st.bind(j.width).bind(j.height).bind(j.fetched_ms).bind(j.worker_id).bind(j.lease_expires_ms);
  st.bind(j.cancel_requested).bind(j.delete_requested).bind(j.batch_id).bind(j.content_name);
  st.step();
}

int update_sqlite_job(sqlite3* db, const JobRecord& j, const std::string& holder) {
  std::string sql =
      "UPDATE jobs SET method=?, style=?, style_title=?, params=?, status=?, progress=?, "
      "error=?, attempts=?, started_ms=?, finished_ms=?, seconds=?, width=?, height=?";
  sql += holder.empty() ? " WHERE id=?"
                        : ", worker_id='', lease_expires_ms=0 WHERE id=? AND status='running' AND "
                          "worker_id=?";
  SqliteStatement st(db, sql);
  st.bind(j.method).bind(j.style).bind(j.style_title).bind(j.params).bind(to_string(j.status));
  st.bind(j.progress).bind(j.error).bind(j.attempts).bind(j.started_ms).bind(j.finished_ms);
  st.bind(j.seconds).bind(j.width).bind(j.height).bind(j.id);
  if (!holder.empty()) st.bind(holder);
  st.step();
  return st.changes();
}

}  // namespace pastiche
