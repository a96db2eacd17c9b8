// The queue under concurrency, on both backends, each thread with its own handle (its own
// connection, as a separate worker process would have): no job claimed twice, none lost; the
// queue bound holds under concurrent enqueues; concurrent reapers reap each job once.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "store_backends.h"

namespace pastiche::testing {
namespace {

class JobQueueConcurrency : public BackendTest {};

TEST_P(JobQueueConcurrency, ThousandJobsFourWorkersNoneClaimedTwiceNoneLost) {
  constexpr int kJobs = 1000, kWorkers = 4;
  std::set<std::string> enqueued;
  {
    auto h = backend().open();
    for (int i = 0; i < kJobs; ++i) {
      JobRecord j = make_job("o-000000000000000", i, JobStatus::queued, i % 3 ? "fast" : "gatys");
      ASSERT_TRUE(h->queue().enqueue(j, 0));
      enqueued.insert(j.id);
    }
  }
  std::vector<std::vector<std::string>> claimed(kWorkers);
  std::vector<std::thread> workers;
  std::atomic<int> lost_finishes{0};
  // Every worker opens its handle first, then all start claiming together.
  std::mutex ready_mutex;
  std::condition_variable ready_cv;
  int ready = 0;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      auto h = backend().open();
      {
        std::unique_lock lock(ready_mutex);
        if (++ready == kWorkers) ready_cv.notify_all();
        ready_cv.wait(lock, [&] { return ready == kWorkers; });
      }
      const std::string me = "worker-" + std::to_string(w);
      // Two workers take fast jobs first, two gatys first: both lanes are contended.
      const std::vector<std::string> lanes = w % 2 ? std::vector<std::string>{"fast", "gatys"}
                                                   : std::vector<std::string>{"gatys", "fast"};
      for (const auto& lane : lanes) {
        while (auto job = h->queue().claim(lane, me, 60'000)) {
          claimed[w].push_back(job->id);
          job->status = JobStatus::done;
          job->finished_ms = job->started_ms + 1;
          if (!h->queue().finish(*job, me)) ++lost_finishes;
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  std::multiset<std::string> all;
  for (const auto& ids : claimed) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), enqueued);  // none lost, none twice
  EXPECT_EQ(lost_finishes.load(), 0);
  auto h = backend().open();
  auto counts = h->jobs().count_by_status();
  EXPECT_EQ(counts[JobStatus::done], kJobs);
  EXPECT_EQ(counts[JobStatus::queued] + counts[JobStatus::running], 0);
}

TEST_P(JobQueueConcurrency, TheQueueBoundHoldsUnderConcurrentEnqueues) {
  constexpr int kThreads = 4, kEach = 40, kBound = 64;
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto h = backend().open();
      for (int i = 0; i < kEach; ++i) {
        JobRecord j = make_job("o-000000000000000", t * 1000 + i, JobStatus::queued,
                               i % 2 ? "fast" : "gatys");
        if (h->queue().enqueue(j, kBound)) ++accepted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), kBound);
  auto h = backend().open();
  auto lanes = h->queue().queued_by_lane();
  EXPECT_EQ(lanes["fast"] + lanes["gatys"], kBound);
  EXPECT_EQ(h->jobs().count_by_owner(""), kBound);
}

TEST_P(JobQueueConcurrency, ConcurrentReapersReapEachJobOnce) {
  constexpr int kJobs = 60;
  TestClock clock;
  {
    auto h = backend().open(clock.clock());
    for (int i = 0; i < kJobs; ++i) {
      ASSERT_TRUE(h->queue().enqueue(make_job("o-000000000000000", i, JobStatus::queued), 0));
      ASSERT_TRUE(h->queue().claim("fast", "dead-worker", 100));
    }
  }
  clock.advance(1000);
  std::atomic<size_t> reaped{0};
  std::vector<std::thread> reapers;
  for (int r = 0; r < 3; ++r) {
    reapers.emplace_back([&] {
      auto h = backend().open(clock.clock());
      for (int round = 0; round < 5; ++round) reaped += h->queue().reap(3).size();
    });
  }
  for (auto& t : reapers) t.join();
  EXPECT_EQ(reaped.load(), static_cast<size_t>(kJobs));
  auto h = backend().open(clock.clock());
  EXPECT_EQ(h->queue().queued_by_lane()["fast"], kJobs);
  for (const auto& job : h->jobs().list_by_status(JobStatus::queued)) EXPECT_EQ(job.attempts, 1);
}

PASTICHE_INSTANTIATE_BACKENDS(JobQueueConcurrency);

}  // namespace
}  // namespace pastiche::testing
