// Replays the fuzz corpus, plus deterministic mutations of it, through the libFuzzer target's
// function so the upload/parameter parsing path is exercised by every test run (scripts/fuzz.sh
// runs the real fuzzer when clang is available).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#define PASTICHE_FUZZ_NO_MAIN
#include "../../fuzz/job_request_fuzz.cpp"

namespace pastiche::testing {
namespace {

TEST(FuzzReplay, CorpusAndMutationsOnlyRaiseInputErrors) {
  namespace fs = std::filesystem;
  std::vector<std::string> inputs;
  fs::path dir = fs::path(PASTICHE_SOURCE_DIR) / "fuzz" / "corpus" / "job_request";
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    inputs.push_back(ss.str());
  }
  ASSERT_FALSE(inputs.empty());
  std::mt19937 rng(1234);
  for (const auto& input : inputs) {
    fuzz::parse_fields_and_upload(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  for (int i = 0; i < 3000; ++i) {
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
    fuzz::parse_fields_and_upload(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
}

}  // namespace
}  // namespace pastiche::testing
