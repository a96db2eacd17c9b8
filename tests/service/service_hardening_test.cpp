// Regression tests for issue 12 ("Harden the service"), one per finding of the hostile-client
// probe, written from its reproducers.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/text.h"
#include "http/raw_client.h"
#include "service/ids.h"
#include "service_fixture.h"
#include "store/disk_image_store.h"
#include "store/sqlite_job_store.h"

namespace pastiche::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kHardeningToken = "hardening-client-0001";

class Hardening : public ServerTest {
 protected:
  Api api(const std::string& token = kHardeningToken) { return ServerTest::api(token); }
  std::string db_path() const { return files.data_dir + "/jobs.db"; }
};

std::string error_of(const Reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  return j.is_object() ? j.value("error", "") : "";
}

// ---- finding 1 and 3: text that is not UTF-8 ----

TEST_F(Hardening, TextThatIsNotUtf8IsRefusedNamingTheFieldAndNothingIsStored) {
  start();
  auto a = api();
  std::string painting = png_of(synthetic_style_image(64, 64));
  auto latin1 = a.post("/api/styles",
                       {{"title", "Caf\xe9", "", ""}, {"image", painting, "p.png", "image/png"}});
  EXPECT_EQ(latin1->status, 400);
  EXPECT_EQ(error_of(latin1).rfind("title:", 0), 0u) << latin1->body;
  auto bad_name = a.post("/api/styles",
                         {{"ti\xfftle", "x", "", ""}, {"image", painting, "p.png", "image/png"}});
  EXPECT_EQ(bad_name->status, 400);
  EXPECT_NE(error_of(bad_name).find("not UTF-8"), std::string::npos) << bad_name->body;
  auto job_field = a.post("/api/jobs", job_form({{"style", "tiny\xc3"}}, png_of(test_photo())));
  EXPECT_EQ(job_field->status, 400);
  EXPECT_EQ(error_of(job_field).rfind("style:", 0), 0u) << job_field->body;
  Reply json_body =
      a.http.Post("/api/jobs", client_headers(kHardeningToken),
                  "{\"style\": \"tiny\", \"content_job\": \"\xff\"}", "application/json");
  EXPECT_EQ(json_body.status, 400);
  // Nothing was stored, and this client's lists still answer.
  auto styles = a.get("/api/styles");
  EXPECT_EQ(styles->status, 200);
  for (const auto& s : parse_json(styles)["styles"]) EXPECT_NE(s["kind"], "upload");
  auto history = a.get("/api/history");
  EXPECT_EQ(history->status, 200);
  EXPECT_EQ(parse_json(history)["total"], 0);
}

// Data stored before validation existed (or written by another tool) must never take the server
// down: the reproducer was a style whose title is Latin-1, used by a Gatys job.
TEST_F(Hardening, StoredTextThatIsNotUtf8NeverCrashesAJobOrAList) {
  std::string style_id = service::new_id();
  {
    fs::create_directories(files.data_dir);
    SqliteJobStore jobs(db_path());
    DiskImageStore images(fs::path(files.data_dir) / "images");
    StyleRecord r;
    r.id = style_id;
    r.owner = kHardeningToken;
    r.title = "Caf\xe9 \xff";
    r.artist = "\xc3";
    r.description = "ok";
    r.created_ms = 1;
    jobs.insert_style(r);
    images.put("styles/" + style_id + ".png", png_of(synthetic_style_image(64, 64)));
  }
  start();
  auto a = api();
  auto styles = a.get("/api/styles");
  ASSERT_EQ(styles->status, 200);
  EXPECT_NE(styles->body.find("Caf\xef\xbf\xbd"), std::string::npos);  // U+FFFD
  std::string id = a.submit(
      {{"style", style_id}, {"method", "gatys"}, {"size", "64"}, {"steps", "2"}, {"scales", "1"}},
      png_of(test_photo(64, 64)));
  auto job = a.wait_finished(id);
  EXPECT_EQ(job["status"], "done") << job.dump();
  EXPECT_TRUE(is_valid_utf8(a.get("/api/history")->body));
  EXPECT_EQ(a.get("/healthz")->status, 200);  // still alive
}

