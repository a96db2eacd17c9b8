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
  EXPECT_EQ(r.method, JobMethod::fast);
  EXPECT_EQ(r.method_name(), "fast");
  EXPECT_EQ(r.style_id(), "candy");
  EXPECT_FALSE(r.size_given);

  FormFields gatys = {
      {"method", "gatys"}, {"style", "a,b"},          {"style_mix", "a=0.25,b=0.75"},
      {"size", "128"},     {"steps", "30"},           {"style_weight", "500"},
      {"tv_weight", "0"},  {"original_colors", "on"}, {"blend", "0.5"},
      {"seed", "7"},       {"optimizer", "adam"},     {"init", "noise"},
      {"scales", "2"}};
  auto g = parse_job_request(gatys, {});
  EXPECT_EQ(g.method, JobMethod::gatys);
  EXPECT_EQ(g.gatys.size, 128);
  EXPECT_EQ(g.gatys.steps, 30);
  EXPECT_DOUBLE_EQ(g.gatys.style_weight, 500);
  EXPECT_TRUE(g.gatys.original_colors);
  EXPECT_EQ(g.gatys.optimizer, Optimizer::adam);
  EXPECT_EQ(g.gatys.init, InitKind::noise);
  ASSERT_EQ(g.gatys.style_blend.size(), 2u);
  EXPECT_DOUBLE_EQ(g.gatys.style_blend[1], 0.75);
  EXPECT_EQ(g.gatys.min_scale_size, 128);  // no larger than the output
  // The spec's form fields parse back to the same spec.
  auto again = parse_job_request(request_fields(g), {});
  EXPECT_EQ(again.params(), g.params());
  EXPECT_EQ(again.style_id(), "a,b");
  // The API's params: the HTTP settings of the method and the mix, as before the spec existed.
  auto params = g.params();
  EXPECT_EQ(params["steps"], 30);
  EXPECT_EQ(params["optimizer"], "adam");
  EXPECT_EQ(params["style_mix"], (nlohmann::json{{"a", 0.25}, {"b", 0.75}}));
  EXPECT_FALSE(params.contains("min_scale_size"));
  EXPECT_FALSE(params.contains("version"));
}

TEST(JobSpec, StoredJsonReadsBackTypedWithoutTheFormParserOrTheRequestLimits) {
  auto g = parse_job_request({{"method", "gatys"},
                              {"style", "a,b"},
                              {"style_mix", "a=0.25,b=0.75"},
                              {"size", "300"},
                              {"steps", "30"},
                              {"seed", "9007199254740993"},
                              {"style_weight", "0.1"},
                              {"blend", "0.3333333333333333"}},
                             {});
  fit_to_images(g, cv::Size(1000, 100), {cv::Size(64, 64)}, {});
  EXPECT_EQ(g.gatys.min_scale_size, 160);  // raised for the elongated photo
  auto stored = nlohmann::json::parse(stored_params(g));
  EXPECT_EQ(stored["version"], JobSpec::kVersion);
  EXPECT_EQ(stored["method"], "gatys");
  EXPECT_EQ(stored["styles"], (nlohmann::json{"a", "b"}));
  EXPECT_EQ(stored["options"]["min_scale_size"], 160);  // engine settings the API never shows
  EXPECT_EQ(stored["options"]["seed"], 9007199254740993LL);
  auto back = JobSpec::from_stored(stored);
  EXPECT_EQ(back.to_stored(), stored);
  EXPECT_EQ(back.params(), g.params());
  EXPECT_EQ(back.gatys.min_scale_size, 160);
  EXPECT_EQ(back.gatys.seed, 9007199254740993ULL);
  EXPECT_EQ(back.gatys.style_blend, g.gatys.style_blend);
  EXPECT_DOUBLE_EQ(back.gatys.blend, 0.3333333333333333);

  // A job record carries it; the API view is the params object.
  JobRecord job;
  job.method = "gatys";
  job.style = "a,b";
  job.params = stored_params(g);
  EXPECT_EQ(job_spec_of(job).to_stored(), stored);
  EXPECT_EQ(api_params(job), g.params());

  // The worker applies the engines' ranges, not the request limits of the node that took it.
  stored["options"]["steps"] = 5000;  // above --max-steps 2000
  EXPECT_EQ(JobSpec::from_stored(stored).gatys.steps, 5000);

  auto fast = parse_job_request({{"style", "duo"}, {"style_mix", "duo_0=1,duo_1=3"}}, {});
  fit_to_images(fast, cv::Size(80, 60), {}, {});
  auto fast_back = JobSpec::from_stored(fast.to_stored());
  EXPECT_EQ(fast_back.fast.size, 80);
  EXPECT_FALSE(fast_back.size_given);
  EXPECT_EQ(fast_back.fast.style_mix, fast.style_mix);
  EXPECT_EQ(fast_back.to_stored(), fast.to_stored());
}

