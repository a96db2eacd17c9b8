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
#include "image/region_mask.h"
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
  // Only part of the picture painted (image/region_mask.h): a mask file or a box around the
  // subject.
  std::string mask, subject;
  std::string other_model, other_style;  // the rest painted too, in a second style
  bool invert_mask = false;
  int feather = 8;
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

// The part to paint (CV_32F, 1 = painted), or an empty matrix for all of it. Made before the
// long part, so a bad mask fails in a second.
cv::Mat region_of(const StylizeArgs& args, const cv::Mat& content) {
  if (!args.mask.empty() && !args.subject.empty())
    throw InputError("give --mask or --subject, not both");
  if (args.feather < 0 || args.feather > 256) throw InputError("feather: must be 0-256 px");
  cv::Mat mask;
  if (!args.mask.empty())
    mask = load_region_mask(args.mask, content.size());
  else if (!args.subject.empty())
    mask = subject_mask(content, parse_subject_box(args.subject, content.size()));
  else if (args.invert_mask || !args.other_model.empty() || !args.other_style.empty())
    throw InputError("--invert-mask, --other-model and --other-style need --mask or --subject");
  if (!mask.empty() && args.invert_mask) mask = 1.0 - mask;
  return mask;
}

// `painted` inside the region; outside it the photo, or `rest` (the second style) when given.
cv::Mat paint_region(const cv::Mat& painted, const cv::Mat& content, const cv::Mat& region,
                     const StylizeArgs& args, const cv::Mat& rest = {}) {
  if (region.empty()) return painted;
  return composite_regions(painted, rest.empty() ? content : rest, region, args.feather);
}

void add_region_json(nlohmann::json& j, const StylizeArgs& args, const cv::Mat& region) {
  if (region.empty()) return;
  const std::string rest = !args.other_model.empty()   ? args.other_model
                           : !args.other_style.empty() ? args.other_style
                                                       : "photo";
  j["region"] = {{"from", args.mask.empty() ? "subject" : "mask"},
                 {"rest", rest},
                 {"inverted", args.invert_mask},
                 {"feather", args.feather},
                 {"painted_fraction", cv::mean(region)[0]}};
}

void run_gatys(StylizeArgs& args) {
  auto& o = args.gatys;
  args.options.require_declared_by(gatys_option_catalog(),
                                   "applies to --model (fast) or --method arbitrary only");
  if (!args.other_model.empty() || !args.other_style.empty())
    throw InputError(
        "a second style for the rest of the picture needs --model (with --other-model) or "
        "--method arbitrary (with --other-style)");
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
  const cv::Mat region = region_of(args, content);
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
  save_image(paint_region(result.image, content, region, args), args.output);

  if (args.json) {
    auto j = common_json(args, result.image, result.seconds);
    add_region_json(j, args, region);
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
    if (!args.mask.empty() || !args.subject.empty())
      throw InputError("--mask and --subject apply to one photo, not a folder");
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
  const cv::Mat region = region_of(args, content);
  if (!args.other_style.empty()) throw InputError("--other-style goes with --method arbitrary");
  cv::Mat rest;
  if (!args.other_model.empty()) {
    FastStylizer other(resolve_fast_model(args.other_model, default_model_dirs()),
                       select_device(args.compute.device));
    rest = other.stylize(content, args.fast);
  }
  const cv::Mat output = paint_region(
      stylizer.stylize(content, args.fast, [&](int done, int total) { bar.update(done, total); }),
      content, region, args, rest);
  bar.finish();
  save_image(output, args.output);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.json) {
    auto j = common_json(args, output, seconds);
    j["method"] = "fast";
    add_region_json(j, args, region);
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
  const cv::Mat region = region_of(args, content);
  ArbitraryStylizer stylizer(model, resolve_vgg_path(args.vgg), select_device(args.compute.device));
  std::vector<StyleHandle> styles;
  for (const auto& path : args.styles)
    styles.push_back(stylizer.style_from_file(path, o.style_size));
  if (!args.other_model.empty()) throw InputError("--other-model goes with --model (fast)");
  cv::Mat rest;
  if (!args.other_style.empty()) {
    ArbitraryOptions whole = o;
    whole.style_blend.clear();
    rest = stylizer.stylize(content, {stylizer.style_from_file(args.other_style, o.style_size)},
                            whole);
  }
  ProgressBar bar("stylize", !args.quiet);
  const cv::Mat output = paint_region(
      stylizer.stylize(content, styles, o, [&](int done, int total) { bar.update(done, total); }),
      content, region, args, rest);
  bar.finish();
  save_image(output, args.output);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.json) {
    auto j = common_json(args, output, seconds);
    j["method"] = "arbitrary";
    add_region_json(j, args, region);
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
  cmd->add_option("--mask", args->mask,
                  "Paint only where this image is white (black keeps the photo; grey mixes)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--subject", args->subject,
                  "Paint only the subject inside this box X,Y,WIDTH,HEIGHT (px of the photo; "
                  "found by GrabCut); with --invert-mask, only the background");
  cmd->add_option("--other-model", args->other_model,
                  "Paint the rest of the picture (outside --mask/--subject) with this fast model");
  cmd->add_option("--other-style", args->other_style,
                  "Paint the rest with this painting (--method arbitrary)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--invert-mask", args->invert_mask,
                "Paint the other part: where --mask is black, or around --subject");
  cmd->add_option("--feather", args->feather, "Soft edge of the painted part, px")->default_val(8);
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
