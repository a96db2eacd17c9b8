#include "store/sqlite_job_store.h"

#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <stdexcept>
#include <thread>
#include <utility>

#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"

namespace pastiche {

namespace {

std::string recovery_hint(const std::string& path) {
  return " Restore a backup with `pastiche admin restore BACKUP --data-dir DIR` (server "
         "stopped), or move '" +
         path + "' aside and start with --init to begin an empty history.";
}

// Switching to WAL needs the file to itself and SQLite answers "locked" at once, without the busy
// handler, when another connection opens it at the same moment: retry for a while.
void set_wal_mode(sqlite3* db, const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt >= 500) {
      sqlite_exec(db, "PRAGMA journal_mode=WAL", path);  // throws with SQLite's message
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

SqliteJobStore::SqliteJobStore(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open job database '" + path + "': " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    check_integrity();
    set_wal_mode(db_, path);
    sqlite_exec(db_, "PRAGMA synchronous=NORMAL", path);
    migrate_sqlite(db_);
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    std::string what = e.what();
    if (what.find("readonly") != std::string::npos || what.find("read-only") != std::string::npos) {
      throw std::runtime_error("job database '" + path + "' cannot be written (" + what +
                               "): check the file's and its directory's permissions and the "
                               "free disk space");
    }
    throw std::runtime_error("job database '" + path + "' is unusable: " + what + "." +
                             recovery_hint(path));
  }
  std::string health = health_check();
  if (!health.empty()) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("job database '" + path + "': " + health);
  }
}

void SqliteJobStore::check_integrity() {
  std::string first;
  int problems = 0;
  try {
    SqliteStatement st(db_, "PRAGMA quick_check");
    while (st.step()) {
      std::string line = st.text(0);
      if (line == "ok") continue;
      if (first.empty()) first = line;
      ++problems;
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("damaged (") + e.what() + ")");
  }
  if (problems > 0) {
    throw std::runtime_error("damaged (" + std::to_string(problems) +
                             " problem(s) found by quick_check, first: " + first + ")");
  }
}

std::string SqliteJobStore::health_check() {
  std::lock_guard lock(mutex_);
  try {
    {
      SqliteStatement read(db_,
                           "SELECT COUNT(*) FROM jobs WHERE rowid = (SELECT MAX(rowid) FROM jobs)");
      read.step();
    }
    SqliteStatement write(db_, "INSERT OR REPLACE INTO health (id, checked_ms) VALUES (1, ?)");
    write.bind(static_cast<int64_t>(sqlite3_int64(time(nullptr)) * 1000));
    write.step();
    return {};
  } catch (const std::exception& e) {
    return std::string("the job database cannot be read and written: ") + e.what();
  }
}

SqliteJobStore::~SqliteJobStore() {
  sqlite3_close(db_);
}

void SqliteJobStore::insert(const JobRecord& j) {
  std::lock_guard lock(mutex_);
  insert_sqlite_job(db_, j);
}

std::optional<JobRecord> SqliteJobStore::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_, (std::string("SELECT ") + kSqliteJobColumns + " FROM jobs WHERE id = ?"));
  st.bind(id);
  auto rows = read_sqlite_jobs(st);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

void SqliteJobStore::update(const JobRecord& j) {
  std::lock_guard lock(mutex_);
  update_sqlite_job(db_, j);
}

void SqliteJobStore::update_progress(const std::string& id, const std::string& progress_json) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_, "UPDATE jobs SET progress=? WHERE id=?");
  st.bind(progress_json).bind(id);
  st.step();
}

bool SqliteJobStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_, "DELETE FROM jobs WHERE id=?");
  st.bind(id);
  st.step();
  return st.changes() > 0;
}

std::vector<JobRecord> SqliteJobStore::list_by_owner(const std::string& owner, int limit,
                                                     int offset) {
  std::lock_guard lock(mutex_);
  std::string sql = std::string("SELECT ") + kSqliteJobColumns + " FROM jobs " +
                    (owner.empty() ? "" : "WHERE owner=? ") +
                    "ORDER BY created_ms DESC, rowid DESC LIMIT ? OFFSET ?";
  SqliteStatement st(db_, sql);
  if (!owner.empty()) st.bind(owner);
  st.bind(limit).bind(offset);
  return read_sqlite_jobs(st);
}

