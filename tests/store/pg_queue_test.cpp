// What only the PostgreSQL backend does: wake-ups and job updates across processes through
// LISTEN/NOTIFY, the polling fallback when a notification is missed, the listener's reconnect,
// and the versioned schema (idempotent, concurrent, upgraded from version 1 with its data).
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "store/pg_schema.h"
#include "store_backends.h"

namespace pastiche::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

class PgQueue : public ::testing::Test {
 protected:
  void SetUp() override {
    PASTICHE_SKIP_WITHOUT_POSTGRES();
    backend_ = std::make_unique<PgBackend>();
  }
  std::unique_ptr<PgBackend> backend_;
};

TEST_F(PgQueue, AnEnqueueOnOneNodeWakesAWorkerWaitingOnAnother) {
  auto worker = backend_->open();
  auto api = backend_->open();
  auto started = steady_clock::now();
  auto waiter = std::async(std::launch::async,
                           [&] { return worker->queue().wait_for_work("gatys", seconds(60)); });
  JobRecord j = make_job("o", 1, JobStatus::queued, "gatys");
  ASSERT_TRUE(api->queue().enqueue(j, 0));
  ASSERT_EQ(waiter.wait_for(seconds(10)), std::future_status::ready) << "no wake-up";
  EXPECT_TRUE(waiter.get());
  EXPECT_LT(steady_clock::now() - started, seconds(10));
  EXPECT_EQ(worker->queue().claim("gatys", "w", 1000)->id, j.id);
}

// Only a notification can end this wait (no job is queued): NOTIFY pastiche_work from any
// connection wakes the waiter through the listener.
TEST_F(PgQueue, ANotificationAloneWakesAWaiter) {
  auto worker = backend_->open();
  auto waiter = std::async(std::launch::async,
                           [&] { return worker->queue().wait_for_work("fast", seconds(60)); });
  pqxx::connection c(backend_->url());
  auto deadline = steady_clock::now() + seconds(10);
  while (waiter.wait_for(milliseconds(20)) != std::future_status::ready &&
         steady_clock::now() < deadline) {
    pqxx::nontransaction tx(c);
    tx.exec("NOTIFY pastiche_work, 'gatys'");  // another lane: no wake-up
    tx.exec("NOTIFY pastiche_work, 'fast'");
  }
  ASSERT_EQ(waiter.wait_for(seconds(0)), std::future_status::ready) << "no wake-up";
  EXPECT_TRUE(waiter.get());
}

// A job inserted without a notification (as after a lost one) is still found: every wait
// re-checks the database and ends at its timeout, so a worker loop claims it within one.
TEST_F(PgQueue, AMissedNotificationIsCoveredByThePollingFallback) {
  auto worker = backend_->open();
  auto other = backend_->open();
  std::atomic<bool> stop{false};
  auto loop = std::async(std::launch::async, [&]() -> std::optional<JobRecord> {
    while (!stop) {
      if (auto job = worker->queue().claim("fast", "w", 1000)) return job;
      worker->queue().wait_for_work("fast", milliseconds(200));
    }
    return std::nullopt;
  });
  JobRecord j = make_job("o", 1, JobStatus::queued);
  other->jobs().insert(j);  // JobStore::insert sends no NOTIFY
  auto status = loop.wait_for(seconds(10));
  stop = true;
  ASSERT_EQ(status, std::future_status::ready);
  auto claimed = loop.get();
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, j.id);
}

