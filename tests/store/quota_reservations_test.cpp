// Disk quota reservations on every backend (in the process for SQLite, a table shared by every
// node for PostgreSQL): taken atomically against the stored bytes and each other, held for a job
// while it is queued or running, lapsing when left behind.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/pg_quota_reservations.h"
#include "store/quota.h"
#include "store_backends.h"

namespace pastiche::testing {
namespace {

class QuotaReservationsContract : public BackendTest {
 protected:
  // One node's reservations: on PostgreSQL each handle is a process of its own with its own
  // connections; SQLite's store belongs to one process, so its nodes share one ledger.
  std::unique_ptr<QuotaReservations> reservations_of(StoreHandle& h) {
    if (auto* pg = dynamic_cast<PgBackend::Handle*>(&h)) {
      return std::make_unique<PgQuotaReservations>(pg->db);
    }
    return std::make_unique<MemoryQuotaReservations>(h.jobs(), h.images());
  }
};

TEST_P(QuotaReservationsContract, CountBesideStoredBytesAndLastWhileTheirJobRuns) {
  auto h = backend().open();
  auto r = reservations_of(*h);
  const int64_t now = 1'000'000'000;
  h->images().put("jobs/old/result.png", std::string(300, 'x'));
  EXPECT_TRUE(r->try_reserve("a", 500, 1000, now));
  EXPECT_EQ(r->reserved_bytes(now), 500);
  EXPECT_FALSE(r->try_reserve("b", 201, 1000, now));  // 300 stored + 500 reserved + 201
  EXPECT_TRUE(r->try_reserve("b", 200, 1000, now));
  EXPECT_FALSE(r->try_reserve("c", 1, 1000, now));
  r->release("b");
  EXPECT_EQ(r->reserved_bytes(now), 500);

  // "a" stores its photo, is queued and keeps its result's bound.
  JobRecord job = make_job("owner", now, JobStatus::queued);
  job.id = "a";
  h->jobs().insert(job);
  h->images().put("jobs/a/content.png", std::string(100, 'x'));
  r->hold_for_job("a", 150);
  EXPECT_EQ(r->reserved_bytes(now), 150);
  EXPECT_TRUE(r->try_reserve("c", 450, 1000, now));  // 400 stored + 150 + 450
  EXPECT_FALSE(r->try_reserve("d", 1, 1000, now));
  r->release("c");
  job.status = JobStatus::running;
  h->jobs().update(job);
  EXPECT_EQ(r->reserved_bytes(now), 150);
  job.status = JobStatus::done;  // its result is stored: the reservation goes
  h->jobs().update(job);
  h->images().put("jobs/a/result.png", std::string(120, 'x'));
  EXPECT_EQ(r->reserved_bytes(now), 0);
  EXPECT_TRUE(r->try_reserve("d", 480, 1000, now));  // 520 stored

  // One taken by a request that never finished (its process died) lapses.
  EXPECT_FALSE(r->try_reserve("e", 1, 1000, now));
  EXPECT_EQ(r->reserved_bytes(now + kPendingReservationMs + 1), 0);
  EXPECT_TRUE(r->try_reserve("e", 480, 1000, now + kPendingReservationMs + 1));
  // Held for a job that was deleted: gone at once.
  r->release("e");
  EXPECT_TRUE(r->try_reserve("f", 400, 1000, now));
  r->hold_for_job("f", 400);
  EXPECT_EQ(r->reserved_bytes(now), 0);  // no job "f"
}

// Forty submits at once on two nodes: together they never promise more than the quota, so the
// bytes they store never pass it (issue 26: 2.7x on PostgreSQL, 3.6x on one SQLite node).
TEST_P(QuotaReservationsContract, ConcurrentReservationsOnTwoNodesNeverPassTheQuota) {
  // PostgreSQL: two nodes, each with its connections and reservations. SQLite: its one process.
  auto node_a = backend().open();
  auto node_b = is_postgres() ? backend().open() : nullptr;
  auto ledger_a = reservations_of(*node_a);
  auto ledger_b = node_b ? reservations_of(*node_b) : nullptr;
  constexpr int kThreads = 40;
  constexpr int64_t kJob = 1000, kQuota = 10 * kJob + kJob / 2;
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto& node = i % 2 && node_b ? *node_b : *node_a;
      auto& ledger = i % 2 && ledger_b ? *ledger_b : *ledger_a;
      const std::string id = "job" + std::to_string(i);
      if (!ledger.try_reserve(id, kJob, kQuota, system_clock_ms())) return;
      ++accepted;
      node.images().put("jobs/" + id + "/content.png", std::string(kJob, 'x'));
      ledger.release(id);  // stored: the bytes count themselves now
    });
  }
  for (auto& t : threads) t.join();
  // Never more than fits. Fewer is possible: between a put's commit and its release the bytes
  // count twice (too much for a moment, never too little).
  EXPECT_GE(accepted.load(), 1);
  EXPECT_LE(accepted.load(), 10);
  EXPECT_EQ(node_a->images().total_bytes(), accepted.load() * kJob);
  EXPECT_EQ(ledger_a->reserved_bytes(system_clock_ms()), 0);
  // Nothing left behind: the room that is left can be taken, exactly.
  const int left = 10 - accepted.load();
  for (int i = 0; i < left; ++i) {
    EXPECT_TRUE(ledger_a->try_reserve("late" + std::to_string(i), kJob, kQuota, system_clock_ms()));
  }
  EXPECT_FALSE(ledger_a->try_reserve("one-too-many", kJob, kQuota, system_clock_ms()));
}

// What the service counts uploaded paintings with (their share of the quota).
TEST_P(QuotaReservationsContract, BytesUnderAPrefix) {
  auto h = backend().open();
  auto& images = h->images();
  EXPECT_EQ(images.bytes_under("styles/"), 0);
  images.put("styles/a.png", "12345");
  images.put("styles/a.thumb.jpg", "123");
  images.put("jobs/x/result.png", "1234567");
  images.put("stylesheet.png", "12");
  EXPECT_EQ(images.bytes_under("styles/"), 8);
  EXPECT_EQ(images.bytes_under("jobs/"), 7);
  EXPECT_EQ(*images.size_of("styles/a.png"), 5);
  EXPECT_FALSE(images.size_of("styles/none.png"));
  images.remove("styles/a.png");
  EXPECT_EQ(images.bytes_under("styles/"), 3);
}

PASTICHE_INSTANTIATE_IMAGE_BACKENDS(QuotaReservationsContract);

}  // namespace
}  // namespace pastiche::testing
