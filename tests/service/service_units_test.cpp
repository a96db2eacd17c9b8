// Unit tests of the service's parts that need no HTTP: parameter parsing, ids, rate limiting,
// SSE formatting, metrics routes. The stores have their own tests in tests/store/.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/error.h"
#include "common/fixtures.h"
#include "gatys/schedule.h"
#include "service/events.h"
#include "service/ids.h"
#include "service/job_request.h"
#include "service/metrics.h"
#include "service/rate_limiter.h"

namespace pastiche::service {
namespace {

using testing::TempDir;

std::string error_of(const FormFields& fields) {
  try {
    parse_job_request(fields, RequestLimits{});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(JobRequest, DefaultsAndCanonicalRoundTrip) {
  auto r = parse_job_request({{"style", "candy"}}, {});
  EXPECT_EQ(r.method, "fast");
  EXPECT_EQ(r.style_id(), "candy");
  EXPECT_FALSE(r.size_given);

  FormFields gatys = {
      {"method", "gatys"}, {"style", "a,b"},          {"style_mix", "a=0.25,b=0.75"},
      {"size", "128"},     {"steps", "30"},           {"style_weight", "500"},
      {"tv_weight", "0"},  {"original_colors", "on"}, {"blend", "0.5"},
      {"seed", "7"},       {"optimizer", "adam"},     {"init", "noise"},
      {"scales", "2"}};
  auto g = parse_job_request(gatys, {});
  EXPECT_EQ(g.gatys.size, 128);
  EXPECT_EQ(g.gatys.steps, 30);
  EXPECT_DOUBLE_EQ(g.gatys.style_weight, 500);
  EXPECT_TRUE(g.gatys.original_colors);
  EXPECT_EQ(g.gatys.optimizer, Optimizer::adam);
  EXPECT_EQ(g.gatys.init, InitKind::noise);
  ASSERT_EQ(g.gatys.style_blend.size(), 2u);
  EXPECT_DOUBLE_EQ(g.gatys.style_blend[1], 0.75);
  // What is stored parses back to the same request.
  auto again = parse_job_request(g.params_fields(), {});
  EXPECT_EQ(again.params(), g.params());
  EXPECT_EQ(again.style_id(), "a,b");
  auto stored = fields_from_json(g.params().dump());
  stored["method"] = "gatys";
  stored["style"] = "a,b";
  auto from_json = parse_job_request(stored, {});
  EXPECT_EQ(from_json.gatys.steps, 30);
}

TEST(JobRequest, EveryInvalidFieldIsNamed) {
  struct Case {
    FormFields fields;
    std::string prefix;
  };
  std::vector<Case> cases = {
      {{}, "style:"},
      {{{"style", "../../etc"}}, "style:"},
      {{{"style", "a,b"}}, "style:"},  // fast takes one
      {{{"style", "a"}, {"method", "magic"}}, "method:"},
      {{{"style", "a"}, {"size", "10"}}, "size: must be between 64 and 2048"},
      {{{"style", "a"}, {"size", "99999999999999999999"}}, "size:"},
      {{{"style", "a"}, {"size", "12px"}}, "size: must be an integer"},
      {{{"style", "a"}, {"blend", "2"}}, "blend:"},
      {{{"style", "a"}, {"blend", "nan"}}, "blend:"},
      {{{"style", "a"}, {"original_colors", "maybe"}}, "original_colors:"},
      {{{"style", "a"}, {"method", "gatys"}, {"steps", "-1"}}, "steps:"},
      {{{"style", "a"}, {"method", "gatys"}, {"steps", "5000"}}, "steps:"},
      {{{"style", "a"}, {"method", "gatys"}, {"style_weight", "0"}}, "style_weight:"},
      {{{"style", "a"}, {"method", "gatys"}, {"content_weight", "-1"}}, "content_weight:"},
      {{{"style", "a"}, {"method", "gatys"}, {"tv_weight", "inf"}}, "tv_weight:"},
      {{{"style", "a"}, {"method", "gatys"}, {"seed", "-3"}}, "seed:"},
      {{{"style", "a"}, {"method", "gatys"}, {"optimizer", "sgd"}}, "optimizer:"},
      {{{"style", "a"}, {"method", "gatys"}, {"init", "zeros"}}, "init:"},
      {{{"style", "a"}, {"method", "gatys"}, {"scales", "9"}}, "scales:"},
      {{{"style", "a"}, {"style_mix", "x"}}, "style_mix:"},
      {{{"style", "a"}, {"style_mix", "x=-1"}}, "style_mix:"},
      {{{"style", "a"}, {"style_mix", "x=0,y=0"}}, "style_mix:"},
      {{{"style", "a,b"}, {"method", "gatys"}, {"style_mix", "a=1"}}, "style_mix:"},
      {{{"style", "a"}, {"content_job", "nope"}}, "content_job:"},
      {{{"style", "a"}, {"stpes", "3"}}, "stpes: unknown field"},
  };
  for (const auto& c : cases) {
    std::string err = error_of(c.fields);
    EXPECT_EQ(err.rfind(c.prefix, 0), 0u)
        << "got '" << err << "', want prefix '" << c.prefix << "'";
  }
}

TEST(JobRequest, SmallGatysSizesGetFewerLevels) {
  auto levels = [](const char* size) {
    auto r = parse_job_request({{"style", "a"}, {"method", "gatys"}, {"size", size}}, {});
    return plan_schedule(r.gatys).size();
  };
  EXPECT_EQ(levels("64"), 1u);  // below the coarsest level's 160 px: one level
  EXPECT_EQ(levels("160"), 1u);
  EXPECT_EQ(levels("272"), 2u);  // 160 * 1.7
  EXPECT_EQ(levels("512"), 4u);  // 160 -> 512 in steps of at most 1.7x
  // An elongated photo raises the coarsest level (16 px on its short side): fewer levels.
  auto r = parse_job_request({{"style", "a"}, {"method", "gatys"}, {"size", "512"}}, {});
  fit_to_images(r, cv::Size(1000, 100), {cv::Size(64, 64)}, {});
  EXPECT_EQ(r.gatys.min_scale_size, 160);
  fit_to_images(r, cv::Size(1000, 50), {cv::Size(64, 64)}, {});
  EXPECT_EQ(r.gatys.min_scale_size, 320);
  EXPECT_EQ(plan_schedule(r.gatys).size(), 2u);
}

TEST(JobRequest, StylizeFieldNames) {
  auto r = parse_stylize_request(
      {{"style", "a"}, {"original_color", "true"}, {"blend_alpha", "0.3"}}, {});
  EXPECT_TRUE(r.fast.original_colors);
  EXPECT_DOUBLE_EQ(r.fast.blend, 0.3);
  try {
    parse_stylize_request({{"style", "a"}, {"blend_alpha", "3"}}, {});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("blend_alpha:", 0), 0u) << e.what();
  }
}

TEST(JobRequest, JsonBodies) {
  auto f =
      fields_from_json(R"({"style": "a", "size": 128, "original_colors": true, "blend": 0.5})");
  EXPECT_EQ(f["size"], "128");
  EXPECT_EQ(f["original_colors"], "true");
  EXPECT_THROW(fields_from_json("[1,2]"), InputError);
  EXPECT_THROW(fields_from_json("{\"style\": [1]}"), InputError);
  EXPECT_THROW(fields_from_json("not json"), InputError);
}

TEST(Ids, GeneratedAndValidated) {
  auto a = new_id(), b = new_id();
  EXPECT_NE(a, b);
  EXPECT_TRUE(is_valid_id(a));
  EXPECT_FALSE(is_valid_id("../" + a.substr(3)));
  EXPECT_FALSE(is_valid_id(a.substr(1)));
  EXPECT_FALSE(is_valid_id(std::string(32, 'G')));
  EXPECT_TRUE(is_valid_client_token("abcdefghijklmnop"));
  EXPECT_FALSE(is_valid_client_token("short"));
  EXPECT_FALSE(is_valid_client_token("has space in the token!"));
  EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_TRUE(secure_equals("key", "key"));
  EXPECT_FALSE(secure_equals("key", "kez"));
  EXPECT_FALSE(secure_equals("key", "key2"));
}

TEST(RateLimiter, BurstThenRefill) {
  using namespace std::chrono_literals;
  RateLimiter limiter(10, 3);  // 10 a second, bursts of 3
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow("a", t0)) << i;
  double retry = 0;
  EXPECT_FALSE(limiter.allow("a", t0, &retry));  // the burst is spent
  EXPECT_NEAR(retry, 0.1, 1e-9);
  EXPECT_TRUE(limiter.allow("b", t0));                  // another client's bucket is full
  EXPECT_FALSE(limiter.allow("a", t0 + 50ms, &retry));  // half a token back
  EXPECT_NEAR(retry, 0.05, 1e-9);
  EXPECT_TRUE(limiter.allow("a", t0 + 100ms));  // one token back
  EXPECT_FALSE(limiter.allow("a", t0 + 100ms));
  // Refill stops at the burst size: after a long pause, 3 again and no more.
  auto later = t0 + 10s;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow("a", later)) << i;
  EXPECT_FALSE(limiter.allow("a", later));
  RateLimiter off(0, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.allow("x"));
}

TEST(Events, CoalescesInOrderAndEndsWithTheFinalEvent) {
  EventHub hub;
  auto ch = hub.channel("j");
  Subscriber sub;
  hub.publish_status("j", "{\"s\":1}");
  hub.publish_progress("j", "{\"iteration\":1}");
  hub.publish_progress("j", "{\"iteration\":2}");
  bool finished = false;
  auto text = next_events(hub, *ch, sub, std::chrono::milliseconds(10), finished);
  EXPECT_EQ(text, "event: status\ndata: {\"s\":1}\n\nevent: progress\ndata: {\"iteration\":2}\n\n");
  EXPECT_FALSE(finished);
  EXPECT_EQ(next_events(hub, *ch, sub, std::chrono::milliseconds(1), finished), "");
  std::thread t([&] { hub.publish_final("j", "done", "{}"); });
  text = next_events(hub, *ch, sub, std::chrono::seconds(10), finished);
  t.join();
  EXPECT_TRUE(finished);
  EXPECT_EQ(text, "event: done\ndata: {}\n\n");
  EXPECT_EQ(sse_event("x", "a\nb"), "event: x\ndata: a\ndata: b\n\n");
}

TEST(Metrics, RoutesHaveBoundedCardinality) {
  std::string id(32, 'a');
  EXPECT_EQ(route_of("GET", "/api/jobs/" + id), "GET /api/jobs/{id}");
  EXPECT_EQ(route_of("GET", "/api/jobs/" + id + "/result"), "GET /api/jobs/{id}/result");
  EXPECT_EQ(route_of("GET", "/api/jobs/" + id + "/zzz"), "GET /api/jobs/{id}/other");
  EXPECT_EQ(route_of("GET", "/api/styles/candy/thumbnail"), "GET /api/styles/{id}/thumbnail");
  EXPECT_EQ(route_of("GET", "/assets/x.js"), "GET /static");
  Metrics m;
  m.http_request("GET /api/styles", 200, 0.002);
  m.job_finished("fast", "done", 0.3);
  auto text = m.render({});
  EXPECT_NE(text.find("pastiche_http_requests_total{route=\"GET /api/styles\",status=\"200\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("pastiche_job_seconds_bucket{method=\"fast\",le=\"0.5\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace pastiche::service
