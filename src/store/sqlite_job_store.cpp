#include "store/sqlite_job_store.h"

#include <sqlite3.h>

#include <ctime>
#include <stdexcept>
#include <utility>

namespace pastiche {

const char* to_string(JobStatus s) {
  switch (s) {
    case JobStatus::queued:
      return "queued";
    case JobStatus::running:
      return "running";
    case JobStatus::done:
      return "done";
    case JobStatus::failed:
      return "failed";
    case JobStatus::cancelled:
      return "cancelled";
    case JobStatus::expired:
      return "expired";
  }
  return "unknown";
}

JobStatus parse_job_status(const std::string& s) {
  for (auto st : {JobStatus::queued, JobStatus::running, JobStatus::done, JobStatus::failed,
                  JobStatus::cancelled, JobStatus::expired}) {
    if (s == to_string(st)) return st;
  }
  throw std::invalid_argument("unknown job status '" + s + "'");
}

// A prepared statement that binds by position and finalises itself.
class SqliteJobStore::Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(st_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(const std::string& v) {
    sqlite3_bind_text(st_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(const char* v) { return bind(std::string(v)); }
  Statement& bind(int64_t v) {
    sqlite3_bind_int64(st_, ++index_, v);
    return *this;
  }
  Statement& bind(int v) { return bind(static_cast<int64_t>(v)); }
  Statement& bind(double v) {
    sqlite3_bind_double(st_, ++index_, v);
    return *this;
  }
  // True while a row is available.
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("sqlite step: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    auto p = sqlite3_column_text(st_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(st_, col)))
             : std::string();
  }
  int64_t integer(int col) const { return sqlite3_column_int64(st_, col); }
  double real(int col) const { return sqlite3_column_double(st_, col); }
  int changes() const { return sqlite3_changes(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  int index_ = 0;
};

namespace {
constexpr const char* kJobColumns =
    "id, owner, method, style, style_title, params, status, progress, error, attempts, "
    "created_ms, started_ms, finished_ms, seconds, width, height, fetched_ms";
}

namespace {

std::string recovery_hint(const std::string& path) {
  return " Restore a backup with `pastiche admin restore BACKUP --data-dir DIR` (server "
         "stopped), or move '" +
         path + "' aside and start with --init to begin an empty history.";
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
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    migrate();
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
    Statement st(db_, "PRAGMA quick_check");
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

// Schema versions: each step runs once, in a transaction, on both new and existing files.
void SqliteJobStore::migrate() {
  exec(
      "CREATE TABLE IF NOT EXISTS jobs ("
      " id TEXT PRIMARY KEY, owner TEXT NOT NULL, method TEXT NOT NULL, style TEXT NOT NULL,"
      " style_title TEXT NOT NULL DEFAULT '', params TEXT NOT NULL, status TEXT NOT NULL,"
      " progress TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',"
      " attempts INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
      " started_ms INTEGER NOT NULL DEFAULT 0, finished_ms INTEGER NOT NULL DEFAULT 0,"
      " seconds REAL NOT NULL DEFAULT 0, width INTEGER NOT NULL DEFAULT 0,"
      " height INTEGER NOT NULL DEFAULT 0)");
  exec("CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, created_ms)");
  exec("CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, created_ms)");
  exec(
      "CREATE TABLE IF NOT EXISTS styles ("
      " id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, artist TEXT NOT NULL,"
      " description TEXT NOT NULL, created_ms INTEGER NOT NULL)");
  Statement version(db_, "PRAGMA user_version");
  int64_t v = version.step() ? version.integer(0) : 0;
  if (v < 1) {  // 1: results' first download (the quota keeps unfetched results)
    exec("BEGIN IMMEDIATE");
    try {
      bool has_column = false;
      {
        Statement cols(db_, "PRAGMA table_info(jobs)");
        while (cols.step()) has_column = has_column || cols.text(1) == "fetched_ms";
      }
      if (!has_column) exec("ALTER TABLE jobs ADD COLUMN fetched_ms INTEGER NOT NULL DEFAULT 0");
      exec("CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, checked_ms INTEGER)");
      exec("PRAGMA user_version = 1");
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

std::string SqliteJobStore::health_check() {
  std::lock_guard lock(mutex_);
  try {
    {
      Statement read(db_, "SELECT COUNT(*) FROM jobs WHERE rowid = (SELECT MAX(rowid) FROM jobs)");
      read.step();
    }
    Statement write(db_, "INSERT OR REPLACE INTO health (id, checked_ms) VALUES (1, ?)");
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

void SqliteJobStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error("sqlite (" + path_ + "): " + msg);
  }
}

std::vector<JobRecord> SqliteJobStore::query_jobs(Statement& st) {
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
    out.push_back(std::move(j));
  }
  return out;
}

void SqliteJobStore::insert(const JobRecord& j) {
  std::lock_guard lock(mutex_);
  Statement st(db_, (std::string("INSERT INTO jobs (") + kJobColumns +
                     ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
                        .c_str());
  st.bind(j.id).bind(j.owner).bind(j.method).bind(j.style).bind(j.style_title).bind(j.params);
  st.bind(to_string(j.status)).bind(j.progress).bind(j.error).bind(j.attempts);
  st.bind(j.created_ms).bind(j.started_ms).bind(j.finished_ms).bind(j.seconds);
  st.bind(j.width).bind(j.height).bind(j.fetched_ms);
  st.step();
}

std::optional<JobRecord> SqliteJobStore::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement st(db_, (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?").c_str());
  st.bind(id);
  auto rows = query_jobs(st);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

void SqliteJobStore::update(const JobRecord& j) {
  std::lock_guard lock(mutex_);
  Statement st(db_,
               "UPDATE jobs SET method=?, style=?, style_title=?, params=?, status=?, "
               "progress=?, error=?, attempts=?, started_ms=?, finished_ms=?, seconds=?, "
               "width=?, height=? WHERE id=?");
  st.bind(j.method).bind(j.style).bind(j.style_title).bind(j.params).bind(to_string(j.status));
  st.bind(j.progress).bind(j.error).bind(j.attempts).bind(j.started_ms).bind(j.finished_ms);
  st.bind(j.seconds).bind(j.width).bind(j.height).bind(j.id);
  st.step();
}

void SqliteJobStore::update_progress(const std::string& id, const std::string& progress_json) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "UPDATE jobs SET progress=? WHERE id=?");
  st.bind(progress_json).bind(id);
  st.step();
}

bool SqliteJobStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "DELETE FROM jobs WHERE id=?");
  st.bind(id);
  st.step();
  return st.changes() > 0;
}

std::vector<JobRecord> SqliteJobStore::list_by_owner(const std::string& owner, int limit,
                                                     int offset) {
  std::lock_guard lock(mutex_);
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs " +
                    (owner.empty() ? "" : "WHERE owner=? ") +
                    "ORDER BY created_ms DESC, rowid DESC LIMIT ? OFFSET ?";
  Statement st(db_, sql.c_str());
  if (!owner.empty()) st.bind(owner);
  st.bind(limit).bind(offset);
  return query_jobs(st);
}

int64_t SqliteJobStore::count_by_owner(const std::string& owner) {
  std::lock_guard lock(mutex_);
  Statement st(
      db_, owner.empty() ? "SELECT COUNT(*) FROM jobs" : "SELECT COUNT(*) FROM jobs WHERE owner=?");
  if (!owner.empty()) st.bind(owner);
  return st.step() ? st.integer(0) : 0;
}

std::vector<JobRecord> SqliteJobStore::list_by_status(JobStatus status) {
  std::lock_guard lock(mutex_);
  Statement st(db_, (std::string("SELECT ") + kJobColumns +
                     " FROM jobs WHERE status=? ORDER BY created_ms, rowid")
                        .c_str());
  st.bind(to_string(status));
  return query_jobs(st);
}

std::vector<JobRecord> SqliteJobStore::list_evictable(int64_t finished_before_ms, int limit) {
  std::lock_guard lock(mutex_);
  Statement st(db_, (std::string("SELECT ") + kJobColumns +
                     " FROM jobs WHERE status IN ('done','failed','cancelled') AND finished_ms < ?"
                     " AND (status != 'done' OR fetched_ms > 0)"
                     " ORDER BY finished_ms, created_ms, rowid LIMIT ?")
                        .c_str());
  st.bind(finished_before_ms).bind(limit);
  return query_jobs(st);
}

void SqliteJobStore::mark_fetched(const std::string& id, int64_t ms) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "UPDATE jobs SET fetched_ms=? WHERE id=? AND fetched_ms=0");
  st.bind(ms).bind(id);
  st.step();
}

std::map<JobStatus, int64_t> SqliteJobStore::count_by_status() {
  std::lock_guard lock(mutex_);
  Statement st(db_, "SELECT status, COUNT(*) FROM jobs GROUP BY status");
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
  Statement st(db_,
               "INSERT INTO styles (id, owner, title, artist, description, created_ms) "
               "VALUES (?,?,?,?,?,?)");
  st.bind(s.id).bind(s.owner).bind(s.title).bind(s.artist).bind(s.description).bind(s.created_ms);
  st.step();
}

namespace {
template <class St>
StyleRecord read_style(const St& st) {
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
  Statement st(db_,
               "SELECT id, owner, title, artist, description, created_ms FROM styles WHERE id=?");
  st.bind(id);
  if (!st.step()) return std::nullopt;
  return read_style(st);
}

std::vector<StyleRecord> SqliteJobStore::list_styles(const std::string& owner) {
  std::lock_guard lock(mutex_);
  Statement st(db_,
               "SELECT id, owner, title, artist, description, created_ms FROM styles "
               "WHERE owner=? ORDER BY created_ms, rowid");
  st.bind(owner);
  std::vector<StyleRecord> out;
  while (st.step()) out.push_back(read_style(st));
  return out;
}

bool SqliteJobStore::remove_style(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "DELETE FROM styles WHERE id=?");
  st.bind(id);
  st.step();
  return st.changes() > 0;
}

}  // namespace pastiche
