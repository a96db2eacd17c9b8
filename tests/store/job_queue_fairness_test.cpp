// The fair queue on both backends: claims take turns between clients within a lane (one client's
// backlog delays another client's next job by at most one job), each client's jobs keep their
// order, positions follow the claim order, and the per-client caps of enqueue (jobs per lane,
// estimated seconds in all) hold, also under concurrent enqueues from several connections.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include "store/pg_schema.h"
#include "store/sqlite_schema.h"
#include "store_backends.h"

namespace pastiche::testing {
namespace {

using Refusal = EnqueueResult::Refusal;

const std::string kA = "client-a-0000000000";
const std::string kB = "client-b-0000000000";
const std::string kC = "client-c-0000000000";

class FairQueue : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    h_ = backend().open(clock_.clock());
  }
  JobQueue& queue() { return h_->queue(); }
  JobStore& jobs() { return h_->jobs(); }

  JobRecord enqueue(const std::string& owner, const std::string& lane = "fast") {
    JobRecord j = make_job(owner, ++created_, JobStatus::queued, lane);
    EXPECT_TRUE(queue().enqueue(j, 0));
    return j;
  }
  std::vector<JobRecord> enqueue_n(const std::string& owner, int n,
                                   const std::string& lane = "fast") {
    std::vector<JobRecord> out;
    for (int i = 0; i < n; ++i) out.push_back(enqueue(owner, lane));
    return out;
  }
  std::string claim(const std::string& lane = "fast") {
    auto job = queue().claim(lane, "w1", 60'000);
    return job ? job->id : "";
  }
  void finish(const std::string& id) {
    auto job = jobs().get(id);
    ASSERT_TRUE(job);
    job->status = JobStatus::done;
    job->finished_ms = clock_.now();
    ASSERT_TRUE(queue().finish(*job, "w1"));
  }
  // Claims and finishes every queued job of the lane, one at a time, as one worker would.
  std::vector<std::string> drain(const std::string& lane = "fast") {
    std::vector<std::string> order;
    for (std::string id = claim(lane); !id.empty(); id = claim(lane)) {
      order.push_back(id);
      finish(id);
      clock_.advance(10);
    }
    return order;
  }
  EnqueueResult enqueue_with(const JobRecord& job, const EnqueueOptions& options) {
    return queue().enqueue(job, options);
  }

  TestClock clock_;
  std::unique_ptr<StoreHandle> h_;
  int64_t created_ = 100;
};

// The case: client A has a backlog and a job running; client B's job is the next claimed.
TEST_P(FairQueue, AClientArrivingBehindABacklogIsClaimedNext) {
  auto a = enqueue_n(kA, 6);
  ASSERT_EQ(claim(), a[0].id);  // A's first runs
  JobRecord b = enqueue(kB);
  EXPECT_EQ(queue().position(b.id), 1);
  EXPECT_EQ(queue().position(a[1].id), 2);
  finish(a[0].id);
  EXPECT_EQ(claim(), b.id);  // not A's second
  finish(b.id);
  // Then A's jobs, in their own order.
  EXPECT_EQ(drain(), (std::vector<std::string>{a[1].id, a[2].id, a[3].id, a[4].id, a[5].id}));
}

// Nothing running when B arrives: A's next job was already due, B's comes right after it.
TEST_P(FairQueue, WithNothingRunningTheOtherClientWaitsForAtMostOneJob) {
  auto a = enqueue_n(kA, 5);
  JobRecord b = enqueue(kB);
  EXPECT_EQ(queue().position(b.id), 2);
  auto order = drain();
  ASSERT_EQ(order.size(), 6u);
  EXPECT_EQ(order[0], a[0].id);
  EXPECT_EQ(order[1], b.id);
}

TEST_P(FairQueue, ClientsTakeTurnsAndEachKeepsItsOwnOrder) {
  auto a = enqueue_n(kA, 3);
  auto b = enqueue_n(kB, 3);
  JobRecord c = enqueue(kC);
  // Positions are the claim order as the queue stands.
  EXPECT_EQ(queue().position(a[0].id), 1);
  EXPECT_EQ(queue().position(b[0].id), 2);
  EXPECT_EQ(queue().position(c.id), 3);
  EXPECT_EQ(queue().position(a[1].id), 4);
  EXPECT_EQ(queue().position(b[2].id), 7);
  EXPECT_EQ(drain(),
            (std::vector<std::string>{a[0].id, b[0].id, c.id, a[1].id, b[1].id, a[2].id, b[2].id}));
}

// Two workers: while A holds both, B's job is next; a client's job queued while its previous one
// runs waits behind the others' next turn, not in front of them.
TEST_P(FairQueue, TurnsHoldWithSeveralJobsRunning) {
  auto a = enqueue_n(kA, 4);
  ASSERT_EQ(claim(), a[0].id);
  ASSERT_EQ(claim(), a[1].id);
  JobRecord b1 = enqueue(kB);
  EXPECT_EQ(claim(), b1.id);
  JobRecord b2 = enqueue(kB);  // B's first still runs
  EXPECT_EQ(queue().position(a[2].id), 1);
  EXPECT_EQ(queue().position(b2.id), 2);
  EXPECT_EQ(claim(), a[2].id);
  EXPECT_EQ(claim(), b2.id);
  EXPECT_EQ(claim(), a[3].id);
}

TEST_P(FairQueue, LanesTakeTurnsIndependently) {
  auto a_gatys = enqueue_n(kA, 3, "gatys");
  auto a_fast = enqueue_n(kA, 2, "fast");
  JobRecord b_fast = enqueue(kB, "fast");
  JobRecord b_gatys = enqueue(kB, "gatys");
  EXPECT_EQ(claim("gatys"), a_gatys[0].id);
  EXPECT_EQ(claim("fast"), a_fast[0].id);
  EXPECT_EQ(claim("fast"), b_fast.id);
  EXPECT_EQ(claim("gatys"), b_gatys.id);
  EXPECT_EQ(claim("gatys"), a_gatys[1].id);
  EXPECT_EQ(claim("fast"), a_fast[1].id);
}

// A job that goes back to the queue (a draining worker, an expired lease) keeps its turn: it runs
// again before the turns queued after it.
TEST_P(FairQueue, AReleasedJobKeepsItsTurn) {
  auto a = enqueue_n(kA, 2);
  ASSERT_EQ(claim(), a[0].id);
  JobRecord b = enqueue(kB);
  ASSERT_TRUE(queue().release(a[0].id, "w1"));
  EXPECT_EQ(queue().position(a[0].id), 1);
  EXPECT_EQ(claim(), a[0].id);
  EXPECT_EQ(claim(), b.id);
  EXPECT_EQ(claim(), a[1].id);
}

TEST_P(FairQueue, TheJobCapCountsTheClientsQueuedAndRunningJobsOfTheLane) {
  EnqueueOptions cap;
  cap.max_client_jobs = 2;
  JobRecord a1 = make_job(kA, 1, JobStatus::queued, "gatys");
  JobRecord a2 = make_job(kA, 2, JobStatus::queued, "gatys");
  JobRecord a3 = make_job(kA, 3, JobStatus::queued, "gatys");
  EXPECT_TRUE(enqueue_with(a1, cap).ok());
  EXPECT_TRUE(enqueue_with(a2, cap).ok());
  ASSERT_EQ(claim("gatys"), a1.id);  // running still counts
  auto refused = enqueue_with(a3, cap);
  EXPECT_EQ(refused.refused, Refusal::client_jobs);
  EXPECT_STREQ(to_string(refused.refused), "client_jobs");
  EXPECT_EQ(refused.client_jobs, 2);
  EXPECT_FALSE(jobs().get(a3.id));  // nothing inserted
  // Another lane, another client: their own counts.
  EXPECT_TRUE(enqueue_with(make_job(kA, 4, JobStatus::queued, "fast"), cap).ok());
  EXPECT_TRUE(enqueue_with(make_job(kB, 5, JobStatus::queued, "gatys"), cap).ok());
  // A finished job frees its place.
  finish(a1.id);
  EXPECT_TRUE(enqueue_with(a3, cap).ok());
}

TEST_P(FairQueue, TheWorkCapSumsEstimatedSecondsOverEveryLane) {
  EnqueueOptions cap;
  cap.max_client_seconds = 250;
  cap.estimated_seconds = 100;
  JobRecord a1 = make_job(kA, 1, JobStatus::queued, "gatys");
  EXPECT_TRUE(enqueue_with(a1, cap).ok());
  EXPECT_TRUE(enqueue_with(make_job(kA, 2, JobStatus::queued, "fast"), cap).ok());
  JobRecord a3 = make_job(kA, 3, JobStatus::queued, "gatys");
  auto refused = enqueue_with(a3, cap);
  EXPECT_EQ(refused.refused, Refusal::client_seconds);
  EXPECT_DOUBLE_EQ(refused.client_seconds, 200);
  EXPECT_DOUBLE_EQ(refused.client_lane_seconds, 100);
  EXPECT_EQ(refused.client_jobs, 1);
  EXPECT_FALSE(jobs().get(a3.id));
  // Another client is not affected, and one job is always accepted from a client with none,
  // however long.
  EnqueueOptions huge = cap;
  huge.estimated_seconds = 10'000;
  EXPECT_TRUE(enqueue_with(make_job(kB, 4, JobStatus::queued, "gatys"), huge).ok());
  EXPECT_EQ(enqueue_with(make_job(kB, 5, JobStatus::queued, "fast"), cap).refused,
            Refusal::client_seconds);
  // Finished work no longer counts.
  ASSERT_EQ(claim("gatys"), a1.id);
  finish(a1.id);
  EXPECT_TRUE(enqueue_with(a3, cap).ok());
}

TEST_P(FairQueue, TheQueueBoundIsReportedAsSuch) {
  EnqueueOptions options;
  options.max_queued = 1;
  options.max_client_jobs = 5;
  EXPECT_TRUE(enqueue_with(make_job(kA, 1, JobStatus::queued), options).ok());
  EXPECT_EQ(enqueue_with(make_job(kB, 2, JobStatus::queued), options).refused, Refusal::queue_full);
}

// One client's burst from several connections at once (several API nodes, with PostgreSQL)
// cannot exceed its cap.
TEST_P(FairQueue, TheJobCapHoldsUnderConcurrentEnqueues) {
  constexpr int kThreads = 4, kEach = 10, kCap = 5;
  std::atomic<int> accepted{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto h = backend().open();
      EnqueueOptions cap;
      cap.max_client_jobs = kCap;
      cap.max_client_seconds = 1e9;
      cap.estimated_seconds = 1;
      for (int i = 0; i < kEach; ++i) {
        auto r = h->queue().enqueue(make_job(kA, t * 100 + i, JobStatus::queued), cap);
        (r.ok() ? accepted : refused)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), kCap);
  EXPECT_EQ(refused.load(), kThreads * kEach - kCap);
  EXPECT_EQ(queue().queued_by_lane()["fast"], kCap);
}

PASTICHE_INSTANTIATE_BACKENDS(FairQueue);

// A's three jobs and B's one, queued before the fair queue existed (first come, first served):
// after the upgrade they take turns too, each client's in its own order.
const char* const kQueuedBeforeTheUpgrade =
    "INSERT INTO jobs (id, owner, method, style, params, status, created_ms) VALUES"
    " ('a1', 'client-a', 'gatys', 's', '{}', 'queued', 1),"
    " ('a2', 'client-a', 'gatys', 's', '{}', 'queued', 2),"
    " ('a3', 'client-a', 'gatys', 's', '{}', 'queued', 3),"
    " ('b1', 'client-b', 'gatys', 's', '{}', 'queued', 4),"
    " ('d0', 'client-b', 'gatys', 's', '{}', 'done', 0)";

std::vector<std::string> claim_all(JobQueue& queue) {
  std::vector<std::string> ids;
  while (auto job = queue.claim("gatys", "w", 1000)) ids.push_back(job->id);
  return ids;
}

TEST(FairQueueUpgrade, SqliteJobsQueuedBeforeTheUpgradeTakeTurns) {
  TempDir dir;
  const std::string path = dir.file("jobs.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  migrate_sqlite(db, 2);
  ASSERT_EQ(sqlite3_exec(db, kQueuedBeforeTheUpgrade, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  SqliteJobStore store(path);
  SqliteJobQueue queue(store);
  EXPECT_EQ(queue.position("b1"), 2);
  EXPECT_EQ(claim_all(queue), (std::vector<std::string>{"a1", "b1", "a2", "a3"}));
}

TEST(FairQueueUpgrade, PostgresJobsQueuedBeforeTheUpgradeTakeTurns) {
  PASTICHE_SKIP_WITHOUT_POSTGRES();
  PgTestDatabase database;
  {
    pqxx::connection c(database.url());
    migrate_postgres(c, 6);
    pqxx::work tx(c);
    tx.exec(kQueuedBeforeTheUpgrade);
    tx.commit();
  }
  PgDatabase db(database.url());
  PgJobQueue queue(db);
  EXPECT_EQ(queue.position("b1"), 2);
  EXPECT_EQ(claim_all(queue), (std::vector<std::string>{"a1", "b1", "a2", "a3"}));
}

}  // namespace
}  // namespace pastiche::testing