// ---- finding 2: predictable sessions ----

// Rebuilds MT19937-64 from 312 consecutive outputs and predicts the next two: what an attacker
// did with ~150 cookies from a server whose tokens came from one seeded generator.
struct Mt64Predictor {
  static uint64_t untemper(uint64_t y) {
    auto undo_right = [](uint64_t v, int shift, uint64_t mask) {
      uint64_t x = v;
      for (int i = 0; i < 64 / shift + 1; ++i) x = v ^ ((x >> shift) & mask);
      return x;
    };
    auto undo_left = [](uint64_t v, int shift, uint64_t mask) {
      uint64_t x = v;
      for (int i = 0; i < 64 / shift + 1; ++i) x = v ^ ((x << shift) & mask);
      return x;
    };
    y = undo_right(y, 43, ~0ULL);
    y = undo_left(y, 37, 0xFFF7EEE000000000ULL);
    y = undo_left(y, 17, 0x71D67FFFEDA60000ULL);
    y = undo_right(y, 29, 0x5555555555555555ULL);
    return y;
  }
  static uint64_t temper(uint64_t y) {
    y ^= (y >> 29) & 0x5555555555555555ULL;
    y ^= (y << 17) & 0x71D67FFFEDA60000ULL;
    y ^= (y << 37) & 0xFFF7EEE000000000ULL;
    y ^= y >> 43;
    return y;
  }
  // outputs: 312 consecutive values; returns the next `count`.
  static std::vector<uint64_t> predict(const std::vector<uint64_t>& outputs, int count) {
    std::vector<uint64_t> x;
    for (uint64_t o : outputs) x.push_back(untemper(o));
    std::vector<uint64_t> next;
    for (int i = 0; i < count; ++i) {
      size_t k = x.size() - 312;
      uint64_t y = (x[k] & 0xFFFFFFFF80000000ULL) | (x[k + 1] & 0x7FFFFFFFULL);
      uint64_t v = x[k + 156] ^ (y >> 1) ^ ((y & 1) ? 0xB5026F5AA96619E9ULL : 0);
      x.push_back(v);
      next.push_back(temper(v));
    }
    return next;
  }
};

std::pair<uint64_t, uint64_t> words_of(const std::string& id) {
  return {std::stoull(id.substr(0, 16), nullptr, 16), std::stoull(id.substr(16), nullptr, 16)};
}

TEST_F(Hardening, IdsCannotBePredictedFromEarlierOnes) {
  // The predictor works: it breaks a seeded generator from its outputs.
  std::mt19937_64 seeded(12345);
  std::vector<uint64_t> seen;
  for (int i = 0; i < 312; ++i) seen.push_back(seeded());
  auto predicted = Mt64Predictor::predict(seen, 2);
  EXPECT_EQ(predicted[0], seeded());
  EXPECT_EQ(predicted[1], seeded());

  // 156 ids = 312 words, as many as the generator's whole state: the next id is not predicted.
  seen.clear();
  for (int i = 0; i < 156; ++i) {
    auto [a, b] = words_of(service::new_id());
    seen.push_back(a);
    seen.push_back(b);
  }
  predicted = Mt64Predictor::predict(seen, 2);
  auto [a, b] = words_of(service::new_id());
  EXPECT_FALSE(predicted[0] == a && predicted[1] == b);
  std::set<uint64_t> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size());
}

