// Integration tests: a real server on a loopback port, spoken to over HTTP.
#include <gtest/gtest.h>
#include <sched.h>
#include <filesystem>
#include <map>
#include <sstream>

#include <fstream>

#include "common/runtime.h"
#include "service/routes.h"
#include "service/stores.h"
#include "service_fixture.h"
#include "store/job_files.h"

namespace pastiche::testing {
namespace {

// Every test here runs on both job stores (SQLite, and PostgreSQL when a test cluster is set).
class ServiceTest : public BackendServerTest {
 protected:
  Api api(const std::string& token = kAlice) { return ServerTest::api(token); }
};

TEST_P(ServiceTest, StylesListBuiltinsWithMethodsAndThumbnails) {
  start();
  auto a = api();
  auto r = a.get("/api/styles");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  auto styles = json::parse(r->body)["styles"];
  std::map<std::string, json> by_id;
  for (const auto& s : styles) by_id[s["id"]] = s;
  ASSERT_TRUE(by_id.count("tiny") && by_id.count("stripes") && by_id.count("duo")) << r->body;
  EXPECT_EQ(by_id["tiny"]["methods"], json::array({"fast"}));
  EXPECT_EQ(by_id["stripes"]["methods"], json::array({"gatys"}));
  EXPECT_EQ(by_id["stripes"]["title"], "Stripes");
  EXPECT_EQ(by_id["stripes"]["artist"], "Synthetic");
  EXPECT_EQ(by_id["duo"]["styles"], json::array({"duo_0", "duo_1"}));
  EXPECT_EQ(by_id["tiny"]["kind"], "builtin");
  EXPECT_FALSE(by_id["tiny"]["owned"].get<bool>());
  for (const char* id : {"tiny", "stripes"}) {
    auto t = a.get(std::string("/api/styles/") + id + "/thumbnail");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->status, 200);
    EXPECT_EQ(t->get_header_value("Content-Type"), "image/jpeg");
    EXPECT_EQ(probe_image(t->body).format, "jpeg");
  }
  EXPECT_EQ(a.get("/api/styles/nope/thumbnail")->status, 404);
}

// Threads of this process in each scheduling class, from /proc (field 41 of a task's stat).
std::map<int, int> threads_by_policy() {
  std::map<int, int> count;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // after "pid (comm) "
    std::string field;
    for (int i = 3; i <= 41 && fields >> field; ++i) {
      if (i == 41) ++count[std::stoi(field)];
    }
  }
  return count;
}

TEST_P(ServiceTest, JobWorkersRunAtIdlePriorityByDefault) {
  const int before = threads_by_policy()[SCHED_IDLE];
  start([](service::ServerConfig& c) { c.idle_priority_workers = true; });
  auto a = api();
  // Once a job has finished, every worker has passed its priority call.
  auto id =
      a.submit({{"style", "tiny"}, {"method", "fast"}, {"size", "64"}}, png_of(test_photo(80, 60)));
  ASSERT_EQ(a.wait_finished(id)["status"], "done");
  const auto after = threads_by_policy();
  // One fast and one Gatys worker (plus the OpenMP threads a job started from the fast one).
  EXPECT_GE(after.count(SCHED_IDLE) ? after.at(SCHED_IDLE) - before : 0, 2);
  EXPECT_GT(after.count(SCHED_OTHER) ? after.at(SCHED_OTHER) : 0, 0);  // HTTP threads stay normal
}

