// `pastiche stylize-video IN.mp4 --model NAME -o OUT.mp4`: every frame through a fast network,
// keeping frame rate and size.
#include <filesystem>
#include <iostream>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "common/error.h"
#include "common/runtime.h"
#include "fast/video.h"

namespace pastiche::cli {
namespace {

struct VideoArgs {
  std::string input, output, model, style_mix;
  std::string device = "auto";
  VideoOptions options;
  int threads = 0;
  bool json = false;
  bool quiet = false;
};

void run(VideoArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  for (const auto& item : split_list(args.style_mix)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      throw InputError("style-mix: expected name=weight pairs, got '" + item + "'");
    args.options.frame.style_mix[item.substr(0, eq)] =
        parse_numbers(item.substr(eq + 1), "style-mix").at(0);
  }
  args.options.validate();
  const int threads = configure_threads(args.threads);
  FastStylizer stylizer(resolve_fast_model(args.model, default_model_dirs()),
                        select_device(args.device));
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
  auto args = std::make_shared<VideoArgs>();
  auto& o = args->options;
  auto* cmd = app.add_subcommand("stylize-video", "Stylise a video with a fast model");
  cmd->add_option("input", args->input, "Input video (any format OpenCV reads)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->output, "Output video (.mp4 or .avi)")->required();
  cmd->add_option("-m,--model", args->model, "Fast model name or file")->required();
  cmd->add_option("--size", o.frame.size,
                  "Process frames at this longest side, px, then scale back (0 = native)")
      ->capture_default_str();
  cmd->add_option("--smooth", o.smooth,
                  "Temporal smoothing 0..1: blend each frame with the previous output to "
                  "reduce flicker")
      ->capture_default_str();
  cmd->add_option("--style-mix", args->style_mix, "Multi-style models: name=weight,...");
  cmd->add_flag("--original-colors,--original-colours", o.frame.original_colors,
                "Keep the video's colours");
  cmd->add_option("--blend", o.frame.blend, "Blend with the original: 1 = stylised only")
      ->capture_default_str();
  cmd->add_option("--codec", o.codec, "FourCC (default: mp4v for .mp4, MJPG for .avi)");
  cmd->add_option("--max-frames", o.max_frames, "Stop after N frames (0 = all)")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--device", args->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON object with the result on stdout");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace pastiche::cli
