// `pastiche stylize CONTENT (--style STYLE... [--method arbitrary] | --model NAME) -o OUT`: one
// image by optimisation (Gatys), through a trained fast network, or with any painting in one pass
// (arbitrary: the relu3_1 decoder of src/arbitrary/).
#include <filesystem>
#include <iostream>

#include "arbitrary/arbitrary_stylizer.h"
#include "cli/catalog_cli.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "common/error.h"
#include "common/runtime.h"
#include "fast/fast_stylizer.h"
#include "gatys/gatys_engine.h"
#include "image/image_io.h"
#include "perceptual/layers.h"

namespace pastiche::cli {
namespace {

struct StylizeArgs {
  explicit StylizeArgs(CLI::App* command) : options(command, option_use::stylize) {}
  std::string content;
  std::vector<std::string> styles;
  std::string model;
  std::string method;           // gatys, fast, arbitrary; empty = from --style / --model
  std::string arbitrary_model;  // empty = default_arbitrary_model_path()
  std::string output;
  std::string vgg;
  std::string preview;
  std::string init_image;  // Gatys: start from this picture (init image)
  ComputeArgs compute;
  bool json = false;
  bool quiet = false;
  CatalogOptions options;  // every GatysOptions / FastOptions setting, from the catalogues
  GatysOptions gatys;
  FastOptions fast;
  ArbitraryOptions arbitrary;
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
  args.options.require_declared_by(gatys_option_catalog(),
                                   "applies to --model (fast) or --method arbitrary only");
  if (!args.init_image.empty()) o.init = InitKind::image;  // unless --init says otherwise
  args.options.apply(gatys_option_catalog(), o);
  if (!args.preview.empty() && o.preview_every == 0) o.preview_every = 20;
  o.validate();
  if (!o.style_blend.empty() && o.style_blend.size() != args.styles.size())
    throw InputError("style-blend: needs one weight per --style (" +
                     std::to_string(args.styles.size()) + " styles)");

  // Load everything before the long part so that bad input fails in a second.
  const cv::Mat content = load_image(args.content);
  std::vector<cv::Mat> styles;
  for (const auto& path : args.styles) styles.push_back(load_image(path));
  const cv::Mat init = args.init_image.empty() ? cv::Mat() : load_image(args.init_image);
  const auto device = select_device(args.compute.device);
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
  const auto result = engine.run(content, styles, o, callbacks, init);
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
    j["level_evaluations"] = result.level_evaluations;
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
  args.options.require_declared_by(fast_option_catalog(),
                                   "applies to --style (Gatys or --method arbitrary) only");
  args.options.apply(fast_option_catalog(), args.fast);
  args.fast.validate();
  FastStylizer stylizer(resolve_fast_model(args.model, default_model_dirs()),
                        select_device(args.compute.device));
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
    j["precision"] = stylizer.used_int8() ? "int8" : stylizer.format().precision_name();
    j["layout"] = stylizer.format().layout_name();
    print_json(j);
  } else if (!args.quiet) {
    std::cerr << "wrote " << args.output << " (" << output.cols << "x" << output.rows << ", "
              << format_duration(seconds) << ")\n";
  }
}

void run_arbitrary(StylizeArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  auto& o = args.arbitrary;
  args.options.require_declared_by(arbitrary_option_catalog(),
                                   "applies to the other methods, not --method arbitrary");
  args.options.apply(arbitrary_option_catalog(), o);
  o.validate();
  if (!o.style_blend.empty() && o.style_blend.size() != args.styles.size())
    throw InputError("style-blend: needs one weight per --style (" +
                     std::to_string(args.styles.size()) + " styles)");
  const std::string model =
      args.arbitrary_model.empty() ? default_arbitrary_model_path() : args.arbitrary_model;
  if (model.empty())
    throw NotFoundError(
        "no arbitrary-style model: give --arbitrary-model FILE or set PASTICHE_ARBITRARY_MODEL "
        "(the repository ships models/arbitrary/relu3_1.safetensors; pastiche train-arbitrary "
        "makes one)");
  const cv::Mat content = load_image(args.content);
  ArbitraryStylizer stylizer(model, resolve_vgg_path(args.vgg), select_device(args.compute.device));
  std::vector<StyleHandle> styles;
  for (const auto& path : args.styles)
    styles.push_back(stylizer.style_from_file(path, o.style_size));
  ProgressBar bar("stylize", !args.quiet);
  const cv::Mat output =
      stylizer.stylize(content, styles, o, [&](int done, int total) { bar.update(done, total); });
  bar.finish();
  save_image(output, args.output);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.json) {
    auto j = common_json(args, output, seconds);
    j["method"] = "arbitrary";
    j["model"] = stylizer.model_path();
    j["levels"] = o.levels.empty() ? stylizer.levels() : o.levels;
    j["precision"] = stylizer.format().precision_name();
    j["layout"] = stylizer.format().layout_name();
    print_json(j);
  } else if (!args.quiet) {
    std::cerr << "wrote " << args.output << " (" << output.cols << "x" << output.rows << ", "
              << format_duration(seconds) << ")\n";
  }
}

