// Running a transform network over an image, whole or in overlapping tiles.
//
// Instance normalisation makes a tile's output depend on the tile's own statistics, so tiles
// stylised independently disagree in brightness and contrast. Tiled inference therefore records
// the statistics of every normalisation layer once, on the whole image downscaled to at most
// `stats_side` px, and replays them in every tile. Tiles overlap by `overlap` px and are blended
// with linear (feathered) weights, which hides what is left of the seams (padding effects within
// the network's receptive field; the `margin` px nearest an inner tile edge, where the padding
// reaches, are left out of the blend altogether). Memory stays bounded by the tile size plus one
// float copy of the output.
#pragma once
#include <torch/torch.h>
#include <opencv2/core.hpp>

#include <atomic>
#include <functional>
#include <vector>

#include "common/runtime.h"
#include "fast/transformer_net.h"

namespace pastiche {

struct TileSettings {
  int tile = 1024;        // tile side, px (inputs no larger than this are not tiled)
  int overlap = 128;      // minimum overlap between neighbouring tiles, px
  int margin = 40;        // px at a tile's inner edges that get no weight (receptive-field border)
  int stats_side = 1024;  // longest side of the image the norm statistics are taken from
  // Shrinks overlap and margin to fit a small tile (overlap <= tile / 2, margin <= overlap / 3).
  TileSettings fitted() const;
};

// Images with more pixels than this are tiled when the caller leaves the tile size automatic.
inline constexpr int64_t kUntiledMaxPixels = 1536 * 1024;

// Tile start offsets along one axis: multiples of the network's stride, evenly spread, first at
// 0, neighbours overlapping by at least `overlap`; the last tile runs to `length` (it may be up to
// stride - 1 px longer than `tile`).
std::vector<int> tile_starts(int length, int tile, int overlap);

// The longest side of the copy of a picture int8 ranges are calibrated on: half the picture's, at
// least kInt8CalibrationSide and at most 1024 px. A smaller copy sees narrower ranges than the
// picture has (SSIM to float32, udnie on kite at 512 px: 0.972 calibrated at 256 px, 0.981 at
// 384; starry_night on chicago at 1024 px: 0.984 at 384, 0.985 at 512; at 2048 px, tiled: 0.977
// at 384, 0.981 at 1024, which tiling's statistics pass pays for anyway).
inline constexpr int kInt8CalibrationSide = 384;
int int8_calibration_side(int64_t longest);

// With int8 on (TransformerNetImpl::set_int8): one float pass over x ([1, 3, H, W] in the
// network's format) scaled down to at most `max_side` px (0: int8_calibration_side) records every
// convolution's ranges, and the passes after it run in int8. Without int8: nothing.
void calibrate_int8(TransformerNet& net, const torch::Tensor& x, const torch::Tensor& style,
                    int max_side = 0);

// Eval mode, no gradients, parameters cast to `format` once (rather than in every forward pass).
void prepare_for_inference(TransformerNet& net, const ComputeFormat& format);

// The whole image in one pass. `style` is the [S] mixing vector. Output is 8-bit BGR. The network
// computes in `format` (see common/runtime.h), its convolutions in int8 when it has int8 on
// (calibrated on this image first).
cv::Mat run_network(TransformerNet& net, const cv::Mat& bgr, const torch::Tensor& style,
                    const ComputeFormat& format);

// Tiled pass as described above (with int8 on, calibrated on the whole picture, and the
// statistics taken in int8 too).
// progress(done, total) after each tile; cancel checked between tiles (throws Cancelled).
cv::Mat run_network_tiled(TransformerNet& net, const cv::Mat& bgr, const torch::Tensor& style,
                          const TileSettings& settings, const ComputeFormat& format,
                          const std::function<void(int, int)>& progress = {},
                          const std::atomic<bool>* cancel = nullptr);

}  // namespace pastiche