TEST_P(ServiceTest, FastJobLifecycleResultFormatsHistoryAndDelete) {
  start();
  auto a = api();
  std::string id =
      a.submit({{"style", "tiny"}, {"method", "fast"}, {"size", "64"}}, png_of(test_photo(80, 60)));
  ASSERT_FALSE(id.empty());
  auto job = a.wait_finished(id);
  ASSERT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["width"], 64);
  EXPECT_EQ(job["height"], 48);
  EXPECT_EQ(job["method"], "fast");
  EXPECT_EQ(job["params"]["size"], 64);
  EXPECT_EQ(job["urls"]["result"], "/api/jobs/" + id + "/result");
  EXPECT_TRUE(job["seconds"].is_number());
  EXPECT_TRUE(job["finished_at"].is_string());

  auto png = a.get("/api/jobs/" + id + "/result");
  ASSERT_EQ(png->status, 200);
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  auto header = probe_image(png->body);
  EXPECT_EQ(header.width, 64);
  EXPECT_EQ(header.height, 48);
  auto jpeg = a.get("/api/jobs/" + id + "/result?format=jpeg&download=1");
  ASSERT_EQ(jpeg->status, 200);
  EXPECT_EQ(probe_image(jpeg->body).format, "jpeg");
  // Named after the photo (job_form sends photo.png) and the style (the model "Tiny 0").
  EXPECT_EQ(jpeg->get_header_value("Content-Disposition"),
            "attachment; filename=\"photo-tiny-0.jpg\"");
  auto dl = a.get("/api/jobs/" + id + "/result?download=1");
  EXPECT_EQ(dl->get_header_value("Content-Disposition"),
            "attachment; filename=\"photo-tiny-0.png\"");
  EXPECT_EQ(a.get("/api/jobs/" + id + "/thumbnail")->status, 200);
  auto content = a.get("/api/jobs/" + id + "/content");
  ASSERT_EQ(content->status, 200);
  EXPECT_EQ(probe_image(content->body).width, 80);
  EXPECT_EQ(a.get("/api/jobs/" + id + "/preview")->status, 404);  // fast jobs have none

  auto history = parse_json(a.get("/api/history"));
  ASSERT_EQ(history["total"], 1);
  EXPECT_EQ(history["items"][0]["id"], id);

  // Re-run the same photo with another style through a JSON body.
  Reply rerun = a.http.Post(
      "/api/jobs", client_headers(kAlice),
      json{{"content_job", id}, {"style", "duo"}, {"style_mix", "duo_0=1,duo_1=3"}}.dump(),
      "application/json");
  ASSERT_EQ(rerun->status, 202) << rerun->body;
  std::string id2 = json::parse(rerun->body)["id"];
  EXPECT_EQ(a.wait_finished(id2)["status"], "done");
  EXPECT_EQ(parse_json(a.get("/api/history?limit=1"))["items"][0]["id"], id2);  // newest first

  auto del = a.del("/api/history/" + id);
  EXPECT_EQ(del->status, 204);
  EXPECT_EQ(a.get("/api/jobs/" + id)->status, 404);
  EXPECT_EQ(a.get("/api/jobs/" + id + "/result")->status, 404);
  EXPECT_EQ(parse_json(a.get("/api/history"))["total"], 1);
}

TEST_P(ServiceTest, GatysJobStreamsEventsInOrder) {
  start();
  auto a = api();
  std::string id = a.submit(
      {{"style", "stripes"}, {"method", "gatys"}, {"size", "64"}, {"steps", "12"}, {"scales", "1"}},
      png_of(test_photo(64, 48)));
  ASSERT_FALSE(id.empty());
  std::string body;
  auto r = a.http.Get(("/api/jobs/" + id + "/events").c_str(), client_headers(kAlice),
                      [&](const char* data, size_t n) {
                        body.append(data, n);
                        return true;
                      });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  // Parse "event: x\ndata: y\n\n" blocks.
  std::vector<std::pair<std::string, json>> events;
  size_t pos = 0;
  while (true) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) break;
    std::string block = body.substr(pos, end - pos);
    pos = end + 2;
    auto nl = block.find('\n');
    ASSERT_EQ(block.rfind("event: ", 0), 0u) << block;
    if (block.rfind("event: heartbeat\n", 0) == 0) continue;  // while the job is quiet
    events.emplace_back(block.substr(7, nl - 7), json::parse(block.substr(nl + 7)));
  }
  ASSERT_GE(events.size(), 3u) << body;
  EXPECT_EQ(events.back().first, "done") << body;
  EXPECT_EQ(events.back().second["status"], "done");
  int last_iteration = -1, progress_events = 0, previews = 0;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const auto& [name, data] = events[i];
    EXPECT_TRUE(name == "status" || name == "progress" || name == "preview") << name;
    if (name == "progress") {
      int it = data["iteration"];
      EXPECT_GE(it, last_iteration);
      last_iteration = it;
      ++progress_events;
      EXPECT_TRUE(data.contains("style_loss") && data.contains("eta_seconds"));
    }
    if (name == "preview") {
      ++previews;
      EXPECT_EQ(data["url"].get<std::string>().rfind("/api/jobs/" + id + "/preview", 0), 0u);
    }
  }
  EXPECT_GE(progress_events, 1);
  EXPECT_GE(previews, 1);
  EXPECT_EQ(a.get("/api/jobs/" + id + "/preview")->status, 200);
  auto done = a.job(id);
  EXPECT_GE(done["progress"]["iteration"].get<int>(), 1);
  EXPECT_EQ(done["params"]["steps"], 12);

  // A finished job's stream is just the final event.
  auto again = a.get("/api/jobs/" + id + "/events");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body.rfind("event: done\n", 0), 0u) << again->body;
}

