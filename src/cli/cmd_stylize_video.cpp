// `pastiche stylize-video IN.mp4 --model NAME -o OUT.mp4`: every frame through a fast network,
// keeping frame rate and size.
#include <filesystem>
#include <iostream>

#include "cli/catalog_cli.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "common/error.h"
#include "common/runtime.h"
#include "fast/video.h"

namespace pastiche::cli {
namespace {

struct VideoArgs {
  explicit VideoArgs(CLI::App* command) : catalog(command, option_use::video) {}
  std::string input, output, model;
  VideoOptions options;
  CatalogOptions catalog;  // every VideoOptions setting, from video_option_catalog()
  ComputeArgs compute;
  bool json = false;
  bool quiet = false;
};

void run(VideoArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  args.catalog.apply(video_option_catalog(), args.options);
  args.options.validate();
  const int threads = configure_threads(args.compute.threads);
  FastStylizer stylizer(resolve_fast_model(args.model, default_model_dirs()),
                        select_device(args.compute.device));
  ProgressBar bar("stylize-video", !args.quiet);
  const auto result =
      stylize_video(stylizer, args.input, args.output, args.options, [&](int done, int total) {
        bar.update(done, total > 0 ? total : done + 1, std::to_string(done) + " frames");
      });
  bar.finish(std::to_string(result.frames) + " frames");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.json) {
    print_json({{"output", std::filesystem::absolute(args.output).string()},
                {"model", stylizer.info().name},
                {"frames", result.frames},
                {"fps", result.fps},
                {"width", result.width},
                {"height", result.height},
                {"codec", result.codec},
                {"frames_per_second", result.frames_per_second},
                {"seconds", seconds},
                {"threads", threads},
                {"peak_rss_mb", static_cast<double>(peak_rss_bytes()) / (1024.0 * 1024.0)}});
  } else if (!args.quiet) {
    std::cerr << "wrote " << args.output << " (" << result.frames << " frames " << result.width
              << "x" << result.height << " at " << result.fps << " fps, "
              << format_duration(seconds) << ", " << result.frames_per_second << " frames/s)\n";
  }
}

const bool registered = register_command(30, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("stylize-video", "Stylise a video with a fast model");
  auto args = std::make_shared<VideoArgs>(cmd);
  cmd->add_option("input", args->input, "Input video (any format OpenCV reads)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->output, "Output video (.mp4 or .avi)")->required();
  cmd->add_option("-m,--model", args->model, "Fast model name or file")->required();
  args->catalog.declare(video_option_catalog(), args->options);
  add_compute_flags(cmd, args->compute);
  cmd->add_flag("--json", args->json, "Print one JSON object with the result on stdout");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace pastiche::cli
