// The stores under the service: the SQLite job store (round trips, listing, the schema upgrade),
// the image store's atomic, confined files, and the disk quota's expiry policy.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <filesystem>

#include "common/fixtures.h"
#include "common/secure_random.h"
#include "store/disk_image_store.h"
#include "store/quota.h"
#include "store/sqlite_job_store.h"

namespace pastiche {
namespace {

using testing::TempDir;

JobRecord make_job(const std::string& owner, int64_t created, JobStatus status) {
  JobRecord j;
  j.id = secure_random_hex(16);
  j.owner = owner;
  j.method = "fast";
  j.style = "tiny";
  j.params = "{}";
  j.status = status;
  j.created_ms = created;
  j.finished_ms = is_finished(status) ? created + 1 : 0;
  return j;
}

TEST(SqliteJobStore, RoundTripListsAndCountsAndSurvivesReopen) {
  TempDir dir;
  std::string path = dir.file("jobs.db");
  JobRecord a = make_job("alice-token-00000", 100, JobStatus::queued);
  JobRecord b = make_job("alice-token-00000", 200, JobStatus::done);
  JobRecord c = make_job("bob-token-0000000", 150, JobStatus::running);
  {
    SqliteJobStore store(path);
    store.insert(a);
    store.insert(b);
    store.insert(c);
    b.progress = R"({"iteration":3})";
    b.width = 64;
    b.seconds = 1.5;
    store.update(b);
    store.update_progress(a.id, R"({"iteration":1})");
  }
  SqliteJobStore store(path);
  auto got = store.get(b.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->width, 64);
  EXPECT_DOUBLE_EQ(got->seconds, 1.5);
  EXPECT_EQ(got->status, JobStatus::done);
  EXPECT_EQ(store.get(a.id)->progress, R"({"iteration":1})");
  auto alice = store.list_by_owner("alice-token-00000", 10, 0);
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_EQ(alice[0].id, b.id);  // newest first
  EXPECT_EQ(store.list_by_owner("alice-token-00000", 1, 1)[0].id, a.id);
  EXPECT_EQ(store.count_by_owner("alice-token-00000"), 2);
  EXPECT_EQ(store.count_by_owner(""), 3);
  EXPECT_EQ(store.list_by_status(JobStatus::running).size(), 1u);
  EXPECT_EQ(store.count_by_status()[JobStatus::queued], 1);
  EXPECT_FALSE(store.get(secure_random_hex(16)));
  EXPECT_TRUE(store.remove(a.id));
  EXPECT_FALSE(store.remove(a.id));

  StyleRecord s{secure_random_hex(16), "alice-token-00000", "T", "A", "D", 5};
  store.insert_style(s);
  EXPECT_EQ(store.list_styles("alice-token-00000").size(), 1u);
  EXPECT_TRUE(store.list_styles("bob-token-0000000").empty());
  EXPECT_TRUE(store.remove_style(s.id));
  EXPECT_FALSE(store.get_style(s.id));
}

TEST(DiskImageStore, AtomicPutsSizesAndSafeKeys) {
  TempDir dir;
  DiskImageStore images(dir.path() / "images");
  images.put("jobs/abc/result.png", "12345");
  images.put("jobs/abc/thumb.jpg", "123");
  EXPECT_EQ(images.total_bytes(), 8);
  images.put("jobs/abc/result.png", "1");  // replace
  EXPECT_EQ(images.total_bytes(), 4);
  EXPECT_EQ(*images.get("jobs/abc/result.png"), "1");
  EXPECT_FALSE(images.get("jobs/abc/none.png"));
  for (const char* bad :
       {"../x", "/etc/passwd", "jobs/../../x", "jobs/.hidden", "Jobs/X", "a//b", ""}) {
    EXPECT_THROW(images.put(bad, "x"), std::invalid_argument) << bad;
  }
  images.remove_prefix("jobs/abc/");
  EXPECT_EQ(images.total_bytes(), 0);
  EXPECT_FALSE(images.exists("jobs/abc/thumb.jpg"));
  images.put("jobs/x/a.png", "xx");
  DiskImageStore reopened(dir.path() / "images");
  EXPECT_EQ(reopened.total_bytes(), 2);
}

TEST(Quota, ExpiresOldestFinishedFirstAndNeverLiveRecentOrUnfetchedJobs) {
  TempDir dir;
  SqliteJobStore jobs(dir.file("jobs.db"));
  DiskImageStore images(dir.path() / "images");
  const int64_t now = 1'000'000, keep = 1000;
  JobRecord running = make_job("o-000000000000000", 1, JobStatus::running);
  JobRecord old_fetched = make_job("o-000000000000000", 2, JobStatus::done);
  old_fetched.fetched_ms = 5;
  JobRecord old_failed = make_job("o-000000000000000", 3, JobStatus::failed);
  JobRecord old_unfetched = make_job("o-000000000000000", 4, JobStatus::done);
  JobRecord recent = make_job("o-000000000000000", now - 10, JobStatus::done);
  recent.fetched_ms = now - 5;
  for (auto* j : {&running, &old_fetched, &old_failed, &old_unfetched, &recent}) {
    jobs.insert(*j);
    images.put(job_prefix(j->id) + "result.png", std::string(100, 'x'));
  }
  std::vector<std::string> told;
  auto expired = enforce_quota(jobs, images, 450, now, keep,
                               [&](const JobRecord& j) { told.push_back(j.id); });
  ASSERT_EQ(expired, std::vector<std::string>{old_fetched.id});
  EXPECT_EQ(told, expired);
  // Expired jobs stay in the history, without images.
  ASSERT_TRUE(jobs.get(old_fetched.id));
  EXPECT_EQ(jobs.get(old_fetched.id)->status, JobStatus::expired);
  EXPECT_FALSE(images.exists(job_prefix(old_fetched.id) + "result.png"));

  expired = enforce_quota(jobs, images, 10, now, keep);
  // Only the old failed job could go: the running, the unfetched and the recent one stay.
  EXPECT_EQ(expired, std::vector<std::string>{old_failed.id});
  for (const auto* kept : {&running, &old_unfetched, &recent}) {
    EXPECT_TRUE(images.exists(job_prefix(kept->id) + "result.png")) << kept->id;
    EXPECT_FALSE(jobs.get(kept->id)->status == JobStatus::expired);
  }
  // Once downloaded and old enough, the unfetched one may go too.
  jobs.mark_fetched(old_unfetched.id, now - 2000);
  EXPECT_EQ(enforce_quota(jobs, images, 10, now, keep), std::vector<std::string>{old_unfetched.id});
  EXPECT_TRUE(enforce_quota(jobs, images, 0, now, keep).empty());  // disabled
}

// A database made by the schema before versioning (no fetched_ms, user_version 0) is upgraded in
// place on open, keeping every job and style.
TEST(SqliteJobStore, UpgradesADatabaseOfThePreviousSchema) {
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

}  // namespace
}  // namespace pastiche