TEST_P(ServiceTest, CancelQueuedAndRunningJobs) {
  start();
  auto a = api();
  std::string photo = png_of(test_photo(64, 64));
  std::vector<std::pair<std::string, std::string>> slow = {{"style", "stripes"},
                                                           {"method", "gatys"},
                                                           {"size", "64"},
                                                           {"steps", "2000"},
                                                           {"scales", "1"}};
  std::string running = a.submit(slow, photo);
  std::string queued = a.submit(slow, photo);
  a.wait_running(running);
  EXPECT_EQ(a.job(queued)["status"], "queued");
  EXPECT_EQ(a.job(queued)["position"], 1);

  auto r = a.del("/api/jobs/" + queued);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["status"], "cancelled");
  r = a.del("/api/jobs/" + running);
  ASSERT_EQ(r->status, 202);
  EXPECT_EQ(a.wait_finished(running)["status"], "cancelled");
  EXPECT_EQ(a.get("/api/jobs/" + running + "/result")->status, 409);
  // Cancelling again is harmless.
  EXPECT_EQ(a.del("/api/jobs/" + running)->status, 200);
}

TEST_P(ServiceTest, HistoryJobsAndStylesAreIsolatedBetweenClients) {
  start();
  auto alice = api(kAlice);
  auto bob = api(kBob);
  std::string id = alice.submit({{"style", "tiny"}, {"size", "64"}}, png_of(test_photo()));
  alice.wait_finished(id);
  EXPECT_EQ(parse_json(alice.get("/api/history"))["total"], 1);
  EXPECT_EQ(parse_json(bob.get("/api/history"))["total"], 0);
  for (const std::string& path :
       std::vector<std::string>{"/api/jobs/" + id, "/api/jobs/" + id + "/result",
                                "/api/jobs/" + id + "/content", "/api/jobs/" + id + "/events"}) {
    EXPECT_EQ(bob.get(path)->status, 404) << path;
  }
  EXPECT_EQ(bob.del("/api/jobs/" + id)->status, 404);
  EXPECT_EQ(bob.del("/api/history/" + id)->status, 404);
  EXPECT_EQ(alice.job(id)["status"], "done");

  // Uploaded styles: visible to and deletable by their owner only.
  auto up = alice.post("/api/styles", job_form({{"title", "My painting"}},
                                               png_of(synthetic_style_image(48, 48)), "image"));
  ASSERT_EQ(up->status, 201) << up->body;
  auto style = json::parse(up->body);
  EXPECT_EQ(style["kind"], "upload");
  EXPECT_TRUE(style["owned"].get<bool>());
  EXPECT_EQ(style["methods"], json::array({"gatys"}));
  std::string sid = style["id"];
  auto bob_styles = parse_json(bob.get("/api/styles"))["styles"];
  for (const auto& s : bob_styles) EXPECT_NE(s["id"], sid);
  EXPECT_EQ(bob.get("/api/styles/" + sid + "/thumbnail")->status, 404);
  EXPECT_EQ(bob.del("/api/styles/" + sid)->status, 404);
  EXPECT_EQ(alice.get("/api/styles/" + sid + "/thumbnail")->status, 200);
  EXPECT_EQ(alice.del("/api/styles/tiny")->status, 403);
  EXPECT_EQ(alice.del("/api/styles/" + sid)->status, 204);
  EXPECT_EQ(alice.get("/api/styles/" + sid + "/thumbnail")->status, 404);

  // Admin key sees everything; a wrong key is refused.
  server.reset();
  start([](service::ServerConfig& c) { c.admin_key = "s3cret-admin"; });
  Api admin(server->port(), kBob);
  Reply all = admin.http.Get("/api/history?all=1", {{"X-Admin-Key", "s3cret-admin"}});
  EXPECT_EQ(json::parse(all->body)["total"], 1);
  EXPECT_EQ(Reply(admin.http.Get("/api/history", {{"X-Admin-Key", "wrong"}})).status, 403);
  EXPECT_EQ(Api(server->port(), kBob).get("/api/history?all=1")->status, 403);
}

