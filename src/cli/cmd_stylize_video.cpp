// `pastiche stylize-video IN.mp4 (--model NAME | --style PAINTING --method arbitrary) -o OUT.mp4`:
// every frame through a fast network or painted with any painting in one pass, keeping frame rate
// and size.
#include <filesystem>
#include <iostream>

#include "arbitrary/arbitrary_stylizer.h"
#include "cli/catalog_cli.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "common/error.h"
#include "common/runtime.h"
#include "video/paint_video.h"

namespace pastiche::cli {
namespace {

struct VideoArgs {
  explicit VideoArgs(CLI::App* command) : catalog(command, option_use::video) {}
  std::string input, output, model;
  std::vector<std::string> styles;  // --method arbitrary
  std::string method, arbitrary_model, vgg;
  VideoOptions options;
  CatalogOptions catalog;  // every VideoOptions setting, from video_option_catalog()
  ComputeArgs compute;
  bool json = false;
  bool quiet = false;
};

void run_stylize_video(VideoArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  args.catalog.apply(video_option_catalog(), args.options);
  args.options.validate();
  const int threads = configure_threads(args.compute.threads);
  ProgressBar bar("stylize-video", !args.quiet);
  auto on_frames = [&](int done, int total) {
    bar.update(done, total > 0 ? total : done + 1, std::to_string(done) + " frames");
  };
  // The flicker measure needs the optical flow, which smooth = 0 would not compute otherwise.
  const bool measure = args.json || args.options.smooth > 0;
  const bool arbitrary = args.method == "arbitrary";
  if (arbitrary != args.model.empty() || arbitrary == args.styles.empty())
    throw InputError("give --model NAME (fast), or --style PAINTING with --method arbitrary");
  std::unique_ptr<FastStylizer> fast;
  std::unique_ptr<ArbitraryStylizer> instant;
  VideoResult result;
  std::string model_name;
  if (arbitrary) {
    const auto& f = args.options.frame;
    if (f.stroke_scale != 1 || f.tile != 0 || !f.style_mix.empty())
      throw InputError("--stroke-scale, --tile and --style-mix apply to --model (fast) only");
    ArbitraryOptions o;
    o.size = f.size;
    o.strength = f.strength;
    o.original_colors = f.original_colors;
    o.blend = f.blend;
    o.validate();
    const std::string model =
        args.arbitrary_model.empty() ? default_arbitrary_model_path() : args.arbitrary_model;
    if (model.empty())
      throw NotFoundError(
          "no arbitrary-style model: give --arbitrary-model FILE or set "
          "PASTICHE_ARBITRARY_MODEL");
    instant = std::make_unique<ArbitraryStylizer>(model, resolve_vgg_path(args.vgg),
                                                  select_device(args.compute.device));
    std::vector<StyleHandle> styles;
    for (const auto& path : args.styles)
      styles.push_back(instant->style_from_file(path, o.style_size));
    model_name = model;
    result = paint_video([&](const cv::Mat& frame) { return instant->stylize(frame, styles, o); },
                         args.input, args.output, args.options, on_frames, nullptr, measure);
  } else {
    fast = std::make_unique<FastStylizer>(resolve_fast_model(args.model, default_model_dirs()),
                                          select_device(args.compute.device));
    model_name = fast->info().name;
    result =
        stylize_video(*fast, args.input, args.output, args.options, on_frames, nullptr, measure);
  }
  bar.finish(std::to_string(result.frames) + " frames");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.json) {
    print_json(
        {{"output", std::filesystem::absolute(args.output).string()},
         {"model", model_name},
         {"frames", result.frames},
         {"fps", result.fps},
         {"width", result.width},
         {"height", result.height},
         {"codec", result.codec},
         {"audio", result.audio.empty() ? nlohmann::json(nullptr) : nlohmann::json(result.audio)},
         {"rotation", result.rotation},
         {"duration", result.duration},
         {"smooth", args.options.smooth},
         {"warping_error", result.warping_error},
         {"frames_per_second", result.frames_per_second},
         {"seconds", seconds},
         {"threads", threads},
         {"peak_rss_mb", static_cast<double>(peak_rss_bytes()) / (1024.0 * 1024.0)}});
  } else if (!args.quiet) {
    std::cerr << "wrote " << args.output << " (" << result.frames << " frames " << result.width
              << "x" << result.height << " at " << result.fps << " fps, "
              << format_duration(seconds) << ", " << result.frames_per_second << " frames/s, "
              << (result.audio.empty() ? "no sound" : "sound " + result.audio) << ")\n";
  }
}

const bool stylize_video_registered = register_command(30, [](CLI::App& app) {
  auto* cmd =
      app.add_subcommand("stylize-video", "Stylise a video with a fast model or any painting");
  auto args = std::make_shared<VideoArgs>(cmd);
  cmd->add_option("input", args->input, "Input video (any format FFmpeg reads)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->output,
                  "Output video: .mp4/.mov/.mkv (H.264), .webm (VP9) or .avi (MJPEG)")
      ->required();
  cmd->add_option("-m,--model", args->model, "Fast model name or file");
  cmd->add_option("-s,--style", args->styles, "Painting(s) for --method arbitrary");
  cmd->add_option("--method", args->method, "fast (with --model) or arbitrary (with --style)")
      ->check(CLI::IsMember({"fast", "arbitrary"}));
  cmd->add_option("--arbitrary-model", args->arbitrary_model,
                  "Decoder of --method arbitrary (default: models/arbitrary/relu3_1.safetensors)");
  cmd->add_option("--vgg", args->vgg, "VGG weights of --method arbitrary (default: found)");
  args->catalog.declare(video_option_catalog(), args->options);
  add_compute_flags(cmd, args->compute);
  cmd->add_flag("--json", args->json, "Print one JSON object with the result on stdout");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args] { run_stylize_video(*args); });
});

}  // namespace
}  // namespace pastiche::cli
