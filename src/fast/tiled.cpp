#include "fast/tiled.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "image/image_io.h"
#include "image/tensor_convert.h"

namespace pastiche {

namespace {

torch::Tensor to_input(const cv::Mat& bgr, const ComputeFormat& format) {
  return format.apply(image_to_tensor(bgr));
}

// [1, 3, h, w] RGB -> CV_32FC3 BGR (a copy).
cv::Mat to_float_bgr(const torch::Tensor& rgb) {
  auto hwc = rgb[0].flip({0}).permute({1, 2, 0}).contiguous().to(torch::kFloat);
  cv::Mat view(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_32FC3,
               hwc.data_ptr<float>());
  return view.clone();
}

// Feather weights along one axis: at a side that touches a neighbouring tile, 0 for the first
// `margin` px, then a linear ramp up to 1 over overlap - 2 * margin px. Two neighbours overlapping
// by exactly `overlap` px get weights summing to 1 across the overlap.
std::vector<float> ramp(int length, bool left_neighbour, bool right_neighbour,
                        const TileSettings& s) {
  const float span = static_cast<float>(s.overlap - 2 * s.margin);
  auto weight = [&](int distance) {
    return std::clamp((static_cast<float>(distance - s.margin) + 0.5f) / span, 0.0f, 1.0f);
  };
  std::vector<float> w(static_cast<size_t>(length), 1.0f);
  for (int i = 0; i < length; ++i) {
    float v = 1.0f;
    if (left_neighbour) v = std::min(v, weight(i));
    if (right_neighbour) v = std::min(v, weight(length - 1 - i));
    w[static_cast<size_t>(i)] = v;
  }
  return w;
}

}  // namespace

TileSettings TileSettings::fitted() const {
  TileSettings s = *this;
  s.overlap = std::min(s.overlap, s.tile / 2);
  s.margin = std::min(s.margin, s.overlap / 3);
  return s;
}

std::vector<int> tile_starts(int length, int tile, int overlap) {
  if (length <= tile) return {0};
  // Starts are multiples of the network's stride: the network is not shift-invariant, and a tile
  // sampled at another phase of the stride would give a visibly different result.
  const int stride = static_cast<int>(kTransformerStride);
  const int step = std::max(stride, tile - overlap - stride);
  const int count = 1 + (length - tile + step - 1) / step;
  std::vector<int> starts(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    const auto ideal = std::lround(static_cast<double>(i) * (length - tile) / (count - 1));
    starts[static_cast<size_t>(i)] = static_cast<int>(ideal) / stride * stride;
  }
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  return starts;
}

void prepare_for_inference(TransformerNet& net, const ComputeFormat& format) {
  net->eval();
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) {
    p.set_requires_grad(false);
    p.set_data(p.dim() == 4 ? format.apply(p) : p.to(format.dtype));
  }
}

int int8_calibration_side(int64_t longest) {
  return static_cast<int>(std::clamp<int64_t>(longest / 2, kInt8CalibrationSide, 1024));
}

void calibrate_int8(TransformerNet& net, const torch::Tensor& x, const torch::Tensor& style,
                    int max_side) {
  if (!net->int8() || net->int8_calibration_kept()) return;
  const int64_t h = x.size(2), w = x.size(3), side = std::max(h, w);
  if (max_side <= 0) max_side = int8_calibration_side(side);
  auto small = x;
  if (side > max_side) {
    const double f = static_cast<double>(max_side) / static_cast<double>(side);
    auto scaled = [f](int64_t n) {
      return std::max<int64_t>(1, std::llround(static_cast<double>(n) * f));
    };
    small = torch::adaptive_avg_pool2d(x.to(torch::kFloat), {scaled(h), scaled(w)})
                .to(x.scalar_type())
                .contiguous(x.suggest_memory_format());
  }
  net->set_int8_stage(Int8Stage::calibrate);
  net->forward(small, style);
  net->set_int8_stage(Int8Stage::run);
}