TEST(JobSpec, RowsStoredBeforeTheSpecStillLoad) {
  // Exactly what the service stored before the spec had a version: the API's params object.
  JobRecord job;
  job.method = "gatys";
  job.style = "a,b";
  job.params = R"({"blend":1.0,"content_weight":1.0,"init":"content","optimizer":"lbfgs",)"
               R"("original_colors":false,"scales":1,"seed":0,"size":64,"steps":12,"style_mix":)"
               R"({"a":1.0,"b":3.0},"style_weight":20.0,"tv_weight":0.2})";
  auto spec = job_spec_of(job);
  EXPECT_EQ(spec.method, JobMethod::gatys);
  EXPECT_EQ(spec.style_id(), "a,b");
  EXPECT_EQ(spec.gatys.steps, 12);
  EXPECT_EQ(spec.gatys.scales, 1);
  EXPECT_EQ(spec.gatys.style_blend, (std::vector<double>{1.0, 3.0}));
  EXPECT_EQ(spec.gatys.min_scale_size, 64);
  EXPECT_EQ(api_params(job), nlohmann::json::parse(job.params));  // shown as stored

  JobRecord fast;
  fast.method = "fast";
  fast.style = "tiny";
  fast.params = R"({"size":64,"original_colors":true,"blend":0.5,"style_mix":{}})";
  auto f = job_spec_of(fast);
  EXPECT_EQ(f.fast.size, 64);
  EXPECT_TRUE(f.size_given);
  EXPECT_TRUE(f.fast.original_colors);
  EXPECT_DOUBLE_EQ(f.fast.blend, 0.5);
}

TEST(JobSpec, UnreadableSpecsFailNamingWhatIsWrong) {
  auto error_of_stored = [](const std::string& text) -> std::string {
    JobRecord job;
    job.method = "fast";
    job.style = "tiny";
    job.params = text;
    try {
      job_spec_of(job);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  auto ok = parse_job_request({{"style", "tiny"}, {"size", "64"}}, {}).to_stored();
  auto with = [&](const char* key, nlohmann::json value) {
    auto j = ok;
    j[key] = std::move(value);
    return j.dump();
  };
  EXPECT_EQ(error_of_stored("not json").rfind("job spec:", 0), 0u);
  EXPECT_NE(error_of_stored(with("version", 3)).find("version 3"), std::string::npos);
  EXPECT_EQ(error_of_stored(with("method", "oil")).rfind("method:", 0), 0u);
  EXPECT_EQ(error_of_stored(with("styles", nlohmann::json::array())), "job spec: no style");
  auto unknown = ok;
  unknown["options"]["brush"] = 3;
  EXPECT_EQ(error_of_stored(unknown.dump()), "job spec: unknown setting 'brush'");
  auto out_of_range = ok;
  out_of_range["options"]["blend"] = 7;
  EXPECT_EQ(error_of_stored(out_of_range.dump()).rfind("blend:", 0), 0u);
  // The API view never throws: an unreadable spec shows no params.
  JobRecord broken;
  broken.params = with("version", 3);
  EXPECT_EQ(api_params(broken), nlohmann::json::object());
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
      {{{"style", "a"}, {"method", "gatys"}, {"init_job", "nope"}}, "init_job: not a job id"},
      {{{"style", "a"}, {"init_job", std::string(32, 'a')}},
       "init_job: applies to method gatys only (this is a fast job)"},
      {{{"style", "a"}, {"method", "gatys"}, {"init", "image"}}, "init: image starts from"},
      {{{"style", "a"}, {"method", "gatys"}, {"init", "noise"}, {"init_job", std::string(32, 'a')}},
       "init: must be image"},
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