TEST_P(ServiceTest, ValidationErrorsNameTheField) {
  start();
  auto a = api();
  std::string photo = png_of(test_photo());
  struct Case {
    std::vector<std::pair<std::string, std::string>> fields;
    std::string prefix;
  };
  std::vector<Case> cases = {
      {{{"style", "tiny"}, {"size", "10"}}, "size: must be between 64 and 2048"},
      {{{"style", "tiny"}, {"method", "oil"}}, "method:"},
      {{{"style", "nope"}}, "style: unknown style"},
      {{}, "style:"},
      {{{"style", "stripes"}, {"method", "fast"}}, "style:"},  // no fast model
      {{{"style", "tiny"}, {"method", "gatys"}}, "style:"},    // no painting
      {{{"style", "tiny"}, {"blend", "1.5"}}, "blend:"},
      {{{"style", "tiny"}, {"stroke_scale", "9"}}, "stroke_scale:"},
      {{{"style", "tiny"}, {"stroke_scale", "big"}}, "stroke_scale:"},
      {{{"style", "tiny"}, {"strength", "-0.1"}}, "strength:"},
      {{{"style", "tiny"}, {"strength", "nan"}}, "strength:"},
      {{{"style", "tiny"}, {"original_colors", "perhaps"}}, "original_colors:"},
      {{{"style", "tiny"}, {"style_mix", "a=1"}}, "style_mix:"},  // single-style model
      {{{"style", "duo"}, {"style_mix", "zzz=1"}}, "style_mix:"},
      {{{"style", "stripes"}, {"method", "gatys"}, {"steps", "0.5"}}, "steps:"},
      {{{"style", "stripes"}, {"method", "gatys"}, {"steps", "999999"}}, "steps:"},
      {{{"style", "stripes"}, {"method", "gatys"}, {"style_weight", "-2"}}, "style_weight:"},
      {{{"style", "stripes"}, {"method", "gatys"}, {"optimizer", "sgd"}}, "optimizer:"},
      {{{"style", "stripes"}, {"method", "gatys"}, {"init", "zero"}}, "init:"},
      {{{"style", "stripes"}, {"method", "gatys"}, {"scales", "99"}}, "scales:"},
      {{{"style", "stripes"}, {"method", "gatys"}, {"seed", "x"}}, "seed:"},
      {{{"style", "tiny"}, {"bogus", "1"}}, "bogus: unknown field"},
  };
  for (const auto& c : cases) {
    auto r = a.post("/api/jobs", job_form(c.fields, photo));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    auto err = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(err.is_object()) << r->body;
    EXPECT_EQ(err["error"].get<std::string>().rfind(c.prefix, 0), 0u)
        << "got " << err["error"] << ", want " << c.prefix;
  }
  auto missing = a.post("/api/jobs", job_form({{"style", "tiny"}}, ""));
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(json::parse(missing->body)["error"].get<std::string>().rfind("content:", 0), 0u);
  EXPECT_EQ(Reply(a.http.Get("/api/history?limit=0", client_headers(kAlice))).status, 400);
  EXPECT_EQ(Reply(a.http.Get("/api/styles", {{"X-Client-Token", "bad token!"}})).status, 400);
  EXPECT_EQ(parse_json(a.get("/api/history"))["total"], 0);
}

