// The JobQueue contract on both backends, on a stepped clock: lanes and order, the queue bound,
// leases (heartbeat, expiry, reaping, max_attempts), cancel, release, lost leases, workers,
// subscribers and wake-ups.
#include <gtest/gtest.h>

#include <future>

#include "store_backends.h"

namespace pastiche::testing {
namespace {

using std::chrono::milliseconds;
using Outcome = JobQueue::CancelOutcome;

class JobQueueContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    h_ = backend().open(clock_.clock());
  }
  JobQueue& queue() { return h_->queue(); }
  JobStore& jobs() { return h_->jobs(); }
  JobRecord enqueue(const std::string& method = "fast") {
    JobRecord j = make_job("o-000000000000000", ++created_, JobStatus::queued, method);
    EXPECT_TRUE(queue().enqueue(j, 0));
    return j;
  }

  TestClock clock_;
  std::unique_ptr<StoreHandle> h_;
  int64_t created_ = 100;
};

TEST_P(JobQueueContract, ClaimsTheOldestJobOfItsLaneAndFinishesIt) {
  JobRecord f1 = enqueue("fast");
  JobRecord g1 = enqueue("gatys");
  JobRecord f2 = enqueue("fast");
  EXPECT_EQ(queue().position(f1.id), 1);
  EXPECT_EQ(queue().position(g1.id), 1);  // positions are per lane
  EXPECT_EQ(queue().position(f2.id), 2);
  EXPECT_EQ(queue().queued_by_lane(), (std::map<std::string, int64_t>{{"fast", 2}, {"gatys", 1}}));

  auto claimed = queue().claim("fast", "w1", 5000);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, f1.id);
  EXPECT_EQ(claimed->status, JobStatus::running);
  EXPECT_EQ(claimed->attempts, 1);
  EXPECT_EQ(claimed->worker_id, "w1");
  EXPECT_EQ(claimed->started_ms, clock_.now());
  EXPECT_EQ(claimed->lease_expires_ms, clock_.now() + 5000);
  EXPECT_EQ(jobs().get(f1.id)->worker_id, "w1");
  EXPECT_EQ(queue().position(f1.id), 0);  // running: not queued
  EXPECT_EQ(queue().position(f2.id), 1);

  queue().publish_progress(f1.id, R"({"iteration":7})");
  EXPECT_EQ(jobs().get(f1.id)->progress, R"({"iteration":7})");
  JobRecord done = *claimed;
  done.status = JobStatus::done;
  done.finished_ms = clock_.now() + 10;
  done.width = 32;
  EXPECT_TRUE(queue().finish(done, "w1"));
  auto stored = jobs().get(f1.id);
  EXPECT_EQ(stored->status, JobStatus::done);
  EXPECT_EQ(stored->width, 32);
  EXPECT_EQ(stored->worker_id, "");
  EXPECT_EQ(stored->lease_expires_ms, 0);
  EXPECT_FALSE(queue().finish(done, "w1"));  // no longer held

  EXPECT_EQ(queue().claim("gatys", "w2", 5000)->id, g1.id);
  EXPECT_FALSE(queue().claim("gatys", "w2", 5000));
  EXPECT_EQ(queue().claim("fast", "w2", 5000)->id, f2.id);
  EXPECT_TRUE(queue().queued_by_lane().empty());
  EXPECT_FALSE(queue().claim("fast", "w2", 5000));
}

TEST_P(JobQueueContract, EnqueueRespectsTheBoundOverAllLanes) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(queue().enqueue(make_job("o", i, JobStatus::queued, i % 2 ? "gatys" : "fast"), 3));
  }
  JobRecord extra = make_job("o", 9, JobStatus::queued);
  EXPECT_FALSE(queue().enqueue(extra, 3));
  EXPECT_FALSE(jobs().get(extra.id));
  ASSERT_TRUE(queue().claim("fast", "w", 1000));  // running jobs do not count
  EXPECT_TRUE(queue().enqueue(extra, 3));
  EXPECT_TRUE(queue().enqueue(make_job("o", 10, JobStatus::queued), 0));  // 0: no bound
}

