#include "common/resources.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "common/error.h"

namespace pastiche {

namespace fs = std::filesystem;

std::string user_models_dir() {
  if (const char* env = std::getenv("PASTICHE_MODELS_DIR"); env && *env) return env;
  const char* home = std::getenv("HOME");
  if (!home || !*home) {
    throw InputError(
        "cannot find the models directory: HOME is not set; use --dir or PASTICHE_MODELS_DIR");
  }
  return (fs::path(home) / ".local/share/pastiche/models").string();
}

std::vector<std::string> model_search_dirs() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("PASTICHE_MODELS_DIR"); env && *env) {
    candidates.emplace_back(env);
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    candidates.push_back(fs::path(home) / ".local/share/pastiche/models");
  }
  candidates.emplace_back("models");
  candidates.emplace_back("../shared/models");
#ifdef PASTICHE_SOURCE_DIR
  candidates.push_back(fs::path(PASTICHE_SOURCE_DIR) / "models");
  candidates.push_back(fs::path(PASTICHE_SOURCE_DIR) / "../shared/models");
#endif
  std::vector<std::string> dirs;
  std::vector<fs::path> seen;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (!fs::is_directory(c, ec)) continue;
    fs::path canonical = fs::weakly_canonical(c, ec);
    if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) continue;
    seen.push_back(canonical);
    dirs.push_back(c.lexically_normal().string());
  }
  return dirs;
}

}  // namespace pastiche