TEST_P(ServiceTest, OversizedCorruptAndMisTypedUploads) {
  start([](service::ServerConfig& c) {
    c.max_upload_bytes = 64 * 1024;
    c.max_pixels = 200 * 200;
  });
  auto a = api();
  auto status_and_error = [&](const std::string& bytes) {
    auto r = a.post("/api/jobs", job_form({{"style", "tiny"}}, bytes));
    EXPECT_TRUE(r);
    auto j = json::parse(r->body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("error")) << r->body.substr(0, 100);
    return std::make_pair(r->status, j.is_object() ? j.value("error", "") : "");
  };
  cv::Mat noise(300, 300, CV_8UC3);
  cv::randu(noise, 0, 255);
  EXPECT_EQ(status_and_error(png_of(noise)).first, 413);  // bytes
  EXPECT_EQ(status_and_error(png_of(cv::Mat(300, 300, CV_8UC3, cv::Scalar(1, 2, 3)))).first,
            413);  // pixels
  auto text = status_and_error("hello, this is not an image at all");
  EXPECT_EQ(text.first, 415);
  EXPECT_EQ(text.second.rfind("content:", 0), 0u) << text.second;
  std::string png = png_of(test_photo());
  auto truncated = status_and_error(png.substr(0, 40));
  EXPECT_TRUE(truncated.first == 400 || truncated.first == 415) << truncated.second;
  std::string corrupt = png;
  for (size_t i = 60; i < corrupt.size(); ++i) corrupt[i] = static_cast<char>(i * 7);
  auto bad = status_and_error(corrupt);
  EXPECT_TRUE(bad.first == 400 || bad.first == 415) << bad.first << " " << bad.second;
  // Bodies beyond the transport limit are cut off with a JSON 413 too.
  auto huge = a.post("/api/jobs", job_form({{"style", "tiny"}}, std::string(2 * 1024 * 1024, 'x')));
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  EXPECT_EQ(parse_json(a.get("/api/history"))["total"], 0);
}

TEST_P(ServiceTest, UnknownIdsAndRoutesAre404Json) {
  start();
  auto a = api();
  std::string unknown(32, 'a');
  for (const std::string& path : std::vector<std::string>{
           "/api/jobs/" + unknown, "/api/jobs/" + unknown + "/result", "/api/jobs/../../etc/passwd",
           "/api/jobs/ZZZ", "/api/jobs/" + unknown + "/events", "/api/nothing",
           "/api/styles/%2e%2e/thumbnail"}) {
    auto r = a.get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_TRUE(json::parse(r->body, nullptr, false).contains("error")) << path << r->body;
  }
  EXPECT_EQ(a.del("/api/jobs/" + unknown)->status, 404);
  EXPECT_EQ(a.del("/api/history/xyz")->status, 404);
  Reply r = a.http.Post("/api/nowhere", "", "text/plain");
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(json::parse(r->body, nullptr, false).contains("error"));
}

TEST_P(ServiceTest, QueueFullAnswers429WithRetryAfter) {
  start([](service::ServerConfig& c) { c.max_queue = 1; });
  auto a = api();
  std::string photo = png_of(test_photo(64, 64));
  std::vector<std::pair<std::string, std::string>> slow = {{"style", "stripes"},
                                                           {"method", "gatys"},
                                                           {"size", "64"},
                                                           {"steps", "2000"},
                                                           {"scales", "1"}};
  std::string running = a.submit(slow, photo);
  a.wait_running(running);
  std::string queued = a.submit(slow, photo);
  auto r = a.post("/api/jobs", job_form(slow, photo));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_FALSE(r->get_header_value("Retry-After").empty());
  EXPECT_TRUE(json::parse(r->body).contains("error"));
  EXPECT_EQ(parse_json(a.get("/api/history"))["total"], 2);
  a.del("/api/jobs/" + queued);
  a.del("/api/jobs/" + running);
  a.wait_finished(running);
}