// A user-space generator is copied by fork() (and by two servers seeded at the same instant):
// parent and child would hand out the same next token. The OS generator is not copied.
TEST_F(Hardening, IdsAfterForkDifferBetweenParentAndChild) {
  service::new_id();  // initialise whatever state there is before forking
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string id = service::new_id();
    ssize_t n = write(fds[1], id.data(), id.size());
    _exit(n == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  std::string mine = service::new_id();
  close(fds[1]);
  char buf[64] = {0};
  ssize_t n = read(fds[0], buf, sizeof buf);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_EQ(n, 32);
  EXPECT_NE(std::string(buf, 32), mine);
}

TEST_F(Hardening, CookiesOfTwoServersStartedTogetherDiffer) {
  ServiceFiles other;
  start();
  RunningServer second(other.config());
  std::set<std::string> cookies;
  for (int port : {server->port(), second.port()}) {
    for (int i = 0; i < 20; ++i) {
      httplib::Client c("127.0.0.1", port);
      Reply r = c.Get("/healthz");
      cookies.insert(r.get_header_value("Set-Cookie").substr(0, 48));
    }
  }
  EXPECT_EQ(cookies.size(), 40u);
}

// ---- finding 4: starvation by one client's event streams ----

TEST_F(Hardening, EventStreamsPerClientAreCapped) {
  start([](service::ServerConfig& c) { c.max_streams_per_client = 3; });
  auto a = api();
  std::string id = submit_long_gatys(a);
  std::vector<std::unique_ptr<RawConnection>> streams;
  std::string request =
      "GET /api/jobs/" + id +
      "/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Client-Token: " + kHardeningToken + "\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    streams.push_back(std::make_unique<RawConnection>(server->port()));
    streams.back()->send(request);
    EXPECT_NE(streams.back()->read(5000ms, "event: status").find("200 OK"), std::string::npos);
  }
  RawConnection fourth(server->port());
  fourth.send(request);
  std::string refused = fourth.read(5000ms, "}");
  EXPECT_EQ(refused.rfind("HTTP/1.1 429", 0), 0u) << refused.substr(0, 200);
  EXPECT_NE(refused.find("event streams"), std::string::npos);
  // Another client still gets its own.
  RawConnection other(server->port());
  std::string other_token = "another-client-000001";
  auto b = api(other_token);
  std::string mine = b.submit({{"style", "tiny"}, {"size", "64"}}, png_of(test_photo(64, 64)));
  other.send("GET /api/jobs/" + mine +
             "/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Client-Token: " + other_token + "\r\n\r\n");
  EXPECT_NE(other.read(5000ms, "event:").find("200 OK"), std::string::npos);
  a.del("/api/jobs/" + id);
}

// ---- finding 5: accepted, then failed on its input ----

TEST_F(Hardening, JobsAreCheckedAtSubmitSoAcceptedOnesRun) {
  start();
  auto a = api();
  auto submit = [&](const std::vector<std::pair<std::string, std::string>>& fields,
                    const cv::Mat& photo) {
    return a.post("/api/jobs", job_form(fields, png_of(photo)));
  };
  auto needle = submit({{"style", "stripes"}, {"method", "gatys"}}, test_photo(1, 2000));
  EXPECT_EQ(needle->status, 400);
  EXPECT_EQ(error_of(needle).rfind("content: 1x2000 is too", 0), 0u) << needle->body;
  auto elongated = submit({{"style", "tiny"}}, test_photo(2000, 100));
  EXPECT_EQ(elongated->status, 400);
  EXPECT_NE(error_of(elongated).find("elongated"), std::string::npos) << elongated->body;
  auto narrow_style = a.post(
      "/api/styles", {{"image", png_of(synthetic_style_image(12, 200)), "p.png", "image/png"}});
  EXPECT_EQ(narrow_style->status, 400);
  EXPECT_EQ(error_of(narrow_style).rfind("image:", 0), 0u) << narrow_style->body;

  // 10:1 is allowed, at a size that leaves 16 px on the short side at every scale.
  auto too_small =
      submit({{"style", "stripes"}, {"method", "gatys"}, {"size", "64"}}, test_photo(200, 20));
  EXPECT_EQ(too_small->status, 400);
  EXPECT_EQ(error_of(too_small).rfind("size: at least 160", 0), 0u) << too_small->body;
  std::string wide =
      a.submit({{"style", "stripes"}, {"method", "gatys"}, {"size", "160"}, {"steps", "3"}},
               png_of(test_photo(200, 20)));
  EXPECT_EQ(a.wait_finished(wide)["status"], "done");

  // A photo under 64 px without a size: painted at 64 px instead of failing on a field the
  // user never sent.
  std::string tiny_photo = a.submit({{"style", "tiny"}}, png_of(test_photo(40, 30)));
  auto tiny_job = a.wait_finished(tiny_photo);
  EXPECT_EQ(tiny_job["status"], "done") << tiny_job.dump();
  EXPECT_EQ(tiny_job["width"], 64);

  // Gatys-only fields on a fast job are refused, not silently ignored.
  auto weight = submit({{"style", "tiny"}, {"style_weight", "-5"}}, test_photo());
  EXPECT_EQ(weight->status, 400);
  EXPECT_EQ(error_of(weight), "style_weight: applies to method gatys only (this is a fast job)");
  auto strength =
      submit({{"style", "stripes"}, {"method", "gatys"}, {"strength", "0.5"}}, test_photo());
  EXPECT_EQ(strength->status, 400);
  EXPECT_EQ(error_of(strength),
            "strength: applies to methods fast and arbitrary only (this is a gatys job)");
  EXPECT_EQ(parse_json(a.get("/api/history"))["total"], 2);
}