// A worker that stops heartbeating loses the job: the reaper queues it again, another worker
// claims it, and the first one can neither finish it nor extend its lease any more.
TEST_P(JobQueueContract, AnExpiredLeaseIsReapedAndClaimedByAnotherWorker) {
  JobRecord j = enqueue();
  ASSERT_TRUE(queue().claim("fast", "w1", 1000));
  clock_.advance(800);
  EXPECT_TRUE(queue().heartbeat("w1", 1000).empty());  // lease now ends at +1800
  clock_.advance(800);
  EXPECT_TRUE(queue().reap(3).empty());  // still held
  clock_.advance(1000);
  auto reaped = queue().reap(3);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(reaped[0].id, j.id);
  EXPECT_EQ(reaped[0].status, JobStatus::queued);
  EXPECT_EQ(jobs().get(j.id)->worker_id, "");
  EXPECT_EQ(queue().position(j.id), 1);

  auto again = queue().claim("fast", "w2", 1000);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempts, 2);
  JobRecord late = *again;
  late.status = JobStatus::done;
  EXPECT_FALSE(queue().finish(late, "w1"));  // lost its lease
  queue().heartbeat("w1", 100'000);
  EXPECT_EQ(jobs().get(j.id)->lease_expires_ms, clock_.now() + 1000);  // w2's lease, untouched
  EXPECT_EQ(jobs().get(j.id)->status, JobStatus::running);
  EXPECT_TRUE(queue().finish(late, "w2"));
}

TEST_P(JobQueueContract, AJobFailsWithAReasonAfterMaxAttempts) {
  JobRecord j = enqueue();
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ASSERT_TRUE(queue().claim("fast", "w" + std::to_string(attempt), 100));
    clock_.advance(200);
    auto reaped = queue().reap(2);
    ASSERT_EQ(reaped.size(), 1u);
    EXPECT_EQ(reaped[0].status, attempt < 2 ? JobStatus::queued : JobStatus::failed);
  }
  auto failed = jobs().get(j.id);
  EXPECT_EQ(failed->status, JobStatus::failed);
  EXPECT_EQ(failed->attempts, 2);
  EXPECT_NE(failed->error.find("interrupted 2 time(s)"), std::string::npos) << failed->error;
  EXPECT_NE(failed->error.find("w2"), std::string::npos) << failed->error;
  EXPECT_EQ(failed->finished_ms, clock_.now());
  EXPECT_FALSE(queue().claim("fast", "w3", 100));
}

// Running jobs found without a lease (a database of the previous schema, or a crash of the
// single-process server) are recovered by the first reap.
TEST_P(JobQueueContract, RunningJobsWithoutALeaseAreRecovered) {
  JobRecord j = make_job("o", 1, JobStatus::running);
  j.attempts = 1;
  jobs().insert(j);
  auto reaped = queue().reap(3);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(jobs().get(j.id)->status, JobStatus::queued);
}

TEST_P(JobQueueContract, CancelIsImmediateWhenQueuedAndFlaggedWhenRunning) {
  JobRecord queued = enqueue();
  JobRecord running = enqueue();
  EXPECT_EQ(queue().request_cancel(queued.id), Outcome::cancelled);
  EXPECT_EQ(jobs().get(queued.id)->status, JobStatus::cancelled);
  EXPECT_EQ(jobs().get(queued.id)->finished_ms, clock_.now());
  EXPECT_EQ(queue().request_cancel(queued.id), Outcome::finished);
  EXPECT_EQ(queue().request_cancel(secure_random_hex(16)), Outcome::not_found);

  auto held = queue().claim("fast", "w1", 1000);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->id, running.id);
  EXPECT_TRUE(queue().heartbeat("w1", 1000).empty());
  EXPECT_EQ(queue().request_cancel(running.id, /*delete_after=*/true), Outcome::cancelling);
  EXPECT_EQ(queue().heartbeat("w2", 1000), std::vector<std::string>{});  // not w2's
  EXPECT_EQ(queue().heartbeat("w1", 1000), std::vector<std::string>{running.id});
  auto flagged = jobs().get(running.id);
  EXPECT_TRUE(flagged->cancel_requested);
  EXPECT_TRUE(flagged->delete_requested);
  EXPECT_EQ(flagged->status, JobStatus::running);
  JobRecord stopped = *flagged;
  stopped.status = JobStatus::cancelled;
  stopped.finished_ms = clock_.now();
  EXPECT_TRUE(queue().finish(stopped, "w1"));
  EXPECT_EQ(jobs().get(running.id)->status, JobStatus::cancelled);
}

