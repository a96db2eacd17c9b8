// `pastiche models list [--json]`: the installed fast models and what they say about themselves.
#include <iomanip>
#include <iostream>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "common/error.h"
#include "fast/fast_stylizer.h"
#include "fast/model_file.h"

namespace pastiche::cli {
namespace {

struct ModelsArgs {
  std::vector<std::string> dirs;
  bool json = false;
  bool thumbnails = false;
};

nlohmann::json to_json(const FastModelInfo& m, bool thumbnails) {
  nlohmann::json j = {{"name", m.name},
                      {"title", m.title},
                      {"artist", m.artist},
                      {"description", m.description},
                      {"styles", m.styles},
                      {"path", m.path},
                      {"file_bytes", m.file_bytes},
                      {"dtype", m.dtype},
                      {"network", {{"width", m.width}, {"res_blocks", m.res_blocks}}},
                      {"has_thumbnail", !m.thumbnail_jpeg.empty()}};
  if (thumbnails) j["thumbnail_jpeg_base64"] = base64_encode(m.thumbnail_jpeg);
  return j;
}

void list(const ModelsArgs& args) {
  const auto dirs = args.dirs.empty() ? default_model_dirs() : args.dirs;
  const auto models = list_fast_models(dirs);
  if (args.json) {
    nlohmann::json out = {{"models", nlohmann::json::array()}, {"dirs", dirs}};
    for (const auto& m : models) out["models"].push_back(to_json(m, args.thumbnails));
    print_json(out);
    return;
  }
  if (models.empty()) {
    std::cout << "no fast models found in";
    for (const auto& d : dirs) std::cout << " " << d;
    std::cout << "\ntrain one with `pastiche train --style PAINTING --dataset PHOTOS -o "
                 "MODEL.safetensors`\n";
    return;
  }
  for (const auto& m : models) {
    std::cout << std::left << std::setw(18) << m.name << " " << m.title;
    if (!m.artist.empty()) std::cout << " (" << m.artist << ")";
    std::cout << "\n"
              << std::setw(19) << ""
              << "styles:";
    for (const auto& s : m.styles) std::cout << " " << s;
    std::cout << "; " << m.dtype << ", width " << m.width << ", " << m.res_blocks
              << " residual blocks, " << (m.file_bytes + 512) / 1024 << " KiB\n";
    if (!m.description.empty()) std::cout << std::setw(19) << "" << m.description << "\n";
  }
}

const bool registered = register_command(40, [](CLI::App& app) {
  auto args = std::make_shared<ModelsArgs>();
  auto* cmd = app.add_subcommand("models", "Installed fast style models");
  cmd->require_subcommand(1);
  auto* ls = cmd->add_subcommand("list", "List models with their metadata");
  ls->add_option("--dir", args->dirs,
                 "Model folder (repeatable; default $PASTICHE_MODELS_DIR, then models/)");
  ls->add_flag("--json", args->json,
               R"(Print {"models": [{"name", "title", "styles", ...}]} on stdout)");
  ls->add_flag("--thumbnails", args->thumbnails, "Include base64 JPEG thumbnails in --json");
  ls->callback([args] { list(*args); });
});

}  // namespace
}  // namespace pastiche::cli
