#include "arbitrary/arbitrary_stylizer.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "fast/tiled.h"
#include "image/image_io.h"
#include "image/postprocess.h"
#include "image/tensor_convert.h"

namespace pastiche {

namespace fs = std::filesystem;

namespace {

constexpr size_t kStyleCacheSize = 32;

// Core tiles along one axis: [start, end) pairs of about `tile` px, multiples of the stride.
std::vector<std::pair<int, int>> tile_cores(int length, int tile) {
  std::vector<std::pair<int, int>> cores;
  for (int start = 0; start < length; start += tile)
    cores.emplace_back(start, std::min(length, start + tile));
  return cores;
}

}  // namespace

ArbitraryStylizer::ArbitraryStylizer(const std::string& model_path, const std::string& vgg_path,
                                     torch::Device device, Precision precision, MemoryLayout layout)
    : ArbitraryStylizer(model_path, Vgg(vgg_path), device, precision, layout) {}

ArbitraryStylizer::ArbitraryStylizer(const std::string& model_path, Vgg vgg, torch::Device device,
                                     Precision precision, MemoryLayout layout)
    : model_path_(model_path),
      levels_(load_arbitrary_cascade(model_path)),
      vgg_(std::move(vgg)),
      device_(device),
      format_(resolve_compute_format(precision, layout, device)) {
  std::vector<std::string> layers;
  for (const auto& level : levels_) {
    check_encoder(level.model, vgg_, level.path);
    layers.push_back(level.layer());
  }
  vgg_->check_layers(layers);
  torch::NoGradGuard no_grad;
  vgg_->to(device_);
  vgg_->eval();
  // Parameters cast to the compute format once, not in every forward pass.
  for (auto& level : levels_) {
    auto& decoder = level.model.decoder;
    decoder->eval();
    decoder->to(device_, format_.dtype);
    if (format_.channels_last) {
      for (auto& p : decoder->parameters())
        if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
}

std::vector<std::string> ArbitraryStylizer::levels() const {
  std::vector<std::string> layers;
  for (const auto& level : levels_) layers.push_back(level.layer());
  return layers;
}

torch::Tensor ArbitraryStylizer::encode(const torch::Tensor& rgb, const std::string& layer) {
  const auto x = rgb.to(device_).contiguous(format_.memory_format());
  return vgg_->forward(x, {layer}, format_.dtype).at(layer);
}

StyleHandle ArbitraryStylizer::style(const std::string& key, const cv::Mat& painting_bgr,
                                     int style_size) {
  const std::string full_key = key + "@" + std::to_string(style_size);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->first != full_key) continue;
      cache_.splice(cache_.begin(), cache_, it);
      return it->second;
    }
  }
  torch::NoGradGuard no_grad;
  const auto x = image_to_tensor(resize_longest(painting_bgr, style_size))
                     .to(device_)
                     .contiguous(format_.memory_format());
  const auto features = vgg_->forward(x, levels(), format_.dtype);
  auto stats = std::make_shared<PaintingStatistics>();
  for (const auto& [layer, f] : features) {
    FeatureMoments moments;
    moments.add(f);
    stats->layers[layer] = style_statistics(moments);
  }
  ++computed_;
  std::lock_guard<std::mutex> lock(cache_mutex_);
  cache_.emplace_front(full_key, stats);
  if (cache_.size() > kStyleCacheSize) cache_.pop_back();
  return stats;
}

StyleHandle ArbitraryStylizer::style_from_file(const std::string& path, int style_size) {
  std::error_code ec;
  const auto stamp = fs::last_write_time(path, ec).time_since_epoch().count();
  const std::string key = fs::absolute(path).string() + "#" + std::to_string(stamp);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    for (const auto& [k, v] : cache_)
      if (k == key + "@" + std::to_string(style_size)) return v;
  }
  return style(key, load_image(path), style_size);
}

std::vector<ArbitraryLevel*> ArbitraryStylizer::chosen(const std::vector<std::string>& asked) {
  std::vector<ArbitraryLevel*> out;
  for (const auto& name : asked) {
    if (std::none_of(levels_.begin(), levels_.end(),
                     [&](const ArbitraryLevel& l) { return l.layer() == name; })) {
      std::string have;
      for (const auto& layer : levels()) have += (have.empty() ? "" : ", ") + layer;
      throw InputError("levels: there is no " + name + " decoder in '" + model_path_ +
                       "' (it has " + have + ")");
    }
  }
  for (auto& level : levels_) {
    if (asked.empty() || std::find(asked.begin(), asked.end(), level.layer()) != asked.end())
      out.push_back(&level);
  }
  return out;
}

