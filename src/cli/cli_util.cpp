#include "cli/cli_util.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "common/error.h"
#include "vgg/vgg.h"

namespace pastiche::cli {

void add_images_dir_option(CLI::App* command, std::string& dir) {
  command
      ->add_option("--images-dir", dir,
                   "With --database: images in this directory, shared by every node of the "
                   "cluster (NFS, a shared volume), instead of in the database; every node "
                   "gives the same directory")
      ->envname("PASTICHE_IMAGES_DIR");
}

void add_compute_flags(CLI::App* command, ComputeArgs& args, bool with_device) {
  command->add_option("--threads", args.threads, "CPU threads (0 = all cores)")
      ->capture_default_str();
  if (with_device)
    command->add_option("--device", args.device, "auto, cpu or cuda")->capture_default_str();
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