TEST_P(ServiceTest, RateLimitAnswers429) {
  start([](service::ServerConfig& c) {
    c.rate_limit = 0.01;
    c.rate_burst = 3;
  });
  auto a = api();
  int ok = 0, limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = a.get("/api/styles");
    if (r->status == 200) ++ok;
    if (r->status == 429) {
      ++limited;
      EXPECT_FALSE(r->get_header_value("Retry-After").empty());
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(limited, 3);
  EXPECT_EQ(a.get("/healthz")->status, 200);  // probes are exempt
}

TEST_P(ServiceTest, SynchronousStylize) {
  start();
  auto a = api();
  auto r = a.post(
      "/api/stylize",
      job_form(
          {{"style", "tiny"}, {"original_color", "true"}, {"blend_alpha", "0.5"}, {"size", "64"}},
          png_of(test_photo(80, 60)), "image"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(probe_image(r->body).width, 64);
  auto bad = a.post("/api/stylize", job_form({{"style", "tiny"}, {"blend_alpha", "7"}},
                                             png_of(test_photo()), "image"));
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["error"].get<std::string>().rfind("blend_alpha:", 0), 0u);
  EXPECT_EQ(parse_json(a.get("/api/history"))["total"], 0);
}

TEST_P(ServiceTest, DeviceHealthMetricsOpenApiAndCookies) {
  const std::string admin_key = "admin-key-for-tests-0001";
  start([&](service::ServerConfig& c) { c.admin_key = admin_key; });
  auto a = api();
  // Anyone sees what the UI needs; paths, memory and metrics need the admin key.
  auto device = parse_json(a.get("/api/device"));
  EXPECT_TRUE(device["methods"]["gatys"].get<bool>());
  EXPECT_EQ(device["limits"]["max_size"], 2048);
  EXPECT_FALSE(device["details"].get<bool>());
  EXPECT_EQ(device["device"], "cpu");
  for (const char* hidden : {"vgg", "allocator", "blas", "memory_available_bytes", "peak_rss_bytes",
                             "device_name", "torch_version", "cores", "compute"})
    EXPECT_FALSE(device.contains(hidden)) << hidden;
  auto health = parse_json(a.get("/healthz"));
  EXPECT_TRUE(health["status"] == "ok" || health["status"] == "warning");
  for (const char* hidden : {"database", "queue", "disk", "warnings", "memory"})
    EXPECT_FALSE(health.contains(hidden)) << hidden;
  EXPECT_EQ(a.get("/metrics")->status, 403);

  a.http.set_default_headers({{"X-Admin-Key", admin_key}});
  device = parse_json(a.get("/api/device"));
  EXPECT_TRUE(device["details"].get<bool>());
  EXPECT_TRUE(device["vgg"].is_object());
  EXPECT_TRUE(device["device_name"].is_string());
  EXPECT_TRUE(device["torch_version"].is_string());
  EXPECT_EQ(device["allocator"], memory_allocator());
  // Why jobs compute in what they do (the suite runs with PASTICHE_PROBE=off: the flag rule).
  EXPECT_EQ(device["compute"]["precision"], cpu_compute_probe().bf16 ? "bf16" : "fp32");
  EXPECT_TRUE(device["compute"]["summary"].is_string());
  health = parse_json(a.get("/healthz"));
  EXPECT_TRUE(health["disk"].contains("free_bytes"));
  EXPECT_EQ(health["database"], "ok");
  EXPECT_TRUE(health["queue"].contains("queued"));
  auto metrics = a.get("/metrics");
  ASSERT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("pastiche_http_requests_total{route=\"GET /api/device\""),
            std::string::npos);
  EXPECT_NE(metrics->body.find("pastiche_queue_length{lane=\"gatys\"}"), std::string::npos);
  auto doc = a.get("/api/openapi.json");
  ASSERT_EQ(doc->status, 200);
  auto spec = json::parse(doc->body, nullptr, false);
  ASSERT_TRUE(spec.is_object()) << doc->body.substr(0, 200);
  EXPECT_EQ(spec["openapi"], "3.0.3");
  for (const char* path : {"/api/jobs", "/api/jobs/{id}/events", "/api/styles", "/healthz"})
    EXPECT_TRUE(spec["paths"].contains(path)) << path;

  // Browsers without a token get a cookie, and are recognised by it afterwards.
  httplib::Client browser("127.0.0.1", server->port());
  Reply first = browser.Get("/api/history");
  std::string cookie = first->get_header_value("Set-Cookie");
  EXPECT_EQ(cookie.rfind("pastiche_client=", 0), 0u);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
  auto value = cookie.substr(0, cookie.find(';'));
  Reply second = browser.Get("/api/history", {{"Cookie", value}});
  EXPECT_TRUE(second->get_header_value("Set-Cookie").empty());
}

TEST_P(ServiceTest, StaticWebUiWithFallbackAndPlaceholder) {
  start();
  auto a = api();
  auto placeholder = a.get("/");
  ASSERT_EQ(placeholder->status, 200);
  EXPECT_NE(placeholder->body.find("not built"), std::string::npos);

  namespace fs = std::filesystem;
  std::string web = files.dir.file("web");
  fs::create_directories(web + "/assets");
  std::ofstream(web + "/index.html") << "<!doctype html><title>UI</title>";
  std::ofstream(web + "/assets/app-1234.js") << "console.log(1)";
  std::ofstream(files.dir.file("secret.txt")) << "secret";
  server.reset();
  start([&](service::ServerConfig& c) { c.web_dir = web; });
  auto b = api();
  auto index = b.get("/");
  EXPECT_EQ(index->body, "<!doctype html><title>UI</title>");
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  auto js = b.get("/assets/app-1234.js");
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js->get_header_value("Cache-Control").find("immutable"), std::string::npos);
  EXPECT_EQ(b.get("/history/some-route")->body, index->body);  // client-side route
  EXPECT_EQ(b.get("/assets/missing.js")->status, 404);
  EXPECT_NE(b.get("/../secret.txt")->body, "secret");
  EXPECT_NE(b.get("/%2e%2e/secret.txt")->body, "secret");
}