TEST_F(PgQueue, ASubscriberOnOneNodeFollowsAJobRunOnAnother) {
  auto api = backend_->open();
  auto worker = backend_->open();
  UpdateLog log;
  int token = api->queue().subscribe(log.callback());
  JobRecord j = make_job("o", 1, JobStatus::queued);
  ASSERT_TRUE(api->queue().enqueue(j, 0));
  ASSERT_TRUE(worker->queue().claim("fast", "w", 10'000));
  log.clear();
  worker->queue().publish_progress(j.id, R"({"iteration":5})");
  ASSERT_TRUE(log.wait_for(j.id));
  EXPECT_EQ(api->jobs().get(j.id)->progress, R"({"iteration":5})");
  // A cancel sent to the API node reaches the worker's next heartbeat.
  EXPECT_EQ(api->queue().request_cancel(j.id), JobQueue::CancelOutcome::cancelling);
  EXPECT_EQ(worker->queue().heartbeat("w", 10'000), std::vector<std::string>{j.id});
  api->queue().unsubscribe(token);
}

// The listener's connection is killed: it reconnects, tells subscribers that notifications
// may have been lost (an empty id), and wake-ups work again.
TEST_F(PgQueue, TheListenerReconnectsAfterItsConnectionIsKilled) {
  auto worker = backend_->open();
  auto admin = backend_->open();
  auto& queue = dynamic_cast<PgJobQueue&>(worker->queue());
  UpdateLog log;
  int token = queue.subscribe(log.callback());
  const int pid = queue.listener_backend_pid();
  ASSERT_NE(pid, 0);
  {
    pqxx::connection c(backend_->url());
    pqxx::nontransaction tx(c);
    EXPECT_TRUE(tx.exec_params1("SELECT pg_terminate_backend($1)", pid)[0].as<bool>());
  }
  ASSERT_TRUE(log.wait_for("", seconds(20))) << "no reconnect";
  EXPECT_NE(queue.listener_backend_pid(), pid);
  auto waiter =
      std::async(std::launch::async, [&] { return queue.wait_for_work("fast", seconds(60)); });
  ASSERT_TRUE(admin->queue().enqueue(make_job("o", 1, JobStatus::queued), 0));
  ASSERT_EQ(waiter.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_TRUE(waiter.get());
  queue.unsubscribe(token);
}

// A pool connection killed between calls is replaced on the next call.
TEST_F(PgQueue, ABrokenPoolConnectionIsReplaced) {
  PgDatabase db(backend_->url(), 1);
  PgJobStore store(db);
  const int pid = db.autocommit(
      [](pqxx::transaction_base& tx) { return tx.exec1("SELECT pg_backend_pid()")[0].as<int>(); });
  {
    pqxx::connection c(backend_->url());
    pqxx::nontransaction tx(c);
    tx.exec_params("SELECT pg_terminate_backend($1)", pid);
  }
  ASSERT_TRUE(eventually(
      [&] {
        pqxx::connection c(backend_->url());
        pqxx::nontransaction tx(c);
        return tx.exec_params("SELECT 1 FROM pg_stat_activity WHERE pid=$1", pid).empty();
      },
      seconds(15), milliseconds(10)));
  EXPECT_EQ(store.count_by_owner(""), 0);
  EXPECT_EQ(store.health_check(), "");
}

TEST(PgDatabase, AWrongUrlIsNamedWithoutItsPassword) {
  try {
    PgDatabase db("postgresql://user:s3cret@/nodb?host=/nonexistent-dir&connect_timeout=2");
    FAIL() << "connected";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("cannot connect to PostgreSQL"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret"), std::string::npos) << what;
    EXPECT_NE(what.find("user:***@"), std::string::npos) << what;
  }
  EXPECT_EQ(redact_database_url("postgresql:///db?host=/x&password=abc&user=u"),
            "postgresql:///db?host=/x&password=***&user=u");
}

class PgMigrations : public ::testing::Test {
 protected:
  void SetUp() override {
    PASTICHE_SKIP_WITHOUT_POSTGRES();
    database_ = std::make_unique<PgTestDatabase>();
  }
  int applied_rows() {
    pqxx::connection c(database_->url());
    pqxx::nontransaction tx(c);
    return tx.exec1("SELECT COUNT(*) FROM schema_migrations")[0].as<int>();
  }
  std::unique_ptr<PgTestDatabase> database_;
};

TEST_F(PgMigrations, OpeningTwiceOrConcurrentlyAppliesEachVersionOnce) {
  std::vector<std::thread> openers;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    openers.emplace_back([&] {
      PgDatabase db(database_->url(), 1);
      ++opened;
    });
  }
  for (auto& t : openers) t.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(applied_rows(), kPgSchemaVersion);
  PgDatabase again(database_->url());
  EXPECT_EQ(applied_rows(), kPgSchemaVersion);
  pqxx::connection c(database_->url());
  EXPECT_EQ(postgres_schema_version(c), kPgSchemaVersion);
}

// A database at version 1 (jobs and styles, no queue columns, no images) with data: opening it
// upgrades it in place and keeps every job and style; a running job there is recovered.
TEST_F(PgMigrations, UpgradingFromVersion1KeepsEveryJobAndStyle) {
  {
    pqxx::connection c(database_->url());
    migrate_postgres(c, 1);
    EXPECT_EQ(postgres_schema_version(c), 1);
    pqxx::work tx(c);
    tx.exec(
        "INSERT INTO jobs (id, owner, method, style, params, status, created_ms, finished_ms,"
        " width, height, fetched_ms) VALUES"
        " ('j1', 'o', 'fast', 'tiny', '{}', 'done', 5, 6, 64, 48, 9),"
        " ('j2', 'o', 'gatys', 'tiny', '{}', 'running', 7, 0, 0, 0, 0)");
    tx.exec(
        "INSERT INTO styles (id, owner, title, artist, description, created_ms)"
        " VALUES ('s1', 'o', 'T', 'A', 'D', 7)");
    tx.commit();
  }
  PgDatabase db(database_->url());
  PgJobStore store(db);
  auto job = store.get("j1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, JobStatus::done);
  EXPECT_EQ(job->width, 64);
  EXPECT_EQ(job->fetched_ms, 9);
  EXPECT_EQ(job->worker_id, "");
  ASSERT_TRUE(store.get_style("s1"));
  EXPECT_EQ(store.get_style("s1")->title, "T");
  EXPECT_EQ(store.count_by_owner("o"), 2);
  PgJobQueue queue(db);
  auto reaped = queue.reap(3);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(reaped[0].id, "j2");
  EXPECT_EQ(queue.claim("gatys", "w", 1000)->id, "j2");
  PgImageStore images(db);
  EXPECT_EQ(images.total_bytes(), 0);
  EXPECT_EQ(applied_rows(), kPgSchemaVersion);
  // Version 4: image bytes out of line, uncompressed ('e'xternal storage), and still readable.
  pqxx::connection c(database_->url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT attstorage FROM pg_attribute WHERE attrelid = 'images'::regclass"
                     " AND attname = 'bytes'")[0]
                .as<std::string>(),
            "e");
  std::string blob(100000, 'x');
  images.put("jobs/j1/result.png", blob);
  EXPECT_EQ(images.get("jobs/j1/result.png"), blob);
  EXPECT_EQ(images.total_bytes(), 100000);
}

}  // namespace
}  // namespace pastiche::testing
