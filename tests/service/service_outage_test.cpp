// Database faults: while PostgreSQL refuses and drops connections the API answers 503 with
// Retry-After (never 500) and /healthz says "degraded: database"; once it is back the first
// request succeeds and the worker resumes, no job lost nor run twice. And the one lease-expiry
// policy: start-up recovery settles interrupted jobs as the reaper does.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "service/job_worker.h"
#include "service_fixture.h"
#include "store/database_outage.h"
#include "store/job_files.h"
#include "store/queue_signals.h"

namespace pastiche::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kOutageToken = "outage-client-token-01";

class ServiceOutage : public ServerTest {};

void expect_unavailable(const Reply& r, const std::string& what) {
  EXPECT_EQ(r.status, 503) << what << ": " << r.body;
  EXPECT_NE(r.get_header_value("Retry-After"), "") << what;
  auto body = parse_json(r);
  EXPECT_TRUE(body.is_object() && body.contains("error")) << what << ": " << r.body;
}

TEST_F(ServiceOutage, DatabaseDownIs503AndWorkResumesAfterwards) {
  PASTICHE_SKIP_WITHOUT_POSTGRES();
  use_postgres();
  start();
  Api a = api(kOutageToken);
  const std::string photo = png_of(test_photo());
  std::string done_id = a.submit({{"style", "tiny"}}, photo);
  ASSERT_EQ(a.wait_finished(done_id)["status"], "done");
  // Running across the outage.
  std::string long_id = a.submit({{"style", "stripes"},
                                  {"method", "gatys"},
                                  {"size", "64"},
                                  {"steps", "150"},
                                  {"scales", "1"}},
                                 png_of(test_photo(64, 64)));
  a.wait_running(long_id);

  DatabaseOutage outage(pg->url());
  outage.begin();
  expect_unavailable(a.post("/api/jobs", job_form({{"style", "tiny"}}, photo)), "submit");
  expect_unavailable(a.get("/api/jobs/" + done_id), "job");
  expect_unavailable(a.get("/api/jobs/" + done_id + "/result"), "result");
  expect_unavailable(a.get("/api/history"), "history");
  expect_unavailable(a.get("/api/styles"), "styles");
  // The health check runs at most once a second: poll until the next one has run.
  Reply health;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    health = a.get("/healthz");
    if (health.status == 503) break;
    std::this_thread::sleep_for(50ms);  // polling interval
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_NE(health.get_header_value("Retry-After"), "");
  EXPECT_EQ(parse_json(health)["status"], "degraded: database") << health.body;

  outage.end();
  // The first request after the outage succeeds (no stale pooled connection answers it).
  auto first = a.get("/api/jobs/" + done_id);
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(parse_json(first)["status"], "done");

  // The worker claims again, and the job that ran through the outage ends once, not twice.
  std::string after_id = a.submit({{"style", "tiny"}}, photo);
  auto after = a.wait_finished(after_id);
  EXPECT_EQ(after["status"], "done") << after.dump();
  EXPECT_EQ(after["attempts"], 1);
  auto long_job = a.wait_finished(long_id, 120s);
  EXPECT_EQ(long_job["status"], "done") << long_job.dump();
  EXPECT_EQ(long_job["attempts"], 1) << long_job.dump();
  EXPECT_EQ(a.get("/api/jobs/" + long_id + "/result").status, 200);
  EXPECT_EQ(parse_json(a.get("/api/history"))["total"], 3);  // nothing lost
  deadline = std::chrono::steady_clock::now() + 5s;
  do {
    health = a.get("/healthz");
    if (health.status == 200) break;
    std::this_thread::sleep_for(50ms);  // polling interval
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(health.status, 200) << health.body;
}

// Start-up recovery (`serve` alone on its database) and the reaper: one policy, expire_lease,
// and a re-queued row is released (no worker, no lease).
class LeaseRecovery : public BackendTest {};

TEST_P(LeaseRecovery, InterruptedJobsAreSettledAsTheReaperSettlesThem) {
  auto h = backend().open();
  const int64_t now = system_clock_ms();
  auto running = [&](int attempts, bool cancel, bool remove) {
    JobRecord j = make_job("client", now - 1000 + attempts, JobStatus::running);
    j.attempts = attempts;
    j.started_ms = now - 500;
    j.worker_id = "old-life-worker";
    j.lease_expires_ms = now + 60'000;  // still valid: the process died, not the lease
    j.cancel_requested = cancel;
    j.delete_requested = remove;
    h->jobs().insert(j);
    return j;
  };
  JobRecord again = running(1, false, false);
  JobRecord given_up = running(3, false, false);
  JobRecord cancelled = running(1, true, false);
  JobRecord deleted = running(1, true, true);
  h->images().put(content_key(deleted.id), "bytes");

  spdlog::logger log("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  EXPECT_EQ(service::JobWorker::recover_interrupted(h->jobs(), h->queue(), h->images(), 3, log),
            4u);

  // What the reaper's policy makes of each.
  auto expected = [&](JobRecord j) {
    expire_lease(j, 3, now);
    return j;
  };
  auto row = h->jobs().get(again.id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, JobStatus::queued);
  EXPECT_EQ(row->worker_id, "");
  EXPECT_EQ(row->lease_expires_ms, 0);
  EXPECT_EQ(row->attempts, 1);

  row = h->jobs().get(given_up.id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, JobStatus::failed);
  EXPECT_EQ(row->error, expected(given_up).error);
  EXPECT_GT(row->finished_ms, 0);
  EXPECT_EQ(row->worker_id, "");
  EXPECT_EQ(row->lease_expires_ms, 0);

  row = h->jobs().get(cancelled.id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, JobStatus::cancelled);
  EXPECT_EQ(row->worker_id, "");
  EXPECT_EQ(row->lease_expires_ms, 0);

  EXPECT_FALSE(h->jobs().get(deleted.id));
  EXPECT_FALSE(h->images().get(content_key(deleted.id)));

  // The re-queued job is claimable at once, and is the only one.
  auto claimed = h->queue().claim("fast", "new-worker", 10'000);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, again.id);
  EXPECT_EQ(claimed->attempts, 2);
  EXPECT_FALSE(h->queue().claim("fast", "new-worker", 10'000));
  // The reaper finds nothing left to settle.
  EXPECT_TRUE(h->queue().reap(3).empty());
}

PASTICHE_INSTANTIATE_BACKENDS(LeaseRecovery);

}  // namespace
}  // namespace pastiche::testing