// ---- finding 7: database faults ----

void corrupt_bytes(const std::string& path, std::streamoff offset, size_t count) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(offset);
  for (size_t i = 0; i < count; ++i) f.put(static_cast<char>(0xA5 ^ (i * 31)));
}

TEST_F(Hardening, DamagedMissingOrUnwritableDatabaseIsSurfaced) {
  start();
  auto a = api();
  EXPECT_EQ(a.wait_finished(a.submit({{"style", "tiny"}}, png_of(test_photo())))["status"], "done");
  server.reset();

  // A damaged page: refuse to start, saying what to do.
  fs::copy_file(db_path(), files.dir.file("good.db"));
  corrupt_bytes(db_path(), 4096, 4096);  // all of page 2 (the jobs table)
  try {
    start();
    ADD_FAILURE() << "started on a damaged database";
  } catch (const std::exception& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("damaged"), std::string::npos) << msg;
    EXPECT_NE(msg.find("pastiche admin restore"), std::string::npos) << msg;
  }

  // Empty beside existing job images: refuse unless --init.
  fs::resize_file(db_path(), 0);
  try {
    start();
    ADD_FAILURE() << "started an empty history beside stored jobs";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("--init"), std::string::npos) << e.what();
  }
  start([](service::ServerConfig& c) { c.init = true; });
  EXPECT_EQ(parse_json(api().get("/api/history"))["total"], 0);
  server.reset();

  // Broken while running: /healthz says so with 503, instead of "ok".
  fs::remove(db_path());
  for (const char* s : {"-wal", "-shm"}) fs::remove(db_path() + s);
  fs::copy_file(files.dir.file("good.db"), db_path());
  start();
  EXPECT_EQ(api().get("/healthz")->status, 200);
  corrupt_bytes(db_path(), 0, 100);  // the header
  for (const char* s : {"-wal", "-shm"}) corrupt_bytes(db_path() + s, 0, 100);
  // The check runs at most once a second: poll until the next one has run.
  Reply health;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    health = api().get("/healthz");
    if (health.status == 503) break;
    std::this_thread::sleep_for(50ms);  // polling interval
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(health->status, 503) << health->body;
  EXPECT_EQ(parse_json(health)["status"], "degraded: database");
}

TEST_F(Hardening, BackupWhileServingAndRestoreKeepEveryJob) {
  start();
  auto a = api();
  for (int i = 0; i < 3; ++i) a.wait_finished(a.submit({{"style", "tiny"}}, png_of(test_photo())));
  std::string backup = files.dir.file("backup.db");
  std::string cli = PASTICHE_CLI_PATH;
  ASSERT_EQ(std::system(
                (cli + " admin backup " + backup + " --data-dir " + files.data_dir + " > /dev/null")
                    .c_str()),
            0);
  // Not while the server runs.
  EXPECT_NE(std::system((cli + " admin restore " + backup + " --data-dir " + files.data_dir +
                         " 2> /dev/null")
                            .c_str()),
            0);
  server.reset();
  corrupt_bytes(db_path(), 4096, 4096);
  ASSERT_EQ(std::system((cli + " admin restore " + backup + " --data-dir " + files.data_dir +
                         " > /dev/null")
                            .c_str()),
            0);
  start();
  auto history = parse_json(api().get("/api/history"));
  EXPECT_EQ(history["total"], 3);
  for (const auto& job : history["items"]) EXPECT_EQ(job["status"], "done");
}

