// `pastiche train --style PAINTING [--style ...] --dataset DIR -o MODEL.safetensors`: trains a
// fast transform network (several --style = one conditional-instance-norm model).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/catalog_cli.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "common/error.h"
#include "common/runtime.h"
#include "fast/trainer.h"

namespace pastiche::cli {
namespace {

struct TrainArgs {
  explicit TrainArgs(CLI::App* command) : catalog(command, option_use::train) {}
  TrainOptions options;
  CatalogOptions catalog;  // every other TrainOptions setting, from train_option_catalog()
  std::vector<std::string> styles, names, titles, artists, descriptions;
  bool light = false;
  ComputeArgs compute;
  bool json = false;
  bool quiet = false;
};

// --title etc. apply per style: none, or one per --style.
void apply_per_style(const std::vector<std::string>& values, const std::string& flag,
                     std::vector<StyleSpec>& styles, std::string StyleSpec::*field) {
  if (values.empty()) return;
  if (values.size() != styles.size())
    throw InputError(flag + " must be given once per --style (" + std::to_string(styles.size()) +
                     " styles, " + std::to_string(values.size()) + " values)");
  for (size_t i = 0; i < values.size(); ++i) styles[i].*field = values[i];
}

void run_train(TrainArgs& args) {
  auto& o = args.options;
  args.catalog.apply(train_option_catalog(), o);
  for (const auto& s : args.styles) o.styles.push_back(StyleSpec{s, "", "", "", ""});
  apply_per_style(args.names, "--name", o.styles, &StyleSpec::name);
  apply_per_style(args.titles, "--title", o.styles, &StyleSpec::title);
  apply_per_style(args.artists, "--artist", o.styles, &StyleSpec::artist);
  apply_per_style(args.descriptions, "--description", o.styles, &StyleSpec::description);
  if (args.light) {
    if (!args.catalog.given("width")) o.width = TransformerNetOptions::light().width;
    if (!args.catalog.given("res_blocks")) o.res_blocks = TransformerNetOptions::light().res_blocks;
  }
  o.vgg = resolve_vgg_path(o.vgg);
  o.validate();
  const int threads = configure_threads(args.compute.threads);

  ProgressBar bar("train", !args.quiet);
  TrainCallbacks callbacks;
  callbacks.on_progress = [&](const TrainProgress& p) {
    char detail[128];
    std::snprintf(detail, sizeof detail, "%d/%d loss %.4g (style %.4g content %.4g)", p.iteration,
                  p.total, p.total_loss, p.style_loss, p.content_loss);
    bar.update(p.iteration, p.total, detail);
  };
  if (!args.quiet) {
    std::cerr << "training " << o.styles.size() << " style(s), network width " << o.width << ", "
              << o.res_blocks << " residual blocks, " << o.size << " px, batch " << o.batch << ", "
              << threads << " threads\n";
  }
  const auto result = train_fast_model(o, callbacks);
  bar.finish();
  if (args.json) {
    print_json({{"model", std::filesystem::absolute(result.model_path).string()},
                {"checkpoint", result.checkpoint_path},
                {"log", result.log_path},
                {"preview", result.preview_path},
                {"iterations", result.iterations},
                {"resumed_from", result.resumed_from},
                {"seconds", result.seconds},
                {"total_seconds", result.total_seconds},
                {"first_loss", result.first_loss},
                {"final_loss", result.final_loss},
                {"final_style_loss", result.final_style_loss},
                {"final_content_loss", result.final_content_loss},
                {"style_layers", result.style_layers},
                {"content_layers", result.content_layers},
                {"notes", result.notes},
                {"dataset_images", result.dataset_images},
                {"parameters", result.parameters},
                {"threads", threads},
                {"peak_rss_mb", static_cast<double>(peak_rss_bytes()) / (1024.0 * 1024.0)}});
  } else if (!args.quiet) {
    for (const auto& note : result.notes) std::cerr << "note: " << note << "\n";
    std::cerr << "wrote " << result.model_path << " (" << result.iterations << " iterations, "
              << format_duration(result.seconds) << "); last preview " << result.preview_path
              << "\n";
  }
}

const bool train_registered = register_command(20, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a fast style network on a folder of photos");
  auto args = std::make_shared<TrainArgs>(cmd);
  auto& o = args->options;
  cmd->add_option("-s,--style", args->styles, "Style painting (repeat for a multi-style model)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--dataset", o.dataset, "Folder of training photos (searched recursively)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("-o,--output", o.output, "Model file to write (.safetensors)")->required();
  cmd->add_option("--name", args->names,
                  "Style id inside the model, once per --style "
                  "(default: the file's stem)");
  cmd->add_option("--title", args->titles, "Painting title, once per --style");
  cmd->add_option("--artist", args->artists, "Painter, once per --style");
  cmd->add_option("--description", args->descriptions,
                  "Two sentences on the painting's colours and strokes, once per --style");
  args->catalog.declare(train_option_catalog(), o);
  cmd->add_flag("--light", args->light, "Lighter CPU variant: width 16, 3 residual blocks");
  add_compute_flags(cmd, args->compute, /*with_device=*/false);
  cmd->add_flag("--json", args->json, "Print one JSON object with the result on stdout");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args] { run_train(*args); });
});

}  // namespace
}  // namespace pastiche::cli