TEST_P(ServiceTest, WithoutVggWeightsOnlyFastIsOffered) {
  start([](service::ServerConfig& c) { c.vgg_path = "none"; });
  auto a = api();
  auto styles = parse_json(a.get("/api/styles"))["styles"];
  for (const auto& s : styles) {
    EXPECT_EQ(std::find(s["methods"].begin(), s["methods"].end(), "gatys"), s["methods"].end())
        << s.dump();
  }
  auto r = a.post("/api/jobs",
                  job_form({{"style", "stripes"}, {"method", "gatys"}}, png_of(test_photo())));
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("gatys is not available"), std::string::npos) << r->body;
  auto device = parse_json(a.get("/api/device"));
  EXPECT_FALSE(device["methods"]["gatys"].get<bool>());
  EXPECT_TRUE(device["gatys_unavailable_reason"].is_string());
}

// Regression (issue 12, finding 6): with a small quota each finished job was deleted at once
// (202, then 404) and vanished from history.
TEST_P(ServiceTest, QuotaExpiresDownloadedJobsKeepsUnfetchedOnesAndRefusesWhenFull) {
  start([](service::ServerConfig& c) { c.max_disk_bytes = 0; });
  auto a = api();
  cv::Mat big(256, 256, CV_8UC3);
  cv::randu(big, 0, 255);  // noise: a large PNG
  std::string fetched = a.submit({{"style", "tiny"}}, png_of(big));
  EXPECT_EQ(a.wait_finished(fetched)["status"], "done");
  EXPECT_EQ(a.get("/api/jobs/" + fetched + "/result")->status, 200);
  std::string unfetched = a.submit({{"style", "tiny"}}, png_of(big));
  EXPECT_EQ(a.wait_finished(unfetched)["status"], "done");
  int64_t used = stored_image_bytes();

  // Room for what is stored now, not for another job: the downloaded job has to go.
  server.reset();
  start([&](service::ServerConfig& c) {
    c.max_disk_bytes = used + 1;
    c.keep_min_minutes = 0;
  });
  auto b = api();
  std::string small = b.submit({{"style", "tiny"}}, png_of(test_photo(64, 64)));
  EXPECT_EQ(b.wait_finished(small)["status"], "done");
  EXPECT_EQ(b.job(fetched)["status"], "expired");  // still in the history, told why
  auto gone = b.get("/api/jobs/" + fetched + "/result");
  EXPECT_EQ(gone->status, 410);
  EXPECT_NE(gone->body.find("disk space"), std::string::npos) << gone->body;
  EXPECT_EQ(b.job(unfetched)["status"], "done");  // never downloaded: kept
  EXPECT_EQ(b.get("/api/jobs/" + unfetched + "/result")->status, 200);
  EXPECT_EQ(b.get("/api/jobs/" + small + "/result")->status, 200);

  // Nothing left that may go (all recent or just downloaded with keep 30 min): refused up front.
  server.reset();
  start([&](service::ServerConfig& c) { c.max_disk_bytes = used + 1; });
  auto c = api();
  auto refused = c.post("/api/jobs", job_form({{"style", "tiny"}}, png_of(big)));
  EXPECT_EQ(refused->status, 507) << refused->body;
  EXPECT_NE(refused->body.find("storage full"), std::string::npos);
  EXPECT_EQ(parse_json(c.get("/api/history"))["total"], 3);  // no job row left behind
}

