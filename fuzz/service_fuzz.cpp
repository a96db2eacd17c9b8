// libFuzzer target for the whole service (see service_requests.h for the input layout): a server
// on tiny synthetic models, never started (no sockets, no job workers), answers each input
// through Server::handle(). Any 5xx aborts, so libFuzzer reports it with the input.
// Build and run: scripts/fuzz.sh [seconds] (both targets); tests/service/fuzz_replay_test.cpp
// replays fuzz/corpus/service in every test run.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "service/service_files.h"
#include "service_requests.h"

namespace {

struct FuzzService {
  pastiche::testing::ServiceFiles files;
  std::unique_ptr<pastiche::service::Server> server;
  std::string job_id;

  FuzzService() {
    auto config = files.config();
    config.max_queue = 8;  // jobs are never run here: the queue fills, then 429
    config.max_pixels = 1'000'000;
    config.max_size = 256;
    server = std::make_unique<pastiche::service::Server>(config);
    // One job to aim the per-job routes at.
    const char seed[] = "\x01\x00\x00\n--\nstyle=tiny\n--\n";
    std::string input(seed, sizeof seed - 1);
    auto png = pastiche::encode_image(pastiche::testing::synthetic_content_image(80, 60), "png");
    input.append(png.begin(), png.end());
    auto res = server->handle(pastiche::fuzz::request_from_bytes(
        reinterpret_cast<const uint8_t*>(input.data()), input.size(), ""));
    auto body = nlohmann::json::parse(res.body, nullptr, false);
    job_id = body.is_object() ? body.value("id", std::string(32, 'a')) : std::string(32, 'a');
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FuzzService service;
  auto res = service.server->handle(pastiche::fuzz::request_from_bytes(data, size, service.job_id));
  if (res.status >= 500) {
    std::fprintf(stderr, "5xx: %d %s\n", res.status, res.body.c_str());
    std::abort();
  }
  return 0;
}