const bool stylize_registered = register_command(10, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("stylize", "Paint a photo in the style of one or more paintings");
  auto args = std::make_shared<StylizeArgs>(cmd);
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
  cmd->add_option("--method", args->method,
                  "gatys (optimisation, best quality), arbitrary (any painting in one pass) or "
                  "fast (with --model); default: gatys with --style, fast with --model")
      ->check(CLI::IsMember({"gatys", "fast", "arbitrary"}));
  cmd->add_option("--arbitrary-model", args->arbitrary_model,
                  "Decoder of --method arbitrary (default $PASTICHE_ARBITRARY_MODEL or "
                  "models/arbitrary/relu3_1.safetensors)");
  args->options.declare(gatys_option_catalog(), args->gatys);
  args->options.declare(fast_option_catalog(), args->fast);
  args->options.declare(arbitrary_option_catalog(), args->arbitrary);
  cmd->add_option("--preview", args->preview, "Write an intermediate image to this file");
  cmd->add_option("--init-image", args->init_image,
                  "Gatys: start the optimisation from this picture, e.g. a --method arbitrary "
                  "or --model result to refine (sets --init image)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--vgg", args->vgg,
                  "VGG weights (.safetensors; default $PASTICHE_VGG or the "
                  "models directory)");
  add_compute_flags(cmd, args->compute);
  cmd->add_flag("--json", args->json, "Print one JSON object with the result on stdout");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args] {
    const bool folder = std::filesystem::is_directory(args->content);
    if (folder && args->model.empty())  // (Gatys and arbitrary: one photo at a time)
      throw InputError(
          "a folder of photos needs --model (fast network); stylise one image at a "
          "time with --style");
    if (!folder) require_writable_image_path(args->output);
    configure_threads(args->compute.threads);
    const auto& method = args->method;
    if (method == "fast" && args->model.empty())
      throw InputError("--method fast needs --model NAME (a trained network)");
    if ((method == "gatys" || method == "arbitrary") && args->styles.empty())
      throw InputError("--method " + method + " needs --style PAINTING");
    if (!args->init_image.empty() && (!args->model.empty() || method == "arbitrary"))
      throw InputError(
          "--init-image: the optimisation (Gatys) starts from a picture; fast and "
          "arbitrary transfer have no starting point");
    if (!args->model.empty()) {
      run_fast(*args);
    } else if (method == "arbitrary") {
      run_arbitrary(*args);
    } else if (!args->styles.empty()) {
      run_gatys(*args);
    } else {
      throw InputError("give --style STYLE (optimisation) or --model NAME (fast network)");
    }
  });
});

}  // namespace
}  // namespace pastiche::cli
