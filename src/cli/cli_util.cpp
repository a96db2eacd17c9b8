#include "cli/cli_util.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "common/error.h"
#include "vgg/vgg.h"

namespace pastiche::cli {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

std::vector<double> parse_numbers(const std::string& text, const std::string& field) {
  std::vector<double> values;
  for (const auto& item : split_list(text)) {
    size_t used = 0;
    double value = 0;
    try {
      value = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !std::isfinite(value))
      throw InputError(field + ": '" + item + "' is not a number");
    values.push_back(value);
  }
  return values;
}

void require_writable_image_path(const std::string& path, const std::string& field) {
  auto ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (ext != ".png" && ext != ".jpg" && ext != ".jpeg" && ext != ".webp")
    throw InputError(field + ": '" + path + "' must end in .png, .jpg, .jpeg or .webp");
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    throw InputError(field + ": directory '" + parent.string() + "' does not exist");
}

void print_json(const nlohmann::json& object) {
  std::cout << object.dump() << std::endl;
}

std::string resolve_vgg_path(const std::string& flag_value) {
  const std::string path = flag_value.empty() ? default_vgg_weights_path() : flag_value;
  if (path.empty())
    throw InputError(
        "no VGG weights found: pass --vgg FILE, set PASTICHE_VGG, or run `pastiche weights fetch "
        "vgg19`");
  if (!std::filesystem::exists(path)) throw InputError("VGG weights '" + path + "' do not exist");
  return path;
}

}  // namespace pastiche::cli
