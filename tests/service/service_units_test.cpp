// Unit tests of the service's parts that need no HTTP: parameter parsing, stores, quota,
// rate limiting, SSE formatting, metrics routes.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/error.h"
#include "common/fixtures.h"
#include "service/events.h"
#include "service/ids.h"
#include "service/job_request.h"
#include "service/metrics.h"
#include "service/rate_limiter.h"
#include "store/disk_image_store.h"
#include "store/quota.h"
#include "store/sqlite_job_store.h"

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
  auto r = parse_job_request({{"style", "a"}, {"method", "gatys"}, {"size", "64"}}, {});
  EXPECT_LE(r.gatys.min_scale_size, 64);
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

JobRecord make_job(const std::string& owner, int64_t created, JobStatus status) {
  JobRecord j;
  j.id = new_id();
  j.owner = owner;
  j.method = "fast";
  j.style = "tiny";
  j.params = "{}";
  j.status = status;
  j.created_ms = created;
  j.finished_ms = is_finished(status) ? created + 1 : 0;
  return j;
}

TEST(SqliteJobStore, RoundTripListsAndCountsAndSurvivesReopen) {
  TempDir dir;
  std::string path = dir.file("jobs.db");
  JobRecord a = make_job("alice-token-00000", 100, JobStatus::queued);
  JobRecord b = make_job("alice-token-00000", 200, JobStatus::done);
  JobRecord c = make_job("bob-token-0000000", 150, JobStatus::running);
  {
    SqliteJobStore store(path);
    store.insert(a);
    store.insert(b);
    store.insert(c);
    b.progress = R"({"iteration":3})";
    b.width = 64;
    b.seconds = 1.5;
    store.update(b);
    store.update_progress(a.id, R"({"iteration":1})");
  }
  SqliteJobStore store(path);
  auto got = store.get(b.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->width, 64);
  EXPECT_DOUBLE_EQ(got->seconds, 1.5);
  EXPECT_EQ(got->status, JobStatus::done);
  EXPECT_EQ(store.get(a.id)->progress, R"({"iteration":1})");
  auto alice = store.list_by_owner("alice-token-00000", 10, 0);
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_EQ(alice[0].id, b.id);  // newest first
  EXPECT_EQ(store.list_by_owner("alice-token-00000", 1, 1)[0].id, a.id);
  EXPECT_EQ(store.count_by_owner("alice-token-00000"), 2);
  EXPECT_EQ(store.count_by_owner(""), 3);
  EXPECT_EQ(store.list_by_status(JobStatus::running).size(), 1u);
  EXPECT_EQ(store.count_by_status()[JobStatus::queued], 1);
  EXPECT_FALSE(store.get(new_id()));
  EXPECT_TRUE(store.remove(a.id));
  EXPECT_FALSE(store.remove(a.id));

  StyleRecord s{new_id(), "alice-token-00000", "T", "A", "D", 5};
  store.insert_style(s);
  EXPECT_EQ(store.list_styles("alice-token-00000").size(), 1u);
  EXPECT_TRUE(store.list_styles("bob-token-0000000").empty());
  EXPECT_TRUE(store.remove_style(s.id));
  EXPECT_FALSE(store.get_style(s.id));
}

TEST(DiskImageStore, AtomicPutsSizesAndSafeKeys) {
  TempDir dir;
  DiskImageStore images(dir.path() / "images");
  images.put("jobs/abc/result.png", "12345");
  images.put("jobs/abc/thumb.jpg", "123");
  EXPECT_EQ(images.total_bytes(), 8);
  images.put("jobs/abc/result.png", "1");  // replace
  EXPECT_EQ(images.total_bytes(), 4);
  EXPECT_EQ(*images.get("jobs/abc/result.png"), "1");
  EXPECT_FALSE(images.get("jobs/abc/none.png"));
  for (const char* bad :
       {"../x", "/etc/passwd", "jobs/../../x", "jobs/.hidden", "Jobs/X", "a//b", ""}) {
    EXPECT_THROW(images.put(bad, "x"), std::invalid_argument) << bad;
  }
  images.remove_prefix("jobs/abc/");
  EXPECT_EQ(images.total_bytes(), 0);
  EXPECT_FALSE(images.exists("jobs/abc/thumb.jpg"));
  images.put("jobs/x/a.png", "xx");
  DiskImageStore reopened(dir.path() / "images");
  EXPECT_EQ(reopened.total_bytes(), 2);
}

TEST(Quota, ExpiresOldestFinishedFirstAndNeverLiveRecentOrUnfetchedJobs) {
  TempDir dir;
  SqliteJobStore jobs(dir.file("jobs.db"));
  DiskImageStore images(dir.path() / "images");
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

TEST(RateLimiter, BurstThenRefill) {
  RateLimiter limiter(1000, 3);
  EXPECT_TRUE(limiter.allow("a"));
  EXPECT_TRUE(limiter.allow("a"));
  EXPECT_TRUE(limiter.allow("a"));
  double retry = 0;
  bool fourth = limiter.allow("a", &retry);
  if (!fourth) EXPECT_GT(retry, 0);
  EXPECT_TRUE(limiter.allow("b"));  // separate bucket
  RateLimiter slow(0.001, 1);
  EXPECT_TRUE(slow.allow("x"));
  EXPECT_FALSE(slow.allow("x", &retry));
  EXPECT_GT(retry, 100);
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
