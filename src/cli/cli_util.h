// Small helpers shared by the subcommands.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pastiche::cli {

// --threads and --device, the same on every command that computes.
struct ComputeArgs {
  int threads = 0;  // 0 = all cores
  std::string device = "auto";
};
void add_compute_flags(CLI::App* command, ComputeArgs& args, bool with_device = true);
// --images-dir (serve and worker): the cluster's shared image directory.
void add_images_dir_option(CLI::App* command, std::string& dir);

// Throws InputError unless the path ends in an image extension we can write.
void require_writable_image_path(const std::string& path, const std::string& field = "output");
// Prints one JSON object on stdout (the --json contract).
void print_json(const nlohmann::json& object);
// Resolves the VGG weights path: the flag value, else default_vgg_weights_path(); InputError
// with instructions when none is found.
std::string resolve_vgg_path(const std::string& flag_value);

}  // namespace pastiche::cli
