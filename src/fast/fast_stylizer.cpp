#include "fast/fast_stylizer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "common/error.h"
#include "common/resources.h"
#include "fast/int8_conv.h"
#include "fast/model_file.h"
#include "fast/stroke_scale.h"
#include "fast/tiled.h"
#include "image/image_io.h"
#include "image/postprocess.h"

namespace pastiche {

namespace fs = std::filesystem;

FastStylizer::FastStylizer(const std::string& model_path, torch::Device device, Precision precision,
                           MemoryLayout layout)
    : model_(std::make_unique<FastModel>(load_fast_model(model_path))),
      device_(device),
      info_(read_fast_model_info(model_path)),
      format_(resolve_compute_format(precision, layout, device)) {
  auto& net = model_->net();
  net->to(device_);
  prepare_for_inference(net, format_);
}

FastStylizer::~FastStylizer() = default;

const FastModelInfo& FastStylizer::info() const {
  return info_;
}

bool FastStylizer::uses_int8(const FastOptions& options, int64_t longest_side) const {
  switch (options.int8) {
    case Int8Use::off:
      return false;
    case Int8Use::on:
      if (!device_.is_cpu()) throw InputError("int8: runs on the CPU only (use --device cpu)");
      if (!int8_convolution_error().empty())
        throw InputError("int8: convolutions do not run in int8 here (" + int8_convolution_error() +
                         ")");
      return true;
    case Int8Use::automatic:
      break;
  }
  return int8_by_default(format_, device_, longest_side);
}

cv::Mat FastStylizer::stylize(const cv::Mat& content_bgr, const FastOptions& options,
                              const std::function<void(int, int)>& progress,
                              const std::atomic<bool>* cancel) {
  options.validate();
  if (content_bgr.empty() || content_bgr.type() != CV_8UC3)
    throw InputError("content image must be a non-empty 8-bit colour image");
  const cv::Mat input = options.size > 0 ? resize_longest(content_bgr, options.size) : content_bgr;
  // Strength in feature space when the model has a neutral style, else as a blend (below).
  const bool true_strength = model_->meta().neutral_index() >= 0;
  const double strength = options.strength;
  if (cancel && cancel->load()) throw Cancelled();

  c10::InferenceMode inference;
  auto& net = model_->net();
  used_int8_ = false;
  bool reported = false;  // by a tiled pass; else the end is reported as one step
  const std::function<void(int, int)> report = [&](int done, int total) {
    reported = true;
    if (progress) progress(done, total);
  };
  // The painting of the whole picture with `style` (one pass per size: tiled when the picture is
  // that large, progress reporting its tiles; whole otherwise).
  auto paint_with = [&](const torch::Tensor& style) {
    return paint_at_stroke_scale(input, options.stroke_scale, [&](const cv::Mat& image) {
      net->set_int8(uses_int8(options, std::max(image.cols, image.rows)));
      used_int8_ = used_int8_ || net->int8();
      const int64_t pixels = static_cast<int64_t>(image.cols) * image.rows;
      const bool tiled = options.tile > 0 ? std::max(image.cols, image.rows) > options.tile
                                          : pixels > kUntiledMaxPixels;
      if (!tiled) return run_network(net, image, style, format_);
      TileSettings settings;
      if (options.tile > 0) settings.tile = options.tile;
      spdlog::debug("tiled inference: {}x{} in tiles of {} px", image.cols, image.rows,
                    settings.tile);
      return run_network_tiled(net, image, style, settings, format_, report, cancel);
    });
  };
  const bool one_style_pass = strength >= 1 || !true_strength;
  net->keep_int8_calibration(keep_int8_calibration_ && one_style_pass && !new_clip_);
  new_clip_ = false;
  cv::Mat out;
  if (strength <= 0) {
    out = input.clone();
  } else if (strength >= 1 || !true_strength) {
    out = paint_with(model_->style_weights(options.style_mix).to(device_));
    if (strength < 1) out = blend_with_original(out, input, strength);
  } else {
    // The styles' norm parameters mixed with the neutral ones: weaker strokes and palette, not a
    // ghost of the photo over the painting. The neutral pass is not quite the photo (its colours
    // drift), so what it misses comes back in proportion: strength 0 is exactly the photo.
    const auto painted = paint_with(model_->style_weights(options.style_mix, strength).to(device_));
    const auto plain = paint_with(model_->style_weights(options.style_mix, 0.0).to(device_));
    out = add_residual(painted, input, plain, 1.0 - strength);
  }
  if (cancel && cancel->load()) throw Cancelled();
  if (progress && !reported) progress(1, 1);
  if (options.original_colors) out = preserve_original_colors(out, input);
  if (options.blend < 1.0) out = blend_with_original(out, input, options.blend);
  return out;
}

namespace {

bool is_folder_image(const fs::path& p) {
  auto ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  static const std::set<std::string> kExtensions = {".jpg", ".jpeg", ".png", ".webp",
                                                    ".bmp", ".tif",  ".tiff"};
  return kExtensions.count(ext) > 0;
}

std::string output_extension(const fs::path& input, const std::string& forced) {
  if (!forced.empty()) return forced[0] == '.' ? forced : "." + forced;
  auto ext = input.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp") return ext;
  return ".png";
}

}  // namespace

FolderResult stylize_folder(FastStylizer& stylizer, const std::string& input_dir,
                            const std::string& output_dir, const FastOptions& options,
                            const std::function<void(int, int, const std::string&)>& progress,
                            const std::atomic<bool>* cancel, const std::string& extension) {
  options.validate();
  if (!fs::is_directory(input_dir))
    throw InputError("input folder '" + input_dir + "' does not exist or is not a folder");
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(input_dir)) {
    if (entry.is_regular_file() && is_folder_image(entry.path())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw InputError("no images (.jpg, .png, .webp, ...) in '" + input_dir + "'");
  const auto start = std::chrono::steady_clock::now();
  FolderResult result;
  const int total = static_cast<int>(files.size());
  for (int i = 0; i < total; ++i) {
    if (cancel && cancel->load()) throw Cancelled();
    const auto& file = files[static_cast<size_t>(i)];
    if (progress) progress(i, total, file.string());
    auto relative = fs::relative(file, input_dir);
    auto out = fs::path(output_dir) / relative;
    out.replace_extension(output_extension(file, extension));
    try {
      fs::create_directories(out.parent_path());
      save_image(stylizer.stylize(load_image(file.string()), options, {}, cancel), out.string());
      result.outputs.push_back(out.string());
      ++result.processed;
    } catch (const InputError& e) {
      result.failures.emplace_back(file.string(), e.what());
      spdlog::warn("skipped {}: {}", file.string(), e.what());
    }
  }
  if (progress) progress(total, total, "");
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::vector<std::string> default_model_dirs() {
  return model_search_dirs();
}

std::vector<FastModelInfo> list_fast_models(const std::vector<std::string>& dirs) {
  std::vector<FastModelInfo> models;
  std::set<std::string> seen;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".safetensors")
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (seen.count(file.stem().string())) continue;
      try {
        models.push_back(read_fast_model_info(file.string()));
        seen.insert(file.stem().string());
      } catch (const std::exception& e) {
        spdlog::debug("not a fast model: {} ({})", file.string(), e.what());
      }
    }
  }
  return models;
}

std::string resolve_fast_model(const std::string& name_or_path,
                               const std::vector<std::string>& dirs) {
  std::error_code ec;
  if (fs::is_regular_file(name_or_path, ec)) return name_or_path;
  const auto models = list_fast_models(dirs);
  std::string names;
  for (const auto& m : models) {
    if (m.name == name_or_path) return m.path;
    names += (names.empty() ? "" : ", ") + m.name;
  }
  std::string searched;
  for (const auto& d : dirs) searched += (searched.empty() ? "" : ", ") + d;
  throw NotFoundError("model '" + name_or_path + "' not found (available: " +
                      (names.empty() ? std::string("none") : names) + "; searched " + searched +
                      "); give a model file path or set PASTICHE_MODELS_DIR");
}

}  // namespace pastiche