torch::Tensor ArbitraryStylizer::run_level(const torch::Tensor& rgb, ArbitraryLevel& level,
                                           const Weighted& styles, double strength, int tile,
                                           const std::function<void()>& tick,
                                           const std::atomic<bool>* cancel) {
  const auto& layer = level.layer();
  std::vector<std::pair<const StyleStatistics*, double>> at_layer;
  for (const auto& [painting, weight] : styles)
    at_layer.emplace_back(&painting->layers.at(layer), weight);
  // The transform is linear, so it also produces negative values where the encoder's ReLU never
  // does; the decoders were trained on ReLU outputs only and extrapolate those into colours far
  // outside the picture (a relu1_1 level turned The Starry Night into purple and green).
  auto decode = [&](const torch::Tensor& f) {
    return level.model.decoder->forward(format_.apply(f.clamp_min(0))).to(torch::kFloat).cpu();
  };
  const int h = static_cast<int>(rgb.size(2)), w = static_cast<int>(rgb.size(3));
  if (tile <= 0) {
    if (cancel && cancel->load()) throw Cancelled();
    const auto f = encode(rgb, layer);
    FeatureMoments moments;
    moments.add(f);
    const auto y = decode(wct_transform(moments, at_layer, strength).apply(f));
    tick();
    return y;
  }
  // Two passes over tiles that read kArbitraryTileHalo px of context: the first sums the whole
  // picture's feature moments, the second transforms with them and decodes each tile's core.
  const auto rows = tile_cores(h, tile), cols = tile_cores(w, tile);
  struct Window {
    int y0, y1, x0, x1;      // the tile's core, px
    int ey0, ey1, ex0, ex1;  // with its context
  };
  std::vector<Window> windows;
  for (const auto& [y0, y1] : rows) {
    for (const auto& [x0, x1] : cols) {
      windows.push_back({y0, y1, x0, x1, std::max(0, y0 - kArbitraryTileHalo),
                         std::min(h, y1 + kArbitraryTileHalo), std::max(0, x0 - kArbitraryTileHalo),
                         std::min(w, x1 + kArbitraryTileHalo)});
    }
  }
  auto encode_window = [&](const Window& t) {
    if (cancel && cancel->load()) throw Cancelled();
    return encode(rgb.slice(2, t.ey0, t.ey1).slice(3, t.ex0, t.ex1), layer);
  };
  const int s = static_cast<int>(arbitrary_layer_stride(layer));
  FeatureMoments moments;
  for (const auto& t : windows) {
    const auto f = encode_window(t);
    moments.add(f.slice(2, (t.y0 - t.ey0) / s, (t.y1 - t.ey0) / s)
                    .slice(3, (t.x0 - t.ex0) / s, (t.x1 - t.ex0) / s));
    tick();
  }
  const auto transform = wct_transform(moments, at_layer, strength);
  auto out = torch::empty({1, 3, h, w}, torch::kFloat);
  for (const auto& t : windows) {
    const auto y = decode(transform.apply(encode_window(t)));
    out.slice(2, t.y0, t.y1)
        .slice(3, t.x0, t.x1)
        .copy_(y.slice(2, t.y0 - t.ey0, t.y1 - t.ey0).slice(3, t.x0 - t.ex0, t.x1 - t.ex0));
    tick();
  }
  return out;
}

cv::Mat ArbitraryStylizer::stylize(const cv::Mat& photo_bgr, const std::vector<StyleHandle>& styles,
                                   const ArbitraryOptions& options,
                                   const std::function<void(int, int)>& progress,
                                   const std::atomic<bool>* cancel) {
  options.validate();
  if (styles.empty()) throw InputError("style: give at least one painting");
  if (!options.style_blend.empty() && options.style_blend.size() != styles.size())
    throw InputError("style_blend: needs one weight per painting (" +
                     std::to_string(styles.size()) + " paintings)");
  const auto run_levels = chosen(options.levels);
  Weighted weighted;
  for (size_t i = 0; i < styles.size(); ++i)
    weighted.emplace_back(styles[i].get(),
                          options.style_blend.empty() ? 1.0 : options.style_blend[i]);

  const cv::Mat photo = options.size > 0 ? resize_longest(photo_bgr, options.size) : photo_bgr;
  // The encoder pools twice: pad to a multiple of its stride by reflection, crop back after.
  const int pad_y = (kArbitraryStride - photo.rows % kArbitraryStride) % kArbitraryStride;
  const int pad_x = (kArbitraryStride - photo.cols % kArbitraryStride) % kArbitraryStride;
  cv::Mat padded = photo;
  if (pad_y || pad_x) cv::copyMakeBorder(photo, padded, 0, pad_y, 0, pad_x, cv::BORDER_REFLECT_101);

  int tile = options.tile;
  if (tile == 0 && static_cast<int64_t>(padded.rows) * padded.cols > kArbitraryUntiledMaxPixels)
    tile = 1024;
  tile -= tile % kArbitraryStride;
  if (tile > 0 && padded.rows <= tile && padded.cols <= tile) tile = 0;

  torch::NoGradGuard no_grad;
  const int passes = tile > 0 ? static_cast<int>(2 * tile_cores(padded.rows, tile).size() *
                                                 tile_cores(padded.cols, tile).size())
                              : 1;
  const int total = passes * static_cast<int>(run_levels.size());
  int done = 0;
  const std::function<void()> tick = [&] {
    if (progress) progress(++done, total);
  };
  // Each level paints the previous level's result (a picture again: clamped to 0-1).
  auto image = image_to_tensor(padded);
  for (auto* level : run_levels) {
    image = run_level(image, *level, weighted, options.strength, tile, tick, cancel).clamp(0, 1);
  }
  const auto& out = image;
  cv::Mat result = tensor_to_image(out)(cv::Rect(0, 0, photo.cols, photo.rows)).clone();
  if (options.original_colors) result = preserve_original_colors(result, photo);
  if (options.blend < 1) result = blend_with_original(result, photo, options.blend);
  return result;
}

}  // namespace pastiche
