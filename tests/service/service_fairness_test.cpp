// The fair queue through the API, on every job store: per-client caps answer 429 naming the cap
// with a Retry-After, and one client's backlog delays another client's job by at most one job.
#include <gtest/gtest.h>

#include "service_fixture.h"

namespace pastiche::testing {
namespace {

class FairnessTest : public BackendServerTest {
 protected:
  static std::vector<std::pair<std::string, std::string>> fast_fields() {
    return {{"style", "tiny"}, {"method", "fast"}, {"size", "64"}};
  }
  // Cancels the jobs and waits until none runs any more.
  static void cancel_all(Api& a, const std::vector<std::string>& ids) {
    for (const auto& id : ids) a.del("/api/jobs/" + id);
    for (const auto& id : ids) a.wait_finished(id);
  }
};

TEST_P(FairnessTest, TheJobCapPerClientAndLaneAnswers429NamingItWithRetryAfter) {
  start([](service::ServerConfig& c) { c.max_jobs_per_client = {{"gatys", 1}}; });
  Api alice = api(kAlice), bob = api(kBob);
  std::string first = submit_long_gatys(alice);
  auto r = alice.post("/api/jobs", job_form({{"style", "stripes"},
                                             {"method", "gatys"},
                                             {"size", "64"},
                                             {"steps", "2000"},
                                             {"scales", "1"}},
                                            png_of(test_photo(64, 64))));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_NE(parse_json(r).value("error", "").find("client job cap"), std::string::npos) << r->body;
  EXPECT_GE(std::stoi(r->get_header_value("Retry-After")), 1);
  // Another lane of the same client, and the same lane of another client, are not capped.
  std::string fast = alice.submit(fast_fields(), png_of(test_photo()));
  std::string other = submit_long_gatys(bob);
  EXPECT_EQ(parse_json(alice.get("/api/history"))["total"], 2);
  cancel_all(alice, {first, fast});
  cancel_all(bob, {other});
}

TEST_P(FairnessTest, TheWorkCapAnswers429ButAClientWithNothingQueuedMayAlwaysQueueOne) {
  start([](service::ServerConfig& c) { c.max_work_per_client_s = 2; });
  Api alice = api(kAlice);
  // Longer than the cap, but alice has nothing queued or running.
  auto accepted = alice.post("/api/jobs", job_form({{"style", "stripes"},
                                                    {"method", "gatys"},
                                                    {"size", "64"},
                                                    {"steps", "2000"},
                                                    {"scales", "1"}},
                                                   png_of(test_photo(64, 64))));
  ASSERT_EQ(accepted->status, 202) << accepted->body;
  auto job = parse_json(accepted);
  EXPECT_GT(job.value("estimated_seconds", 0.0), 2.0);
  auto r = alice.post("/api/jobs", job_form(fast_fields(), png_of(test_photo())));
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_NE(parse_json(r).value("error", "").find("client work cap"), std::string::npos) << r->body;
  EXPECT_GE(std::stoi(r->get_header_value("Retry-After")), 1);
  cancel_all(alice, {job.value("id", "")});
  // Once it has finished, the client may queue again.
  std::string next = alice.submit(fast_fields(), png_of(test_photo()));
  EXPECT_EQ(alice.wait_finished(next)["status"], "done");
}

// Alice queues a backlog of Gatys jobs (caps off) and her first runs; Bob's job, submitted after,
// is the next to run: it waits for Alice's running job only, not for her queue.
TEST_P(FairnessTest, OneClientsBacklogDelaysAnothersJobByAtMostOneJob) {
  start([](service::ServerConfig& c) {
    c.max_jobs_per_client = {};
    c.max_work_per_client_s = 0;
  });
  Api alice = api(kAlice), bob = api(kBob);
  std::vector<std::string> backlog;
  for (int i = 0; i < 4; ++i) backlog.push_back(submit_long_gatys(alice));
  alice.wait_running(backlog[0]);
  auto r = bob.post("/api/jobs", job_form({{"style", "stripes"},
                                           {"method", "gatys"},
                                           {"size", "64"},
                                           {"steps", "2000"},
                                           {"scales", "1"}},
                                          png_of(test_photo(64, 64))));
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string bobs = parse_json(r).value("id", "");
  EXPECT_EQ(parse_json(r)["position"], 1);  // ahead of Alice's queued jobs
  EXPECT_EQ(alice.job(backlog[1])["position"], 2);
  // Alice's running job ends (cancelled here, so the test need not wait for it): Bob's runs next.
  alice.del("/api/jobs/" + backlog[0]);
  alice.wait_finished(backlog[0]);
  bob.wait_until(bobs, [](const json& j) { return j.value("status", "") == "running"; });
  for (size_t i = 1; i < backlog.size(); ++i) {
    EXPECT_EQ(alice.job(backlog[i])["status"], "queued") << i;
    EXPECT_EQ(alice.job(backlog[i])["position"], static_cast<int>(i)) << i;
  }
  cancel_all(bob, {bobs});
  cancel_all(alice, backlog);
}

INSTANTIATE_TEST_SUITE_P(Backends, FairnessTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pastiche::testing
