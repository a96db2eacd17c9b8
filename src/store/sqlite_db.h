// Small SQLite helpers shared by the SQLite job store, its schema migrations and the SQLite job
// queue: a prepared statement that binds by position, an IMMEDIATE transaction, and the jobs
// table's row <-> JobRecord mapping. Not used outside src/store.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "store/job_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace pastiche {

// A prepared statement that binds by position and finalises itself. Throws std::runtime_error.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, const std::string& sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  SqliteStatement& bind(const std::string& v);
  SqliteStatement& bind(const char* v) { return bind(std::string(v)); }
  SqliteStatement& bind(int64_t v);
  SqliteStatement& bind(int v) { return bind(static_cast<int64_t>(v)); }
  SqliteStatement& bind(bool v) { return bind(static_cast<int64_t>(v ? 1 : 0)); }
  SqliteStatement& bind(double v);
  bool step();  // true while a row is available
  std::string text(int col) const;
  int64_t integer(int col) const;
  double real(int col) const;
  int changes() const;  // rows changed by the last statement on this connection

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  int index_ = 0;
};

// Runs SQL text without results; throws std::runtime_error naming `what` (the file).
void sqlite_exec(sqlite3* db, const char* sql, const std::string& what = "");

// BEGIN IMMEDIATE (the write lock up front, so two connections never deadlock on an upgrade);
// rolled back on destruction unless commit() ran.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(sqlite3* db);
  ~SqliteTransaction();
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  void commit();

 private:
  sqlite3* db_;
  bool done_ = false;
};

// The jobs table's columns, in the order read_sqlite_jobs() expects.
extern const char* const kSqliteJobColumns;
std::vector<JobRecord> read_sqlite_jobs(SqliteStatement& st);
// Inserts every column of the record.
void insert_sqlite_job(sqlite3* db, const JobRecord& job);
// JobStore::update's columns. With a `holder`, only while that worker holds the running job, and
// the job is released (worker and lease cleared). Returns the rows changed (0 or 1).
int update_sqlite_job(sqlite3* db, const JobRecord& job, const std::string& holder = "");

}  // namespace pastiche
