// Replays the fuzz corpora, plus deterministic mutations of them, through the libFuzzer targets'
// functions so the parsing paths and the whole service are exercised by every test run
// (scripts/fuzz.sh runs the real fuzzers when clang is available).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "../../fuzz/job_request_target.h"
#include "../../fuzz/service_requests.h"
#include "common/text.h"
#include "service/service_files.h"

namespace pastiche::testing {
namespace {

std::vector<std::string> corpus(const std::string& name) {
  namespace fs = std::filesystem;
  std::vector<std::string> inputs;
  fs::path dir = fs::path(PASTICHE_SOURCE_DIR) / "fuzz" / "corpus" / name;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    inputs.push_back(ss.str());
  }
  return inputs;
}

// A random edit or a few of one corpus input, as libFuzzer would make.
std::string mutate(const std::vector<std::string>& inputs, std::mt19937& rng) {
  std::string s = inputs[rng() % inputs.size()];
  int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    size_t at = rng() % s.size();
    switch (rng() % 4) {
      case 0:
        s[at] = static_cast<char>(rng());
        break;
      case 1:
        s.erase(at, 1 + rng() % 4);
        break;
      case 2:
        s.insert(at, 1, "=&,.-0\x00{}\"9e"[rng() % 13]);
        break;
      default:
        s.insert(at, s.substr(rng() % s.size(), rng() % 8));
        break;
    }
  }
  return s;
}

TEST(FuzzReplay, CorpusAndMutationsOnlyRaiseInputErrors) {
  auto inputs = corpus("job_request");
  ASSERT_FALSE(inputs.empty());
  std::mt19937 rng(1234);
  for (const auto& input : inputs) {
    fuzz::parse_fields_and_upload(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  for (int i = 0; i < 3000; ++i) {
    std::string s = mutate(inputs, rng);
    fuzz::parse_fields_and_upload(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
}

// Regression (issue 12): hostile bytes anywhere in a request (field names, titles, JSON, files,
// headers, paths) get a 4xx, never a 5xx or a crash.
TEST(FuzzReplay, ServiceAnswersEveryCorpusInputAndMutationWithoutA5xx) {
  auto inputs = corpus("service");
  ASSERT_FALSE(inputs.empty());
  ServiceFiles files;
  auto config = files.config();
  config.max_queue = 8;
  config.max_pixels = 1'000'000;
  config.max_size = 256;
  service::Server server(config);
  auto as_bytes = [](const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); };
  std::string job_id(32, 'a');
  {
    std::string seed = inputs.front();  // any accepted job will do; "job_multipart" sorts first
    for (const auto& input : inputs) {
      auto req = fuzz::request_from_bytes(as_bytes(input), input.size(), job_id);
      if (req.method == "POST" && req.path == "/api/jobs") seed = input;
    }
    auto res = server.handle(fuzz::request_from_bytes(as_bytes(seed), seed.size(), job_id));
    auto body = nlohmann::json::parse(res.body, nullptr, false);
    if (body.is_object() && body.contains("id")) job_id = body["id"];
  }
  std::map<int, int> statuses;
  for (const auto& input : inputs) {
    int status = fuzz::serve(server, as_bytes(input), input.size(), job_id);
    EXPECT_LT(status, 500) << printable(input, 200);
    ++statuses[status];
  }
  std::mt19937 rng(99);
  for (int i = 0; i < 1500; ++i) {
    std::string s = mutate(inputs, rng);
    int status = fuzz::serve(server, as_bytes(s), s.size(), job_id);
    EXPECT_LT(status, 500) << printable(s, 200);
    ++statuses[status];
  }
  // The corpus reaches past validation: some requests succeed, some are refused.
  EXPECT_GT(statuses[200] + statuses[201] + statuses[202], 0);
  EXPECT_GT(statuses[400], 0);
}

}  // namespace
}  // namespace pastiche::testing