int64_t SqliteJobStore::count_by_owner(const std::string& owner) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(
      db_, owner.empty() ? "SELECT COUNT(*) FROM jobs" : "SELECT COUNT(*) FROM jobs WHERE owner=?");
  if (!owner.empty()) st.bind(owner);
  return st.step() ? st.integer(0) : 0;
}

std::vector<JobRecord> SqliteJobStore::list_by_status(JobStatus status) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_, (std::string("SELECT ") + kSqliteJobColumns +
                           " FROM jobs WHERE status=? ORDER BY created_ms, rowid"));
  st.bind(to_string(status));
  return read_sqlite_jobs(st);
}

std::vector<JobRecord> SqliteJobStore::list_by_batch(const std::string& batch_id) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_, (std::string("SELECT ") + kSqliteJobColumns +
                           " FROM jobs WHERE batch_id=? ORDER BY created_ms, rowid"));
  st.bind(batch_id);
  return read_sqlite_jobs(st);
}

std::vector<JobRecord> SqliteJobStore::list_evictable(int64_t finished_before_ms, int limit) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_,
                     (std::string("SELECT ") + kSqliteJobColumns +
                      " FROM jobs WHERE status IN ('done','failed','cancelled') AND finished_ms < ?"
                      " AND (status != 'done' OR fetched_ms > 0)"
                      " ORDER BY finished_ms, created_ms, rowid LIMIT ?"));
  st.bind(finished_before_ms).bind(limit);
  return read_sqlite_jobs(st);
}

void SqliteJobStore::mark_fetched(const std::string& id, int64_t ms) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_, "UPDATE jobs SET fetched_ms=? WHERE id=? AND fetched_ms=0");
  st.bind(ms).bind(id);
  st.step();
}

std::map<JobStatus, int64_t> SqliteJobStore::count_by_status() {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_, "SELECT status, COUNT(*) FROM jobs GROUP BY status");
  std::map<JobStatus, int64_t> out;
  for (auto s : {JobStatus::queued, JobStatus::running, JobStatus::done, JobStatus::failed,
                 JobStatus::cancelled, JobStatus::expired}) {
    out[s] = 0;
  }
  while (st.step()) out[parse_job_status(st.text(0))] = st.integer(1);
  return out;
}

void SqliteJobStore::insert_style(const StyleRecord& s) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_,
                     "INSERT INTO styles (id, owner, title, artist, description, created_ms) "
                     "VALUES (?,?,?,?,?,?)");
  st.bind(s.id).bind(s.owner).bind(s.title).bind(s.artist).bind(s.description).bind(s.created_ms);
  st.step();
}

namespace {
template <class St>
StyleRecord sqlite_read_style(const St& st) {
  StyleRecord s;
  s.id = st.text(0);
  s.owner = st.text(1);
  s.title = st.text(2);
  s.artist = st.text(3);
  s.description = st.text(4);
  s.created_ms = st.integer(5);
  return s;
}
}  // namespace

std::optional<StyleRecord> SqliteJobStore::get_style(const std::string& id) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(
      db_, "SELECT id, owner, title, artist, description, created_ms FROM styles WHERE id=?");
  st.bind(id);
  if (!st.step()) return std::nullopt;
  return sqlite_read_style(st);
}

std::vector<StyleRecord> SqliteJobStore::list_styles(const std::string& owner) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_,
                     "SELECT id, owner, title, artist, description, created_ms FROM styles "
                     "WHERE owner=? ORDER BY created_ms, rowid");
  st.bind(owner);
  std::vector<StyleRecord> out;
  while (st.step()) out.push_back(sqlite_read_style(st));
  return out;
}

bool SqliteJobStore::remove_style(const std::string& id) {
  std::lock_guard lock(mutex_);
  SqliteStatement st(db_, "DELETE FROM styles WHERE id=?");
  st.bind(id);
  st.step();
  return st.changes() > 0;
}

}  // namespace pastiche
