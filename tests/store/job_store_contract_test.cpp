// The JobStore contract on both backends (SQLite, PostgreSQL): round trips, orderings, counts,
// evictable jobs and first downloads, styles, the health check, and the disk quota on top.
#include <gtest/gtest.h>

#include "store/quota.h"
#include "store_backends.h"

namespace pastiche::testing {
namespace {

class JobStoreContract : public BackendTest {};

TEST_P(JobStoreContract, RoundTripListsAndCountsAndSurvivesReopen) {
  JobRecord a = make_job("alice-token-00000", 100, JobStatus::queued);
  JobRecord b = make_job("alice-token-00000", 200, JobStatus::done);
  JobRecord c = make_job("bob-token-0000000", 150, JobStatus::running);
  {
    auto h = backend().open();
    auto& store = h->jobs();
    store.insert(a);
    store.insert(b);
    store.insert(c);
    b.progress = R"({"iteration":3})";
    b.width = 64;
    b.seconds = 1.5;
    b.error = "none";
    store.update(b);
    store.update_progress(a.id, R"({"iteration":1})");
  }
  auto h = backend().open();
  auto& store = h->jobs();
  auto got = store.get(b.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->width, 64);
  EXPECT_DOUBLE_EQ(got->seconds, 1.5);
  EXPECT_EQ(got->status, JobStatus::done);
  EXPECT_EQ(got->error, "none");
  EXPECT_EQ(got->owner, b.owner);
  EXPECT_EQ(got->created_ms, 200);
  EXPECT_EQ(store.get(a.id)->progress, R"({"iteration":1})");
  auto alice = store.list_by_owner("alice-token-00000", 10, 0);
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_EQ(alice[0].id, b.id);  // newest first
  EXPECT_EQ(store.list_by_owner("alice-token-00000", 1, 1)[0].id, a.id);
  EXPECT_EQ(store.list_by_owner("", 10, 0).size(), 3u);
  EXPECT_EQ(store.count_by_owner("alice-token-00000"), 2);
  EXPECT_EQ(store.count_by_owner(""), 3);
  EXPECT_EQ(store.list_by_status(JobStatus::running).size(), 1u);
  auto counts = store.count_by_status();
  EXPECT_EQ(counts[JobStatus::queued], 1);
  EXPECT_EQ(counts[JobStatus::expired], 0);
  EXPECT_EQ(counts.size(), 6u);
  EXPECT_FALSE(store.get(secure_random_hex(16)));
  EXPECT_TRUE(store.remove(a.id));
  EXPECT_FALSE(store.remove(a.id));

  StyleRecord s{secure_random_hex(16), "alice-token-00000", "T", "A", "D", 5};
  store.insert_style(s);
  ASSERT_EQ(store.list_styles("alice-token-00000").size(), 1u);
  EXPECT_EQ(store.get_style(s.id)->description, "D");
  EXPECT_TRUE(store.list_styles("bob-token-0000000").empty());
  EXPECT_TRUE(store.remove_style(s.id));
  EXPECT_FALSE(store.remove_style(s.id));
  EXPECT_FALSE(store.get_style(s.id));
  EXPECT_EQ(store.health_check(), "");
}

// Jobs created in the same millisecond keep their insertion order: oldest first by status,
// newest first by owner.
TEST_P(JobStoreContract, TiesAreBrokenByInsertionOrder) {
  auto h = backend().open();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    JobRecord j = make_job("o-000000000000000", 42, JobStatus::queued);
    h->jobs().insert(j);
    ids.push_back(j.id);
  }
  auto queued = h->jobs().list_by_status(JobStatus::queued);
  ASSERT_EQ(queued.size(), 5u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(queued[i].id, ids[i]) << i;
  auto mine = h->jobs().list_by_owner("o-000000000000000", 5, 0);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(mine[i].id, ids[ids.size() - 1 - i]) << i;
}

// Quotes, non-ASCII text, long values and large numbers round-trip exactly.
TEST_P(JobStoreContract, ValuesRoundTripExactly) {
  auto h = backend().open();
  JobRecord j = make_job("o'wner\"-00000000", 1, JobStatus::done);
  j.params = R"({"style_weight":20.000000000000004,"text":"é ' \" \\ ;--"})";
  j.style_title = "L'Été — «x»";
  j.seconds = 0.1 + 0.2;
  j.progress = std::string(100'000, 'p');
  j.finished_ms = int64_t{1} << 50;
  h->jobs().insert(j);
  auto got = h->jobs().get(j.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->params, j.params);
  EXPECT_EQ(got->style_title, j.style_title);
  EXPECT_EQ(got->owner, j.owner);
  EXPECT_EQ(got->seconds, j.seconds);
  EXPECT_EQ(got->progress.size(), j.progress.size());
  EXPECT_EQ(got->finished_ms, j.finished_ms);
}

// update() writes the job's own columns and leaves the queue's (holder, lease, flags) alone.
TEST_P(JobStoreContract, UpdateLeavesTheQueueColumnsAlone) {
  auto h = backend().open();
  JobRecord j = make_job("o-000000000000000", 1, JobStatus::running);
  j.worker_id = "worker-1";
  j.lease_expires_ms = 777;
  j.cancel_requested = true;
  h->jobs().insert(j);
  JobRecord changed = *h->jobs().get(j.id);
  changed.worker_id.clear();
  changed.lease_expires_ms = 0;
  changed.cancel_requested = false;
  changed.attempts = 2;
  h->jobs().update(changed);
  auto got = h->jobs().get(j.id);
  EXPECT_EQ(got->attempts, 2);
  EXPECT_EQ(got->worker_id, "worker-1");
  EXPECT_EQ(got->lease_expires_ms, 777);
  EXPECT_TRUE(got->cancel_requested);
  EXPECT_FALSE(got->delete_requested);
}

TEST_P(JobStoreContract, EvictableJobsAndTheFirstDownload) {
  auto h = backend().open();
  auto& store = h->jobs();
  JobRecord unfetched = make_job("o-000000000000000", 5, JobStatus::done);
  JobRecord failed = make_job("o-000000000000000", 6, JobStatus::failed);
  JobRecord recent = make_job("o-000000000000000", 500, JobStatus::cancelled);
  JobRecord running = make_job("o-000000000000000", 7, JobStatus::running);
  for (auto* j : {&unfetched, &failed, &recent, &running}) store.insert(*j);
  auto evictable = store.list_evictable(100, 10);
  ASSERT_EQ(evictable.size(), 1u);  // never downloaded, too recent, running: kept
  EXPECT_EQ(evictable[0].id, failed.id);
  store.mark_fetched(unfetched.id, 50);
  store.mark_fetched(unfetched.id, 60);  // the first download counts
  EXPECT_EQ(store.get(unfetched.id)->fetched_ms, 50);
  evictable = store.list_evictable(100, 10);
  ASSERT_EQ(evictable.size(), 2u);
  EXPECT_EQ(evictable[0].id, unfetched.id);  // finished first
  EXPECT_EQ(store.list_evictable(100, 1).size(), 1u);
}

TEST_P(JobStoreContract, QuotaExpiresOldestFinishedFirstAndNeverLiveRecentOrUnfetchedJobs) {
  auto h = backend().open();
  auto& jobs = h->jobs();
  auto& images = h->images();
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

PASTICHE_INSTANTIATE_BACKENDS(JobStoreContract);

}  // namespace
}  // namespace pastiche::testing
