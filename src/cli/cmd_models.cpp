// `pastiche models list [--json]`: the installed fast models and what they say about themselves.
// `pastiche models add-neutral MODEL --dataset PHOTOS`: gives a model its neutral style, so that
// --strength weakens the painting in feature space (fast/neutral_style.h).
#include <iomanip>
#include <iostream>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "common/error.h"
#include "fast/fast_stylizer.h"
#include "fast/model_file.h"
#include "fast/neutral_style.h"

namespace pastiche::cli {
namespace {

struct NeutralArgs {
  std::string model;
  std::string output;  // empty = rewrite the model in place
  NeutralTrainOptions train;
};

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
                      {"has_thumbnail", !m.thumbnail_jpeg.empty()},
                      {"true_strength", m.true_strength}};
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
              << " residual blocks, " << (m.file_bytes + 512) / 1024 << " KiB"
              << (m.true_strength ? ", strength in feature space" : "") << "\n";
    if (!m.description.empty()) std::cout << std::setw(19) << "" << m.description << "\n";
  }
}

void add_neutral(const NeutralArgs& args) {
  const std::string path = resolve_fast_model(args.model, default_model_dirs());
  const std::string output = args.output.empty() ? path : args.output;
  const bool fp16 = read_fast_model_info(path).dtype == "float16";
  FastModel model = load_fast_model(path);
  ProgressBar bar("neutral style");
  const auto result = train_neutral_style(model, args.train,
                                          [&](int i, int total, double) { bar.update(i, total); });
  bar.finish();
  save_fast_model(output, model, fp16);
  std::cout << output << ": neutral style trained in " << args.train.iterations << " iterations ("
            << static_cast<int>(result.seconds + 0.5) << " s), distance to the photo (MSE) "
            << result.first_loss << " -> " << result.final_loss << "\n";
}

const bool models_registered = register_command(40, [](CLI::App& app) {
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

  auto neutral = std::make_shared<NeutralArgs>();
  auto* add = cmd->add_subcommand(
      "add-neutral",
      "Train a model's neutral style (the photo's look through its network), so that --strength "
      "weakens the painting itself instead of blending with the photo");
  add->add_option("model", neutral->model, "Model name or file")->required();
  add->add_option("--dataset", neutral->train.dataset, "Folder of photos (as for `train`)")
      ->required();
  add->add_option("-o,--output", neutral->output, "Write here (default: the model file itself)");
  add->add_option("--iterations", neutral->train.iterations, "Adam steps")->capture_default_str();
  add->add_option("--size", neutral->train.size, "Crop side in px")->capture_default_str();
  add->add_option("--seed", neutral->train.seed, "Random seed of the crops")->capture_default_str();
  add->callback([neutral] { add_neutral(*neutral); });
});

}  // namespace
}  // namespace pastiche::cli
