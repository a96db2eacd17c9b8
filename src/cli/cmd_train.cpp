// `pastiche train --style PAINTING [--style ...] --dataset DIR -o MODEL.safetensors`: trains a
// fast transform network (several --style = one conditional-instance-norm model).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "common/error.h"
#include "common/runtime.h"
#include "fast/trainer.h"

namespace pastiche::cli {
namespace {

struct TrainArgs {
  TrainOptions options;
  std::vector<std::string> styles, names, titles, artists, descriptions;
  std::string style_layers, content_layers, style_layer_weights;
  std::string precision = "auto";
  std::string layout = "auto";
  bool light = false;
  int threads = 0;
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

void run(TrainArgs& args, CLI::App* cmd) {
  auto& o = args.options;
  for (const auto& s : args.styles) o.styles.push_back(StyleSpec{s, "", "", "", ""});
  apply_per_style(args.names, "--name", o.styles, &StyleSpec::name);
  apply_per_style(args.titles, "--title", o.styles, &StyleSpec::title);
  apply_per_style(args.artists, "--artist", o.styles, &StyleSpec::artist);
  apply_per_style(args.descriptions, "--description", o.styles, &StyleSpec::description);
  o.style_layers = split_list(args.style_layers);
  o.content_layers = split_list(args.content_layers);
  o.style_layer_weights = parse_numbers(args.style_layer_weights, "style-layer-weights");
  if (args.light) {
    if (!cmd->count("--width")) o.width = TransformerNetOptions::light().width;
    if (!cmd->count("--res-blocks")) o.res_blocks = TransformerNetOptions::light().res_blocks;
  }
  o.precision = parse_precision(args.precision);
  o.layout = parse_memory_layout(args.layout);
  o.vgg = resolve_vgg_path(o.vgg);
  o.validate();
  const int threads = configure_threads(args.threads);

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

const bool registered = register_command(20, [](CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto& o = args->options;
  auto* cmd = app.add_subcommand("train", "Train a fast style network on a folder of photos");
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
  cmd->add_option("--size", o.size, "Training crop side, px")->capture_default_str();
  cmd->add_option("--style-size", o.style_size,
                  "Longest side of the style image, px (0 = --size; bigger = finer strokes)")
      ->capture_default_str();
  cmd->add_option("--batch", o.batch, "Batch size")->capture_default_str();
  cmd->add_option("--lr", o.learning_rate, "Adam learning rate")->capture_default_str();
  cmd->add_option("--iterations", o.iterations, "Optimiser steps (0 = from --epochs, else 2000)")
      ->capture_default_str();
  cmd->add_option("--epochs", o.epochs, "Passes over the dataset (instead of --iterations)")
      ->capture_default_str();
  cmd->add_option("--content-weight", o.content_weight, "Content loss weight (relative losses)")
      ->capture_default_str();
  cmd->add_option("--style-weight", o.style_weight, "Style loss weight")->capture_default_str();
  cmd->add_option("--tv-weight", o.tv_weight, "Total-variation weight")->capture_default_str();
  cmd->add_option("--style-layers", args->style_layers,
                  "Comma-separated VGG layers for style (default: as `stylize`)");
  cmd->add_option("--style-layer-weights", args->style_layer_weights,
                  "Comma-separated weight per style layer (default equal)");
  cmd->add_option("--content-layers", args->content_layers,
                  "Comma-separated VGG layers for content (default: as `stylize`)");
  cmd->add_option("--width", o.width, "Network width (paper 32)")->capture_default_str();
  cmd->add_option("--res-blocks", o.res_blocks, "Residual blocks (paper 5)")->capture_default_str();
  cmd->add_flag("--light", args->light, "Lighter CPU variant: width 16, 3 residual blocks");
  cmd->add_option("--precision", args->precision,
                  "Convolutions of both networks: auto (bf16 where the CPU has native bf16), "
                  "fp32, bf16; parameters and losses stay float32")
      ->capture_default_str();
  cmd->add_option("--layout", args->layout,
                  "Tensor layout: auto, nchw or channels-last (auto = channels-last when computing "
                  "in bf16 on the CPU)")
      ->capture_default_str();
  cmd->add_flag("--fp16", o.fp16, "Store the model as float16 (half the size)");
  cmd->add_option("--checkpoint-every", o.checkpoint_every,
                  "Iterations between checkpoints and previews (0 = only at the end)")
      ->capture_default_str();
  cmd->add_option("--preview-image", o.preview_image,
                  "Fixed validation photo for previews (default: first dataset image)");
  cmd->add_option("--preview-size", o.preview_size, "Longest side of previews, px")
      ->capture_default_str();
  cmd->add_option("--log", o.log_path, "Loss log, JSON lines (default MODEL.log.jsonl)");
  cmd->add_option("--log-every", o.log_every, "Iterations between log lines")
      ->capture_default_str();
  cmd->add_flag("--resume", o.resume, "Continue from MODEL.safetensors.ckpt");
  cmd->add_option("--init-from", o.init_from,
                  "Start from this model's weights (fine-tune; same network, fresh optimiser)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--seed", o.seed, "Random seed (initialisation and data order)")
      ->capture_default_str();
  cmd->add_option("--vgg", o.vgg,
                  "VGG weights (.safetensors; default $PASTICHE_VGG or the "
                  "models directory)");
  cmd->add_option("--threads", args->threads, "CPU threads (0 = all cores)")->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON object with the result on stdout");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args, cmd] { run(*args, cmd); });
});

}  // namespace
}  // namespace pastiche::cli
