// The layers of src/ and what each may include: a lower layer never reaches up (an engine never
// includes the HTTP server, the stores never include the service). Checked on the sources, so a
// wrong include fails the test suite the moment it is written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace pastiche {
namespace {

namespace fs = std::filesystem;

// Each layer and the layers it may use (itself always), read from the table the build itself
// uses (top-level CMakeLists.txt, written to the build folder): the build already fails when a
// layer's .cpp includes a higher layer; this also catches headers that only higher layers compile.
const std::map<std::string, std::set<std::string>>& allowed() {
  static const std::map<std::string, std::set<std::string>> layers = [] {
    std::map<std::string, std::set<std::string>> table;
    std::ifstream in(PASTICHE_LAYERS_FILE);
    std::string line;
    while (std::getline(in, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      auto& uses = table[line.substr(0, colon)];
      std::stringstream list(line.substr(colon + 1));
      std::string used;
      while (std::getline(list, used, ',')) {
        if (!used.empty()) uses.insert(used);
      }
    }
    return table;
  }();
  return layers;
}

TEST(Layering, TheBuildsTableNamesEveryLayer) {
  EXPECT_EQ(allowed().size(), 12u) << "read from " << PASTICHE_LAYERS_FILE;
  EXPECT_TRUE(allowed().at("common").empty());
  EXPECT_FALSE(allowed().at("store").count("service"));
  EXPECT_FALSE(allowed().at("arbitrary").count("service"));  // an engine, below the service
  EXPECT_FALSE(allowed().at("video").count("service"));
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
                                      << "PASTICHE_LAYERS in CMakeLists.txt with what it may use";
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
