// The SQLite schema's migrations: upgrades of databases made by each previous schema (0: before
// versioning, 1: before the queue columns) keep every job and style; opening is idempotent and
// safe from several connections at once. The contracts of both backends are in
// job_store_contract_test.cpp, image_store_contract_test.cpp and job_queue*_test.cpp.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "common/fixtures.h"
#include "store/sqlite_job_queue.h"
#include "store/sqlite_job_store.h"
#include "store/sqlite_schema.h"

namespace pastiche {
namespace {

using testing::TempDir;

// A database made by the schema before versioning (no fetched_ms, user_version 0) is upgraded in
// place on open, keeping every job and style.
TEST(SqliteJobStore, UpgradesADatabaseOfSchemaVersion0) {
  TempDir dir;
  std::string path = dir.file("old.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* old_schema =
      "CREATE TABLE jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, method TEXT NOT NULL,"
      " style TEXT NOT NULL, style_title TEXT NOT NULL DEFAULT '', params TEXT NOT NULL,"
      " status TEXT NOT NULL, progress TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',"
      " attempts INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
      " started_ms INTEGER NOT NULL DEFAULT 0, finished_ms INTEGER NOT NULL DEFAULT 0,"
      " seconds REAL NOT NULL DEFAULT 0, width INTEGER NOT NULL DEFAULT 0,"
      " height INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE styles (id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,"
      " artist TEXT NOT NULL, description TEXT NOT NULL, created_ms INTEGER NOT NULL);"
      "INSERT INTO jobs (id, owner, method, style, params, status, created_ms, finished_ms,"
      " width, height) VALUES ('j1', 'o', 'fast', 'tiny', '{}', 'done', 5, 6, 64, 48);"
      "INSERT INTO styles VALUES ('s1', 'o', 'T', 'A', 'D', 7);";
  ASSERT_EQ(sqlite3_exec(db, old_schema, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  SqliteJobStore store(path);
  auto job = store.get("j1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, JobStatus::done);
  EXPECT_EQ(job->width, 64);
  EXPECT_EQ(job->fetched_ms, 0);
  ASSERT_TRUE(store.get_style("s1"));
  EXPECT_EQ(store.get_style("s1")->title, "T");
  EXPECT_TRUE(store.list_evictable(100, 10).empty());  // never downloaded: kept
  store.mark_fetched("j1", 50);
  store.mark_fetched("j1", 60);  // the first download counts
  EXPECT_EQ(store.get("j1")->fetched_ms, 50);
  EXPECT_EQ(store.list_evictable(100, 10).size(), 1u);
  EXPECT_EQ(store.health_check(), "");
}

int user_version(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  int version = sqlite_schema_version(db);
  sqlite3_close(db);
  return version;
}

// A database of schema version 1 (fetched_ms, no queue columns nor workers) with a finished and
// a running job: upgraded to version 2 on open, every job and style kept, the running job
// recovered by the queue's first reap.
TEST(SqliteJobStore, UpgradesADatabaseOfSchemaVersion1) {
  TempDir dir;
  std::string path = dir.file("v1.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* v1_schema =
      "CREATE TABLE jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, method TEXT NOT NULL,"
      " style TEXT NOT NULL, style_title TEXT NOT NULL DEFAULT '', params TEXT NOT NULL,"
      " status TEXT NOT NULL, progress TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',"
      " attempts INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
      " started_ms INTEGER NOT NULL DEFAULT 0, finished_ms INTEGER NOT NULL DEFAULT 0,"
      " seconds REAL NOT NULL DEFAULT 0, width INTEGER NOT NULL DEFAULT 0,"
      " height INTEGER NOT NULL DEFAULT 0, fetched_ms INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX jobs_owner ON jobs(owner, created_ms);"
      "CREATE INDEX jobs_status ON jobs(status, created_ms);"
      "CREATE TABLE styles (id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,"
      " artist TEXT NOT NULL, description TEXT NOT NULL, created_ms INTEGER NOT NULL);"
      "CREATE TABLE health (id INTEGER PRIMARY KEY, checked_ms INTEGER);"
      "PRAGMA user_version = 1;"
      "INSERT INTO jobs (id, owner, method, style, params, status, created_ms, finished_ms,"
      " width, height, fetched_ms) VALUES ('j1', 'o', 'fast', 'tiny', '{}', 'done', 5, 6, 64,"
      " 48, 9);"
      "INSERT INTO jobs (id, owner, method, style, params, status, attempts, created_ms,"
      " started_ms) VALUES ('j2', 'o', 'gatys', 'tiny', '{}', 'running', 1, 7, 8);"
      "INSERT INTO styles VALUES ('s1', 'o', 'T', 'A', 'D', 7);";
  ASSERT_EQ(sqlite3_exec(db, v1_schema, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  {
    SqliteJobStore store(path);
    auto done = store.get("j1");
    ASSERT_TRUE(done);
    EXPECT_EQ(done->status, JobStatus::done);
    EXPECT_EQ(done->fetched_ms, 9);
    EXPECT_EQ(done->height, 48);
    EXPECT_EQ(done->worker_id, "");
    EXPECT_FALSE(done->cancel_requested);
    ASSERT_TRUE(store.get_style("s1"));
    EXPECT_EQ(store.get_style("s1")->artist, "A");
    EXPECT_EQ(store.count_by_owner("o"), 2);
    SqliteJobQueue queue(store);
    auto reaped = queue.reap(3);
    ASSERT_EQ(reaped.size(), 1u);
    EXPECT_EQ(reaped[0].id, "j2");
    EXPECT_EQ(reaped[0].status, JobStatus::queued);
    auto claimed = queue.claim("gatys", "w", 1000);
    ASSERT_TRUE(claimed);
    EXPECT_EQ(claimed->attempts, 2);
    queue.register_worker({"w", "h", {"gatys"}, 1, 0});
    EXPECT_EQ(queue.list_workers(0).size(), 1u);
  }
  EXPECT_EQ(user_version(path), kSqliteSchemaVersion);
}

// Opening twice changes nothing; several connections opening a new file together all succeed
// and apply each version once.
TEST(SqliteJobStore, OpeningIsIdempotentAndSafeFromSeveralConnectionsAtOnce) {
  TempDir dir;
  std::string path = dir.file("jobs.db");
  std::atomic<int> opened{0};
  std::vector<std::thread> openers;
  for (int i = 0; i < 4; ++i) {
    openers.emplace_back([&] {
      SqliteJobStore store(path);
      ++opened;
    });
  }
  for (auto& t : openers) t.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(user_version(path), kSqliteSchemaVersion);
  {
    SqliteJobStore store(path);
    store.insert_style({"s1", "o", "T", "A", "D", 1});
  }
  SqliteJobStore again(path);
  EXPECT_TRUE(again.get_style("s1"));
  EXPECT_EQ(user_version(path), kSqliteSchemaVersion);
  // Each step re-checks the version inside its transaction, so migrating again is a no-op.
  again.with_db([](sqlite3* db) { migrate_sqlite(db); });
  EXPECT_EQ(user_version(path), kSqliteSchemaVersion);
}

}  // namespace
}  // namespace pastiche
