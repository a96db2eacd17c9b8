// What a client is told while it waits: heartbeats on event streams, queue waits, the field an
// error is about, the Retry-After of a full queue.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "service/routes.h"
#include "service_fixture.h"

namespace pastiche::testing {
namespace {

class FeedbackTest : public BackendServerTest {};

// Occupies the Gatys lane for far longer than a test (stopped with the server).
std::string occupy_gatys_lane(Api& a) {
  const std::string id = a.submit({{"style", "stripes"},
                                   {"method", "gatys"},
                                   {"size", "256"},
                                   {"steps", "2000"},
                                   {"scales", "1"}},
                                  png_of(test_photo(256, 256)));
  a.wait_running(id);
  return id;
}

// A job queued behind a long one: its stream has nothing to say but that the server lives.
TEST_P(FeedbackTest, QuietEventStreamsHeartbeatEveryTwoSeconds) {
  start();
  auto a = api(kAlice);
  occupy_gatys_lane(a);
  const std::string id = submit_long_gatys(a);
  ASSERT_FALSE(id.empty());
  std::string body;
  const auto opened = std::chrono::steady_clock::now();
  double heartbeat_after_s = -1;
  a.http.Get(("/api/jobs/" + id + "/events").c_str(), client_headers(kAlice),
             [&](const char* data, size_t n) {
               body.append(data, n);
               if (body.find("event: heartbeat\n") == std::string::npos) return true;
               heartbeat_after_s =
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - opened).count();
               return false;  // enough: close the stream
             });
  ASSERT_GE(heartbeat_after_s, 0) << body;
  EXPECT_EQ(body.rfind("event: status\n", 0), 0u) << body;  // the job first
  // A client that hears nothing for 5 s may declare the server gone.
  EXPECT_LT(heartbeat_after_s, 5.0) << body;
  auto data = body.find("data: ", body.find("event: heartbeat\n"));
  auto beat = json::parse(body.substr(data + 6, body.find('\n', data) - data - 6));
  EXPECT_GT(beat["at"].get<int64_t>(), 1700000000000) << body;  // the server's clock, ms
}

TEST_P(FeedbackTest, QueuedJobsCarryTheirWaitBehindTheWorkBeforeThem) {
  start();
  auto a = api(kAlice);
  occupy_gatys_lane(a);
  auto second = parse_json(a.post(
      "/api/jobs",
      job_form({{"style", "stripes"}, {"method", "gatys"}, {"size", "256"}, {"steps", "500"}},
               png_of(test_photo(256, 256)))));
  ASSERT_EQ(second["position"], 1) << second;
  // Only the running job is before it: what its estimate leaves, at least a second.
  EXPECT_GE(second["wait_seconds"].get<double>(), 1.0) << second;
  const std::string third = submit_long_gatys(a);
  auto second_now = a.job(second["id"]);
  auto third_now = a.job(third);
  EXPECT_EQ(third_now["position"], 2);
  // The third waits for the running job and then for the second's estimated work.
  EXPECT_NEAR(third_now["wait_seconds"].get<double>() - second_now["wait_seconds"].get<double>(),
              second["estimated_seconds"].get<double>(), 0.5)
      << second << third_now;
  EXPECT_GT(second["estimated_seconds"].get<double>(), 1.0);
}

TEST_P(FeedbackTest, ValidationErrorsNameTheirField) {
  start();
  auto a = api(kAlice);
  auto r =
      a.post("/api/jobs", job_form({{"style", "stripes"}, {"method", "gatys"}, {"tv_weight", "-1"}},
                                   png_of(test_photo())));
  ASSERT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(parse_json(r)["field"], "tv_weight") << r->body;
  r = a.post("/api/jobs", job_form({{"style", "tiny"}}, "not an image at all"));
  ASSERT_EQ(r->status, 415) << r->body;
  EXPECT_EQ(parse_json(r)["field"], "content") << r->body;
  // A message that does not start with a field has none.
  r = a.get("/api/jobs/" + std::string(32, 'a'));
  ASSERT_EQ(r->status, 404);
  EXPECT_FALSE(parse_json(r).contains("field"));
}

TEST_P(FeedbackTest, AFullQueueSaysWhenTheRunningJobShouldEnd) {
  start([](service::ServerConfig& c) { c.max_queue = 1; });
  auto a = api(kAlice);
  occupy_gatys_lane(a);
  ASSERT_FALSE(submit_long_gatys(a).empty());  // queued: the queue is full
  auto r = a.post("/api/jobs", job_form({{"style", "tiny"}}, png_of(test_photo())));
  ASSERT_EQ(r->status, 429) << r->body;
  EXPECT_NE(r->body.find("queue is full"), std::string::npos) << r->body;
  const int retry = std::stoi(r->get_header_value("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_EQ(parse_json(r)["retry_after_seconds"], retry);
}

TEST(ErrorField, IsTheLeadingFieldName) {
  EXPECT_EQ(service::error_field("tv_weight: must be between 0 and 1"), "tv_weight");
  EXPECT_EQ(service::error_field("content[2] (a.jpg): not an image"), "content");
  EXPECT_EQ(service::error_field("X-Client-Token: must be"), "");
  EXPECT_EQ(service::error_field("no such job"), "");
  EXPECT_EQ(service::error_field("the job queue is full; try again"), "");
  EXPECT_EQ(service::error_field(""), "");
}

PASTICHE_INSTANTIATE_IMAGE_BACKENDS(FeedbackTest);

}  // namespace
}  // namespace pastiche::testing
