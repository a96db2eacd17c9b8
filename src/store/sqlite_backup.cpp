// SqliteJobStore's backup and restore, with SQLite's online backup API: a consistent copy while
// the service writes, and a checked copy back while it is stopped.
#include <sqlite3.h>

#include <stdexcept>
#include <string>

#include "store/sqlite_job_store.h"

namespace pastiche {

void SqliteJobStore::backup_to(const std::string& path) {
  sqlite3* dest = nullptr;
  if (sqlite3_open_v2(path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string msg = dest ? sqlite3_errmsg(dest) : "out of memory";
    sqlite3_close(dest);
    throw std::runtime_error("cannot create backup '" + path + "': " + msg);
  }
  std::lock_guard lock(mutex_);
  sqlite3_backup* b = sqlite3_backup_init(dest, "main", db_, "main");
  int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(dest);
  if (b) sqlite3_backup_finish(b);
  std::string msg = sqlite3_errmsg(dest);
  sqlite3_close(dest);
  if (rc != SQLITE_DONE) throw std::runtime_error("backup to '" + path + "' failed: " + msg);
}

void SqliteJobStore::restore(const std::string& backup, const std::string& db_path) {
  sqlite3* src = nullptr;
  if (sqlite3_open_v2(backup.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string msg = src ? sqlite3_errmsg(src) : "out of memory";
    sqlite3_close(src);
    throw std::runtime_error("cannot open backup '" + backup + "': " + msg);
  }
  std::string problem;
  {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(src, "PRAGMA quick_check", -1, &st, nullptr) != SQLITE_OK) {
      problem = sqlite3_errmsg(src);
    } else {
      while (sqlite3_step(st) == SQLITE_ROW) {
        auto text = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        if (text && std::string(text) != "ok" && problem.empty()) problem = text;
      }
      if (problem.empty() && sqlite3_errcode(src) != SQLITE_DONE &&
          sqlite3_errcode(src) != SQLITE_OK) {
        problem = sqlite3_errmsg(src);
      }
    }
    sqlite3_finalize(st);
  }
  if (!problem.empty()) {
    sqlite3_close(src);
    throw std::runtime_error("backup '" + backup + "' is damaged (" + problem + "); not restored");
  }
  sqlite3* dest = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    std::string msg = dest ? sqlite3_errmsg(dest) : "out of memory";
    sqlite3_close(dest);
    sqlite3_close(src);
    throw std::runtime_error("cannot open '" + db_path + "': " + msg);
  }
  sqlite3_backup* b = sqlite3_backup_init(dest, "main", src, "main");
  int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(dest);
  if (b) sqlite3_backup_finish(b);
  std::string msg = sqlite3_errmsg(dest);
  sqlite3_close(dest);
  sqlite3_close(src);
  if (rc != SQLITE_DONE) {
    throw std::runtime_error("restore into '" + db_path + "' failed: " + msg +
                             " (is the server still running?)");
  }
}

}  // namespace pastiche
