// `pastiche train-arbitrary --dataset DIR [--dataset DIR ...] -o MODEL.safetensors`: trains the
// decoder of arbitrary-style transfer (src/arbitrary/arbitrary_trainer.h). Resumable (--resume),
// checkpoints and previews every --checkpoint-every iterations.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "arbitrary/arbitrary_trainer.h"
#include "cli/catalog_cli.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "common/runtime.h"

namespace pastiche::cli {
namespace {

struct TrainArbitraryArgs {
  explicit TrainArbitraryArgs(CLI::App* command) : catalog(command, option_use::train) {}
  ArbitraryTrainOptions options;
  CatalogOptions catalog;
  ComputeArgs compute;
  bool json = false;
  bool quiet = false;
};

void run_train_arbitrary(TrainArbitraryArgs& args) {
  auto& o = args.options;
  args.catalog.apply(arbitrary_train_option_catalog(), o);
  o.vgg = resolve_vgg_path(o.vgg);
  o.validate();
  const int threads = configure_threads(args.compute.threads);
  ProgressBar bar("train-arbitrary", !args.quiet);
  ArbitraryTrainCallbacks callbacks;
  callbacks.on_progress = [&](const ArbitraryTrainProgress& p) {
    char detail[128];
    std::snprintf(detail, sizeof detail, "%d/%d loss %.4g (pixel %.4g feature %.4g)", p.iteration,
                  p.total, p.total_loss, p.pixel_loss, p.feature_loss);
    bar.update(p.iteration, p.total, detail);
  };
  if (!args.quiet)
    std::cerr << "training a relu3_1 decoder of width " << o.width << " on " << o.size
              << " px crops, batch " << o.batch << ", " << threads << " threads\n";
  const auto result = train_arbitrary_decoder(o, callbacks);
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
                {"dataset_images", result.dataset_images},
                {"parameters", result.parameters},
                {"threads", threads}});
  } else if (!args.quiet) {
    std::cerr << "wrote " << result.model_path << " (" << result.iterations << " iterations, "
              << format_duration(result.seconds) << "); last preview " << result.preview_path
              << "\n";
  }
}

const bool train_arbitrary_registered = register_command(21, [](CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train-arbitrary",
      "Train the decoder that lets --method arbitrary paint with any painting in one pass");
  auto args = std::make_shared<TrainArbitraryArgs>(cmd);
  auto& o = args->options;
  cmd->add_option("--dataset", o.datasets,
                  "Folder of training images, searched recursively (repeat to combine folders)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("-o,--output", o.output, "Model file to write (.safetensors)")->required();
  args->catalog.declare(arbitrary_train_option_catalog(), o);
  add_compute_flags(cmd, args->compute, /*with_device=*/false);
  cmd->add_flag("--json", args->json, "Print one JSON object with the result on stdout");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args] { run_train_arbitrary(*args); });
});

}  // namespace
}  // namespace pastiche::cli