// The worker of a `serve` process registers itself like any `pastiche worker`: the admin sees
// it, with the job it runs, and the queue depth per lane of the whole cluster.
TEST_P(ServiceTest, WorkersAndQueueDepthPerLaneAreReported) {
  const std::string admin_key = "admin-key-for-tests-0002";
  start([&](service::ServerConfig& c) { c.admin_key = admin_key; });
  auto a = api();
  EXPECT_EQ(a.get("/api/workers")->status, 403);
  std::string photo = png_of(test_photo(64, 64));
  std::vector<std::pair<std::string, std::string>> slow = {{"style", "stripes"},
                                                           {"method", "gatys"},
                                                           {"size", "64"},
                                                           {"steps", "2000"},
                                                           {"scales", "1"}};
  std::string running = a.submit(slow, photo);
  a.wait_running(running);
  std::string queued = a.submit(slow, photo);
  a.http.set_default_headers({{"X-Admin-Key", admin_key}});
  auto workers = parse_json(a.get("/api/workers"));
  ASSERT_EQ(workers["workers"].size(), 1u) << workers.dump();
  auto w = workers["workers"][0];
  EXPECT_EQ(w["lanes"], json::array({"fast", "gatys"}));
  EXPECT_EQ(w["jobs"], json::array({running}));
  EXPECT_TRUE(w["last_seen_at"].is_string());
  EXPECT_EQ(workers["queue"]["gatys"], 1);
  EXPECT_EQ(workers["queue"]["fast"], 0);
  EXPECT_EQ(parse_json(a.get("/api/device"))["queue"]["gatys"], 1);
  auto metrics = a.get("/metrics")->body;
  EXPECT_NE(metrics.find("pastiche_queue_length{lane=\"gatys\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("pastiche_workers 1"), std::string::npos);
  EXPECT_NE(metrics.find("pastiche_jobs_running 1"), std::string::npos);
  a.del("/api/jobs/" + queued);
  a.del("/api/jobs/" + running);
  EXPECT_EQ(a.wait_finished(running)["status"], "cancelled");
  server.reset();  // a stopped worker leaves the registry
  start([&](service::ServerConfig& c) {
    c.admin_key = admin_key;
    c.workers = !on_postgres();  // an API-only node sees no worker at all
  });
  Api b(server->port(), kAlice);
  b.http.set_default_headers({{"X-Admin-Key", admin_key}});
  EXPECT_EQ(parse_json(b.get("/api/workers"))["workers"].size(), on_postgres() ? 0u : 1u);
}

// Jobs stored before the typed spec (params without a version) still run, and show their
// params as they were stored.
TEST_P(ServiceTest, JobsStoredBeforeTheSpecRunAndKeepTheirParams) {
  const std::string params =
      R"({"blend":1.0,"content_weight":1.0,"init":"content","optimizer":"lbfgs",)"
      R"("original_colors":false,"scales":1,"seed":0,"size":64,"steps":4,"style_mix":{},)"
      R"("style_weight":20.0,"tv_weight":0.2})";
  std::string id = std::string(31, 'c') + "1";
  {
    std::filesystem::create_directories(files.data_dir);
    auto stores = pg ? service::open_postgres_stores(pg->url(), 1, images_dir)
                     : service::open_sqlite_stores(files.data_dir, false);
    JobRecord job;
    job.id = id;
    job.owner = kAlice;
    job.method = "gatys";
    job.style = "stripes";
    job.style_title = "Stripes";
    job.params = params;
    job.created_ms = 1000;
    stores.images->put(content_key(id), png_of(test_photo(64, 48)));
    ASSERT_TRUE(stores.queue->enqueue(job, 0));
  }
  start();
  auto a = api();
  auto job = a.wait_finished(id);
  EXPECT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["params"], json::parse(params));
  EXPECT_EQ(job["width"], 64);
}

PASTICHE_INSTANTIATE_IMAGE_BACKENDS(ServiceTest);

}  // namespace
}  // namespace pastiche::testing
