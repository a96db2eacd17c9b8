// Shared set-up for the service tests: a data directory, a tiny synthetic VGG, a tiny fast model,
// one painting for the Gatys method, a server on a loopback port, and HTTP helpers.
#pragma once
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "image/image_io.h"
#include "service/server.h"
#include "service/service_files.h"
#include "store/pg_connection.h"
#include "store/pg_image_store.h"
#include "store/store_backends.h"

namespace pastiche::testing {

using nlohmann::json;

inline std::string to_string_bytes(const std::vector<uint8_t>& v) {
  return std::string(v.begin(), v.end());
}

inline std::string png_of(const cv::Mat& m) {
  return to_string_bytes(encode_image(m, "png"));
}

inline httplib::Headers client_headers(const std::string& token) {
  return {{"X-Client-Token", token}};
}

// A response that is safe to use when the request failed (status -1, the error in body).
struct Reply {
  int status = -1;
  std::string body;
  httplib::Headers headers;
  Reply() = default;
  Reply(const httplib::Result& r) {  // NOLINT: implicit on purpose
    if (r) {
      status = r->status;
      body = r->body;
      headers = r->headers;
    } else {
      body = "request failed: " + httplib::to_string(r.error());
      ADD_FAILURE() << body;
    }
  }
  explicit operator bool() const { return status >= 0; }
  const Reply* operator->() const { return this; }
  std::string get_header_value(const std::string& key) const {
    auto it = headers.find(key);
    return it == headers.end() ? "" : it->second;
  }
};

inline json parse_json(const Reply& r) {
  if (!r) return json();
  auto j = json::parse(r->body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r->body.substr(0, 200);
  return j;
}

inline httplib::MultipartFormDataItems job_form(
    const std::vector<std::pair<std::string, std::string>>& fields, const std::string& content_png,
    const std::string& file_field = "content") {
  httplib::MultipartFormDataItems items;
  for (const auto& [k, v] : fields) items.push_back({k, v, "", ""});
  if (!content_png.empty()) items.push_back({file_field, content_png, "photo.png", "image/png"});
  return items;
}

// A client talking to a server on the loopback interface.
struct Api {
  httplib::Client http;
  std::string token;

  Api(int port, std::string token_) : http("127.0.0.1", port), token(std::move(token_)) {
    http.set_read_timeout(60);
    http.set_connection_timeout(5);
  }

  Reply get(const std::string& path) { return http.Get(path.c_str(), client_headers(token)); }
  Reply del(const std::string& path) { return http.Delete(path.c_str(), client_headers(token)); }
  Reply post(const std::string& path, const httplib::MultipartFormDataItems& items) {
    return http.Post(path.c_str(), client_headers(token), items);
  }

  // Submits a job and returns its id (fails the test unless 202).
  std::string submit(const std::vector<std::pair<std::string, std::string>>& fields,
                     const std::string& content_png) {
    auto r = post("/api/jobs", job_form(fields, content_png));
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 202) << r->body;
    auto j = json::parse(r->body, nullptr, false);
    return j.is_object() ? j.value("id", "") : "";
  }

  json job(const std::string& id) { return parse_json(get("/api/jobs/" + id)); }

  // Polls until `pred(job)` holds or the deadline passes; returns the last job JSON.
  json wait_until(const std::string& id, const std::function<bool(const json&)>& pred,
                  std::chrono::seconds timeout = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    json j;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = http.Get(("/api/jobs/" + id).c_str(), client_headers(token));
      if (r && r->status == 200) {
        j = json::parse(r->body);
        if (pred(j)) return j;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling interval
    }
    ADD_FAILURE() << "timed out waiting for job " << id << "; last: " << j.dump();
    return j;
  }

  json wait_finished(const std::string& id,
                     std::chrono::seconds timeout = std::chrono::seconds(60)) {
    return wait_until(
        id,
        [](const json& j) {
          auto s = j.value("status", "");
          return s == "done" || s == "failed" || s == "cancelled";
        },
        timeout);
  }

  json wait_running(const std::string& id) {
    return wait_until(id, [](const json& j) {
      return j.value("status", "") == "running" && j["progress"].is_object() &&
             j["progress"].value("iteration", 0) > 0;
    });
  }
};

// A server running on a free loopback port for the duration of a test.
struct RunningServer {
  std::unique_ptr<service::Server> server;
  explicit RunningServer(const service::ServerConfig& config)
      : server(std::make_unique<service::Server>(config)) {
    server->start();
  }
  int port() const { return server->port(); }
};

// Client tokens of three users.
inline constexpr const char* kAlice = "alice-client-token-0001";
inline constexpr const char* kBob = "bob-client-token-000002";
inline constexpr const char* kCarol = "carol-client-token-0003";

inline cv::Mat test_photo(int w = 80, int h = 60) {
  return synthetic_content_image(w, h);
}

// A test with its own files and a server started (and restarted) on demand, on the embedded
// SQLite database or, after use_postgres(), on a fresh PostgreSQL database of the test cluster.
class ServerTest : public ::testing::Test {
 protected:
  ServiceFiles files;
  std::unique_ptr<PgTestDatabase> pg;  // before `server`: dropped after the server stopped
  std::unique_ptr<RunningServer> server;
  std::string images_dir;  // with PostgreSQL: images in this directory (--images-dir)
  // Call first (the caller skips without PASTICHE_TEST_DATABASE_URL).
  void use_postgres() { pg = std::make_unique<PgTestDatabase>(); }
  void start(const std::function<void(service::ServerConfig&)>& tweak = {}) {
    auto config = files.config();
    if (pg) config.database = pg->url();
    config.images_dir = images_dir;
    if (tweak) tweak(config);
    server = std::make_unique<RunningServer>(config);
  }
  Api api(const std::string& token) { return Api(server->port(), token); }
};

// The same tests on every job store: GetParam() is "sqlite", "postgres" or "postgres_files"
// (images in a shared directory; both skip without a test cluster). Instantiate with
// PASTICHE_INSTANTIATE_IMAGE_BACKENDS(Suite).
class BackendServerTest : public ServerTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != "sqlite") {
      PASTICHE_SKIP_WITHOUT_POSTGRES();
      use_postgres();
    }
    if (GetParam() == "postgres_files") images_dir = files.dir.file("shared-images");
  }
  bool on_postgres() const { return pg != nullptr; }
  // Bytes in the image store (the data directory's images, or PostgreSQL's table).
  int64_t stored_image_bytes() {
    if (!pg) {
      int64_t total = 0;
      for (const auto& e : std::filesystem::recursive_directory_iterator(
               std::filesystem::path(files.data_dir) / "images")) {
        if (e.is_regular_file()) total += static_cast<int64_t>(e.file_size());
      }
      return total;
    }
    PgDatabase db(pg->url(), 1);
    return PgImageStore(db, images_dir).total_bytes();
  }
};

// The fields of a Gatys job of `steps` steps on the stripes style, 64 px, one scale.
inline std::vector<std::pair<std::string, std::string>> gatys_fields(int steps) {
  return {{"style", "stripes"},
          {"method", "gatys"},
          {"size", "64"},
          {"steps", std::to_string(steps)},
          {"scales", "1"}};
}

// A Gatys job that runs for minutes (until cancelled): something to watch, stream or stop.
inline std::string submit_long_gatys(Api& a) {
  return a.submit({{"style", "stripes"},
                   {"method", "gatys"},
                   {"size", "64"},
                   {"steps", "2000"},
                   {"scales", "1"}},
                  png_of(test_photo(64, 64)));
}

}  // namespace pastiche::testing