TEST_P(JobQueueContract, ReleaseRequeuesWithoutCountingTheAttemptOrCancelsAFlaggedJob) {
  JobRecord a = enqueue();
  JobRecord b = enqueue();
  ASSERT_EQ(queue().claim("fast", "w1", 1000)->id, a.id);
  ASSERT_EQ(queue().claim("fast", "w1", 1000)->id, b.id);
  EXPECT_FALSE(queue().release(a.id, "w2"));  // not w2's
  auto back = queue().release(a.id, "w1");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, JobStatus::queued);
  EXPECT_EQ(back->attempts, 0);
  EXPECT_EQ(jobs().get(a.id)->worker_id, "");
  EXPECT_EQ(queue().position(a.id), 1);
  EXPECT_FALSE(queue().release(a.id, "w1"));  // queued: nobody holds it

  EXPECT_EQ(queue().request_cancel(b.id), Outcome::cancelling);
  auto cancelled = queue().release(b.id, "w1");
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->status, JobStatus::cancelled);
  EXPECT_EQ(jobs().get(b.id)->status, JobStatus::cancelled);
}

// A flagged job whose worker died is cancelled by the reaper, not run again.
TEST_P(JobQueueContract, AFlaggedJobWhoseLeaseExpiresIsCancelled) {
  JobRecord j = enqueue();
  ASSERT_TRUE(queue().claim("fast", "w1", 100));
  EXPECT_EQ(queue().request_cancel(j.id, true), Outcome::cancelling);
  clock_.advance(200);
  auto reaped = queue().reap(3);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_EQ(reaped[0].status, JobStatus::cancelled);
  EXPECT_TRUE(reaped[0].delete_requested);  // for the reaper's caller to remove
  EXPECT_FALSE(queue().claim("fast", "w2", 100));
}

TEST_P(JobQueueContract, WorkersRegisterHeartbeatAndLeave) {
  queue().register_worker({"w1", "host-a", {"fast", "gatys"}, clock_.now(), 0});
  clock_.advance(10);
  queue().register_worker({"w2", "host-b", {"gatys"}, clock_.now(), 0});
  auto all = queue().list_workers(0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "w1");
  EXPECT_EQ(all[0].host, "host-a");
  EXPECT_EQ(all[0].lanes, (std::vector<std::string>{"fast", "gatys"}));
  EXPECT_EQ(all[1].last_seen_ms, clock_.now());
  clock_.advance(5000);
  queue().heartbeat("w2", 1000);
  auto live = queue().list_workers(1000);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].id, "w2");
  EXPECT_EQ(live[0].last_seen_ms, clock_.now());
  EXPECT_TRUE(queue().remove_worker("w2"));
  EXPECT_FALSE(queue().remove_worker("w2"));
  EXPECT_EQ(queue().list_workers(0).size(), 1u);
}

TEST_P(JobQueueContract, SubscribersHearOfEveryChange) {
  UpdateLog log;
  int token = queue().subscribe(log.callback());
  JobRecord j = enqueue();
  EXPECT_TRUE(log.wait_for(j.id));
  log.clear();
  ASSERT_TRUE(queue().claim("fast", "w1", 1000));
  EXPECT_TRUE(log.wait_for(j.id));
  log.clear();
  queue().publish_progress(j.id, R"({"iteration":1})");
  EXPECT_TRUE(log.wait_for(j.id));
  log.clear();
  EXPECT_EQ(queue().request_cancel(j.id), Outcome::cancelling);
  EXPECT_TRUE(log.wait_for(j.id));
  queue().unsubscribe(token);
}

TEST_P(JobQueueContract, WaitForWorkAnswersAtOnceWhenWorkIsQueuedAndWakesOnEnqueue) {
  EXPECT_FALSE(queue().wait_for_work("fast", milliseconds(20)));  // nothing: the timeout
  JobRecord j = enqueue("gatys");
  EXPECT_TRUE(queue().wait_for_work("gatys", milliseconds(0)));
  EXPECT_FALSE(queue().wait_for_work("fast", milliseconds(20)));  // other lane
  // A waiter wakes on an enqueue (SQLite: same process; PostgreSQL: NOTIFY through the
  // listener). The long timeout makes a missed wake-up fail the time bound below.
  auto started = std::chrono::steady_clock::now();
  auto waiter = std::async(std::launch::async,
                           [&] { return queue().wait_for_work("fast", std::chrono::seconds(30)); });
  enqueue("fast");
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(waiter.get());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  // wake_waiters ends a wait without work.
  ASSERT_TRUE(queue().claim("fast", "w", 1000));
  auto idle = std::async(std::launch::async,
                         [&] { return queue().wait_for_work("fast", std::chrono::seconds(30)); });
  while (idle.wait_for(milliseconds(20)) != std::future_status::ready) queue().wake_waiters();
  EXPECT_FALSE(idle.get());
}

PASTICHE_INSTANTIATE_BACKENDS(JobQueueContract);

}  // namespace
}  // namespace pastiche::testing
