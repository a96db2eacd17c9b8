// `pastiche stylize CONTENT (--style STYLE... | --model NAME) -o OUT`: one image, either by
// optimisation (Gatys) or through a trained fast network.
#include <filesystem>
#include <iostream>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "common/error.h"
#include "common/runtime.h"
#include "fast/fast_stylizer.h"
#include "gatys/gatys_engine.h"
#include "gatys/schedule.h"
#include "image/image_io.h"
#include "perceptual/layers.h"

namespace pastiche::cli {
namespace {

struct StylizeArgs {
  std::string content;
  std::vector<std::string> styles;
  std::string model;
  std::string output;
  std::string optimizer = "lbfgs";
  std::string init = "content";
  std::string pool = "max";
  std::string precision = "auto";
  std::string layout = "auto";
  std::string style_layers, content_layers, style_layer_weights, style_blend, style_mix;
  std::string vgg;
  std::string device = "auto";
  std::string preview;
  int threads = 0;
  bool json = false;
  bool quiet = false;
  GatysOptions gatys;
  FastOptions fast;
};

nlohmann::json common_json(const StylizeArgs& args, const cv::Mat& image, double seconds) {
  return {{"output", std::filesystem::absolute(args.output).string()},
          {"width", image.cols},
          {"height", image.rows},
          {"seconds", seconds},
          {"threads", torch::get_num_threads()},
          {"peak_rss_mb", static_cast<double>(peak_rss_bytes()) / (1024.0 * 1024.0)}};
}

void run_gatys(StylizeArgs& args) {
  auto& o = args.gatys;
  o.optimizer = parse_optimizer(args.optimizer);
  o.init = parse_init(args.init);
  o.precision = parse_precision(args.precision);
  o.layout = parse_memory_layout(args.layout);
  if (args.pool != "max" && args.pool != "avg") throw InputError("pool: expected max or avg");
  o.pool = args.pool == "avg" ? PoolKind::avg : PoolKind::max;
  o.style_layers = split_list(args.style_layers);
  o.content_layers = split_list(args.content_layers);
  o.style_layer_weights = parse_numbers(args.style_layer_weights, "style-layer-weights");
  o.style_blend = parse_numbers(args.style_blend, "style-blend");
  if (!args.preview.empty() && o.preview_every == 0) o.preview_every = 20;
  o.validate();
  if (!o.style_blend.empty() && o.style_blend.size() != args.styles.size())
    throw InputError("style-blend: needs one weight per --style (" +
                     std::to_string(args.styles.size()) + " styles)");

  // Load everything before the long part so that bad input fails in a second.
  const cv::Mat content = load_image(args.content);
  std::vector<cv::Mat> styles;
  for (const auto& path : args.styles) styles.push_back(load_image(path));
  const auto device = select_device(args.device);
  GatysEngine engine(Vgg(resolve_vgg_path(args.vgg), o.pool), device);
  const auto layers = choose_layers(engine.vgg(), o.style_layers, o.content_layers);
  if (!layers.note.empty() && !args.quiet) std::cerr << "note: " << layers.note << "\n";

  ProgressBar bar("stylize", !args.quiet);
  GatysCallbacks callbacks;
  callbacks.on_progress = [&](const GatysProgress& p) {
    char detail[160];
    std::snprintf(detail, sizeof detail, " %d/%d %dx%d style %.4g content %.4g tv %.3g",
                  p.iteration, p.total, p.width, p.height, p.style_loss, p.content_loss, p.tv_loss);
    bar.update(p.iteration, p.total, detail);
  };
  if (!args.preview.empty()) {
    require_writable_image_path(args.preview, "preview");
    callbacks.on_preview = [&](const cv::Mat& image, int) { save_image(image, args.preview); };
  }
  const auto result = engine.run(content, styles, o, callbacks);
  bar.finish();
  save_image(result.image, args.output);

  if (args.json) {
    auto j = common_json(args, result.image, result.seconds);
    j["method"] = "gatys";
    j["iterations"] = result.iterations;
    j["content_loss"] = result.content_loss;
    j["style_loss"] = result.style_loss;
    j["tv_loss"] = result.tv_loss;
    j["style_layers"] = result.style_layers;
    j["content_layers"] = result.content_layers;
    j["schedule"] = result.schedule;
    j["notes"] = result.notes;
    j["optimizer"] = to_string(o.optimizer);
    j["precision"] = result.precision;
    j["layout"] = result.layout;
    j["device"] = device.str();
    j["vgg"] = engine.vgg()->info().path;
    print_json(j);
  } else if (!args.quiet) {
    std::cerr << "wrote " << args.output << " (" << result.image.cols << "x" << result.image.rows
              << ", " << result.iterations << " evaluations, " << format_duration(result.seconds)
              << ")\n";
  }
}

void run_fast(StylizeArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  for (const auto& item : split_list(args.style_mix)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      throw InputError("style-mix: expected name=weight pairs, got '" + item + "'");
    args.fast.style_mix[item.substr(0, eq)] = parse_numbers(item.substr(eq + 1), "style-mix").at(0);
  }
  args.fast.validate();
  FastStylizer stylizer(resolve_fast_model(args.model, default_model_dirs()),
                        select_device(args.device));
  ProgressBar bar("stylize", !args.quiet);
  if (std::filesystem::is_directory(args.content)) {
    // Folder in, folder out: one bad file is reported and skipped, the rest continue.
    const auto folder = stylize_folder(
        stylizer, args.content, args.output, args.fast,
        [&](int done, int total, const std::string& file) {
          bar.update(done, total, " " + std::filesystem::path(file).filename().string());
        });
    bar.finish();
    for (const auto& [file, error] : folder.failures)
      std::cerr << "skipped " << file << ": " << error << "\n";
    if (args.json) {
      nlohmann::json j{{"method", "fast"},
                       {"model", stylizer.info().name},
                       {"seconds", folder.seconds},
                       {"processed", folder.processed},
                       {"outputs", folder.outputs},
                       {"failed", folder.failures.size()},
                       {"output", std::filesystem::absolute(args.output).string()}};
      print_json(j);
    } else if (!args.quiet) {
      std::cerr << "wrote " << folder.outputs.size() << " images to " << args.output << "\n";
    }
    if (folder.outputs.empty() && !folder.failures.empty())
      throw InputError("no image in '" + args.content + "' could be stylised");
    return;
  }
  const cv::Mat content = load_image(args.content);
  const cv::Mat output =
      stylizer.stylize(content, args.fast, [&](int done, int total) { bar.update(done, total); });
  bar.finish();
  save_image(output, args.output);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.json) {
    auto j = common_json(args, output, seconds);
    j["method"] = "fast";
    j["model"] = stylizer.info().name;
    j["styles"] = stylizer.info().styles;
    print_json(j);
  } else if (!args.quiet) {
    std::cerr << "wrote " << args.output << " (" << output.cols << "x" << output.rows << ", "
              << format_duration(seconds) << ")\n";
  }
}

const bool registered = register_command(10, [](CLI::App& app) {
  auto args = std::make_shared<StylizeArgs>();
  auto* cmd = app.add_subcommand("stylize", "Paint a photo in the style of one or more paintings");
  cmd->add_option("content", args->content, "Content photo (or a folder, with --model)")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("-o,--output", args->output,
                  "Output image (.png, .jpg, .webp), or a folder for a folder of photos")
      ->required();
  auto* style = cmd->add_option("-s,--style", args->styles,
                                "Style image (repeat for several; Gatys optimisation)");
  auto* model =
      cmd->add_option("-m,--model", args->model, "Fast model name or file (feed-forward, seconds)");
  style->excludes(model);
  auto& o = args->gatys;
  cmd->add_option("--size", o.size, "Longest side of the output, px")->capture_default_str();
  cmd->add_option("--steps", o.steps,
                  "Loss evaluations in total, all scales (0 = automatic: " +
                      std::to_string(default_steps(2)) + " multi-scale, " +
                      std::to_string(default_steps(1)) + " single)")
      ->capture_default_str();
  cmd->add_option("--optimizer", args->optimizer, "lbfgs or adam")->capture_default_str();
  cmd->add_option("--init", args->init, "Start from: content, noise or style")
      ->capture_default_str();
  cmd->add_option("--style-weight", o.style_weight, "Style loss weight (losses are normalised)")
      ->capture_default_str();
  cmd->add_option("--content-weight", o.content_weight, "Content loss weight")
      ->capture_default_str();
  cmd->add_option("--tv-weight", o.tv_weight, "Total-variation (smoothness) weight")
      ->capture_default_str();
  cmd->add_option("--style-layers", args->style_layers,
                  "Comma-separated VGG layers for style (default: classic set, or the deepest "
                  "available)");
  cmd->add_option("--style-layer-weights", args->style_layer_weights,
                  "Comma-separated weight per style layer (default equal)");
  cmd->add_option("--content-layers", args->content_layers,
                  "Comma-separated VGG layers for content (default relu4_2, or relu3_2 with "
                  "partial weights)");
  cmd->add_option("--scales", o.scales, "Coarse-to-fine levels (0 = automatic)")
      ->capture_default_str();
  cmd->add_option("--min-scale-size", o.min_scale_size, "Longest side of the coarsest level, px")
      ->capture_default_str();
  cmd->add_option("--style-scale", o.style_scale,
                  "Style image size relative to the output (bigger = larger brush strokes)")
      ->capture_default_str();
  cmd->add_option("--style-blend", args->style_blend,
                  "Comma-separated weight per --style (default equal)");
  cmd->add_flag("--match-style-colors", o.match_style_colors,
                "Recolour the style image to the photo's palette before transfer");
  cmd->add_option("--precision", args->precision,
                  "VGG convolutions in auto, fp32 or bf16 (auto = bf16 where the CPU has it)")
      ->capture_default_str();
  cmd->add_option("--layout", args->layout,
                  "Tensor layout: auto, nchw or channels-last (auto = channels-last when computing "
                  "in bf16 on the CPU)")
      ->capture_default_str();
  cmd->add_option("--pool", args->pool, "VGG pooling: max or avg")->capture_default_str();
  cmd->add_option("--lr", o.learning_rate, "Learning rate (0 = L-BFGS 1, Adam 0.02)")
      ->capture_default_str();
  cmd->add_option("--lbfgs-history", o.lbfgs_history, "L-BFGS memory")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed (noise init)")->capture_default_str();
  cmd->add_option("--preview", args->preview, "Write an intermediate image to this file");
  cmd->add_option("--preview-every", o.preview_every,
                  "Preview interval in evaluations (default 20 with --preview)");
  cmd->add_option("--vgg", args->vgg,
                  "VGG weights (.safetensors; default $PASTICHE_VGG or the "
                  "models directory)");
  // Options shared with the fast path.
  cmd->add_flag("--original-colors,--original-colours", o.original_colors,
                "Keep the photo's colours (luminance-only transfer)");
  cmd->add_option("--blend", o.blend, "Blend with the original: 1 = stylised only, 0 = original")
      ->capture_default_str();
  cmd->add_option("--style-mix", args->style_mix,
                  "Multi-style fast models: name=weight,... (default: first style)");
  cmd->add_option("--tile", args->fast.tile, "Fast path: tile side for huge images (0 = auto)");
  cmd->add_option("--threads", args->threads, "CPU threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--device", args->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON object with the result on stdout");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args, cmd] {
    const bool folder = std::filesystem::is_directory(args->content);
    if (folder && args->model.empty())
      throw InputError(
          "a folder of photos needs --model (fast network); stylise one image at a "
          "time with --style");
    if (!folder) require_writable_image_path(args->output);
    configure_threads(args->threads);
    if (!args->model.empty()) {
      args->fast.size = cmd->count("--size") ? args->gatys.size : 0;
      args->fast.original_colors = args->gatys.original_colors;
      args->fast.blend = args->gatys.blend;
      run_fast(*args);
    } else if (!args->styles.empty()) {
      run_gatys(*args);
    } else {
      throw InputError("give --style STYLE (optimisation) or --model NAME (fast network)");
    }
  });
});

}  // namespace
}  // namespace pastiche::cli
