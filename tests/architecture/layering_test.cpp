// The layers of src/ and what each may include: a lower layer never reaches up (an engine never
// includes the HTTP server, the stores never include the service). Checked on the sources, so a
// wrong include fails the test suite the moment it is written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace pastiche {
namespace {

namespace fs = std::filesystem;

// Each layer and the layers it may use (itself always). Order: bottom to top.
const std::map<std::string, std::set<std::string>>& allowed() {
  static const std::map<std::string, std::set<std::string>> layers = {
      {"common", {}},
      {"image", {"common"}},
      {"vgg", {"common"}},
      {"perceptual", {"common", "vgg"}},
      {"gatys", {"common", "image", "vgg", "perceptual"}},
      {"fast", {"common", "image", "vgg", "perceptual"}},
      {"store", {"common"}},
      {"http", {}},
      {"service", {"common", "image", "vgg", "perceptual", "gatys", "fast", "store", "http"}},
      {"cli",
       {"common", "image", "vgg", "perceptual", "gatys", "fast", "store", "http", "service"}},
  };
  return layers;
}

TEST(Layering, EverySourceIncludesOnlyItsOwnAndLowerLayers) {
  const fs::path src = fs::path(PASTICHE_SOURCE_DIR) / "src";
  const std::regex include(R"(^\s*#\s*include\s+"([a-z_]+)/)");
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension();
    if (ext != ".h" && ext != ".cpp") continue;
    const std::string layer = fs::relative(entry.path(), src).begin()->string();
    auto rules = allowed().find(layer);
    ASSERT_NE(rules, allowed().end()) << "src/" << layer << " is not a known layer: add it to "
                                      << "the table in this test with what it may use";
    std::ifstream in(entry.path());
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      std::smatch m;
      if (!std::regex_search(line, m, include)) continue;
      const std::string used = m[1];
      if (used == layer || !allowed().count(used)) continue;  // own layer, or not a layer
      EXPECT_TRUE(rules->second.count(used))
          << entry.path().string() << ":" << number << ": " << layer << " may not include " << used
          << "/ (" << line << ")";
    }
    ++checked;
  }
  EXPECT_GT(checked, 50);
}

}  // namespace
}  // namespace pastiche