cv::Mat run_network(TransformerNet& net, const cv::Mat& bgr, const torch::Tensor& style,
                    const ComputeFormat& format) {
  const auto x = to_input(bgr, format);
  calibrate_int8(net, x, style);
  return tensor_to_image(net->forward(x, style));
}

cv::Mat run_network_tiled(TransformerNet& net, const cv::Mat& bgr, const torch::Tensor& style,
                          const TileSettings& requested, const ComputeFormat& format,
                          const std::function<void(int, int)>& progress,
                          const std::atomic<bool>* cancel) {
  const auto settings = requested.fitted();
  if (settings.tile < 16 || settings.overlap <= 2 * settings.margin)
    throw InputError("tile side " + std::to_string(settings.tile) + " px is too small");
  // Statistics of the whole image, at a size that fits in memory.
  NormStats stats;
  {
    const cv::Mat small = std::max(bgr.cols, bgr.rows) > settings.stats_side
                              ? resize_longest(bgr, settings.stats_side)
                              : bgr;
    // With int8, in int8 like the tiles: instance norm then corrects the int8 convolutions'
    // systematic error in every tile as it does in an untiled pass (float statistics replayed
    // into int8 tiles: 2-4x the error, measured with 7-bit weights).
    const auto input = to_input(small, format);
    calibrate_int8(net, input, style, settings.stats_side);
    net->forward(input, style, &stats);
    stats.mode = NormStats::Mode::replay;
  }
  const auto xs = tile_starts(bgr.cols, settings.tile, settings.overlap);
  const auto ys = tile_starts(bgr.rows, settings.tile, settings.overlap);
  const int total = static_cast<int>(xs.size() * ys.size());
  cv::Mat sum(bgr.size(), CV_32FC3, cv::Scalar::all(0));
  cv::Mat weight(bgr.size(), CV_32FC1, cv::Scalar::all(0));
  int done = 0;
  for (size_t iy = 0; iy < ys.size(); ++iy) {
    for (size_t ix = 0; ix < xs.size(); ++ix) {
      if (cancel && cancel->load()) throw Cancelled();
      // The last tile of a row/column reaches the image's edge (up to stride - 1 px wider).
      const cv::Rect rect(xs[ix], ys[iy], ix + 1 < xs.size() ? settings.tile : bgr.cols - xs[ix],
                          iy + 1 < ys.size() ? settings.tile : bgr.rows - ys[iy]);
      stats.next = 0;
      const auto out = to_float_bgr(net->forward(to_input(bgr(rect), format), style, &stats));
      const auto wx = ramp(rect.width, ix > 0, ix + 1 < xs.size(), settings);
      const auto wy = ramp(rect.height, iy > 0, iy + 1 < ys.size(), settings);
      for (int y = 0; y < rect.height; ++y) {
        const auto* src = out.ptr<cv::Vec3f>(y);
        auto* dst = sum.ptr<cv::Vec3f>(rect.y + y) + rect.x;
        auto* wdst = weight.ptr<float>(rect.y + y) + rect.x;
        for (int x = 0; x < rect.width; ++x) {
          const float w = wy[static_cast<size_t>(y)] * wx[static_cast<size_t>(x)];
          dst[x] += src[x] * w;
          wdst[x] += w;
        }
      }
      if (progress) progress(++done, total);
    }
  }
  cv::Mat result(bgr.size(), CV_8UC3);
  for (int y = 0; y < bgr.rows; ++y) {
    const auto* s = sum.ptr<cv::Vec3f>(y);
    const auto* w = weight.ptr<float>(y);
    auto* d = result.ptr<cv::Vec3b>(y);
    for (int x = 0; x < bgr.cols; ++x) {
      const cv::Vec3f v = s[x] * (255.0f / w[x]);
      d[x] = cv::Vec3b(cv::saturate_cast<uint8_t>(v[0]), cv::saturate_cast<uint8_t>(v[1]),
                       cv::saturate_cast<uint8_t>(v[2]));
    }
  }
  return result;
}

}  // namespace pastiche