// ---- finding 8: browser-facing hardening ----

TEST_F(Hardening, SecurityHeadersOnEveryResponse) {
  start();
  for (const char* path : {"/", "/api/styles", "/healthz", "/api/nothing"}) {
    Reply r = api().get(path);
    EXPECT_NE(r.get_header_value("Content-Security-Policy").find("frame-ancestors 'none'"),
              std::string::npos)
        << path;
    EXPECT_EQ(r.get_header_value("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(r.get_header_value("X-Frame-Options"), "DENY") << path;
    EXPECT_EQ(r.get_header_value("Referrer-Policy"), "no-referrer") << path;
  }
}

TEST_F(Hardening, StateChangesFromOtherOriginsAreRefused) {
  start([](service::ServerConfig& c) { c.allowed_origins = {"https://app.example"}; });
  auto a = api();
  std::string own = "http://127.0.0.1:" + std::to_string(server->port());
  auto post_from = [&](const std::string& header, const std::string& value) {
    httplib::Headers h = client_headers(kHardeningToken);
    h.emplace(header, value);
    return Reply(a.http.Post("/api/jobs", h, job_form({{"style", "tiny"}}, png_of(test_photo()))));
  };
  // Another port on the same host is another origin: SameSite=Lax cookies do not stop it.
  auto evil = post_from("Origin", "http://127.0.0.1:9999");
  EXPECT_EQ(evil.status, 403);
  EXPECT_NE(error_of(evil).find("Origin"), std::string::npos);
  EXPECT_EQ(post_from("Referer", "http://evil.example/page").status, 403);
  EXPECT_EQ(post_from("Origin", "null").status, 403);
  EXPECT_EQ(post_from("Origin", own).status, 202);
  EXPECT_EQ(post_from("Origin", "https://app.example").status, 202);
  EXPECT_EQ(post_from("Referer", own + "/history").status, 202);
  httplib::Headers h = client_headers(kHardeningToken);
  h.emplace("Origin", "http://evil.example");
  Reply del = a.http.Delete("/api/history/" + std::string(32, 'a'), h);
  EXPECT_EQ(del.status, 403);
  EXPECT_EQ(parse_json(a.get("/api/history"))["total"], 3);
}

TEST_F(Hardening, ShutdownEndsEventStreamsWithAFinalEvent) {
  start();
  auto a = api();
  std::string id = submit_long_gatys(a);
  a.wait_running(id);
  RawConnection stream(server->port());
  stream.send("GET /api/jobs/" + id + "/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Client-Token: " +
              kHardeningToken + "\r\n\r\n");
  EXPECT_NE(stream.read(5000ms, "event: status").find("event: status"), std::string::npos);
  std::thread stopper([&] { server->server->stop(); });
  std::string rest = stream.read(10000ms, "event: shutdown");
  stopper.join();
  EXPECT_NE(rest.find("event: shutdown"), std::string::npos) << rest.substr(0, 300);
  EXPECT_NE(rest.find("retry: 5000"), std::string::npos);
  EXPECT_TRUE(stream.wait_closed(5000ms));
}

// ---- issue 26, item 7: the smaller findings ----

TEST_F(Hardening, PublicHealthShowsTheStatusOnly) {
  start([](service::ServerConfig& c) { c.admin_key = "hardening-admin-key-01"; });
  auto health = parse_json(api().get("/healthz"));
  ASSERT_TRUE(health.is_object());
  EXPECT_EQ(health.size(), 1u) << health.dump();  // no database host, user, paths or counts
  EXPECT_TRUE(health.contains("status"));
}

TEST_F(Hardening, AHostNameThatIsNotThisServersIsRefused) {
  start([](service::ServerConfig& c) { c.allowed_hosts = {"pastiche.example.org"}; });
  auto a = api();
  auto with_host = [&](const std::string& host) {
    httplib::Headers h = client_headers(kHardeningToken);
    h.emplace("Host", host);
    return Reply(a.http.Get("/api/styles", h));
  };
  // A page of evil.example whose name was rebound to this address, posting as the user would.
  Reply rebound = with_host("evil.example:" + std::to_string(server->port()));
  EXPECT_EQ(rebound.status, 421);
  EXPECT_NE(error_of(rebound).find("--allowed-host"), std::string::npos) << rebound.body;
  EXPECT_EQ(with_host("localhost:" + std::to_string(server->port())).status, 200);
  EXPECT_EQ(with_host("127.0.0.1").status, 200);
  EXPECT_EQ(with_host("[::1]:8080").status, 200);
  EXPECT_EQ(with_host("Pastiche.Example.Org").status, 200);
}

TEST_F(Hardening, WrongAdminKeysAreLimitedPerAddressEvenBeforeTheRightOne) {
  const std::string key = "hardening-admin-key-02";
  start([&](service::ServerConfig& c) { c.admin_key = key; });
  auto a = api();
  auto with_key = [&](const std::string& k) {
    return Reply(a.http.Get("/api/history", {{"X-Admin-Key", k}}));
  };
  int forbidden = 0;
  Reply last;
  for (int i = 0; i < 30; ++i) {
    last = with_key("guess-" + std::to_string(i));
    if (last.status == 403) forbidden++;
    if (last.status == 429) break;
  }
  EXPECT_EQ(forbidden, 10);
  EXPECT_EQ(last.status, 429);
  EXPECT_FALSE(last.get_header_value("Retry-After").empty());
  // Blocked: the right key is not even compared, so a lucky guess learns nothing.
  EXPECT_EQ(with_key(key).status, 429);
  // Requests without a key are not affected.
  EXPECT_EQ(a.get("/api/history")->status, 200);
}

TEST_F(Hardening, ControlAndBidiCharactersInTextFieldsAreRefused) {
  start();
  auto a = api();
  std::string painting = png_of(synthetic_style_image(64, 64));
  for (const std::string& title :
       {std::string("a\0b", 3), std::string("bell\a"), std::string("esc\x1b[31m"),
        std::string("\xe2\x80\xae"
                    "gnp.exe"),
        std::string("c1\xc2\x85")}) {
    auto r = a.post("/api/styles",
                    {{"title", title, "", ""}, {"image", painting, "p.png", "image/png"}});
    EXPECT_EQ(r->status, 400) << printable(title);
    EXPECT_EQ(error_of(r).rfind("title:", 0), 0u) << r->body;
  }
  // A description may span lines; a title may not.
  auto lines = a.post("/api/styles",
                      {{"title", "Two\nlines", "", ""}, {"image", painting, "p.png", "image/png"}});
  EXPECT_EQ(lines->status, 400);
  auto described = a.post("/api/styles", {{"title", "Fine", "", ""},
                                          {"description", "First line\n\tsecond", "", ""},
                                          {"image", painting, "p.png", "image/png"}});
  EXPECT_EQ(described->status, 201) << described->body;
  Reply json_body =
      a.http.Post("/api/jobs", client_headers(kHardeningToken),
                  "{\"style\": \"tiny\\u0007\", \"content_job\": \"x\"}", "application/json");
  EXPECT_EQ(json_body.status, 400);
  EXPECT_EQ(error_of(json_body).rfind("style:", 0), 0u) << json_body.body;
}

TEST_F(Hardening, ANulInThePathIsRefusedAndDeletesNothing) {
  start();
  auto a = api();
  std::string id = a.submit({{"style", "tiny"}}, png_of(test_photo()));
  a.wait_finished(id);
  Reply cut = a.http.Delete("/api/history/" + id + "%00xyz", client_headers(kHardeningToken));
  EXPECT_EQ(cut.status, 400);
  EXPECT_EQ(a.get("/api/jobs/" + id)->status, 200);
}

}  // namespace
}  // namespace pastiche::testing
