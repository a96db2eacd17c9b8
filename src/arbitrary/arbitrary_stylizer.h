// Arbitrary-style transfer: any painting, no training for it (Li et al. 2017, "Universal Style
// Transfer via Feature Transforms"). The photo is encoded by the frozen VGG up to relu3_1, its
// features whitened and coloured with the painting's statistics (wct.h), and the trained decoder
// (decoder.h) turns them back into pixels; the paper's cascade then repeats this at relu2_1 and
// relu1_1 on the result, each level with its own decoder, deepest first: the deep level paints
// the strokes, the shallow ones the painting's colours and fine texture. A painting's statistics
// at every level are computed once and cached.
#pragma once
#include <torch/torch.h>
#include <opencv2/core.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "arbitrary/arbitrary_model.h"
#include "arbitrary/arbitrary_options.h"
#include "arbitrary/wct.h"
#include "common/runtime.h"

namespace pastiche {

// A painting's statistics at each level of the cascade.
struct PaintingStatistics {
  std::map<std::string, StyleStatistics> layers;
};
using StyleHandle = std::shared_ptr<const PaintingStatistics>;

// Images with more pixels than this are tiled when the tile size is automatic.
inline constexpr int64_t kArbitraryUntiledMaxPixels = 1536 * 1536;
// Context each tile reads beyond its own pixels: more than the encoder's and the decoder's
// receptive fields together (about 25 px), so tiles agree with the untiled result.
inline constexpr int kArbitraryTileHalo = 48;

class ArbitraryStylizer {
 public:
  // InputError when the model or the VGG weights do not load, or do not belong together.
  ArbitraryStylizer(const std::string& model_path, const std::string& vgg_path,
                    torch::Device device = torch::kCPU, Precision precision = Precision::automatic,
                    MemoryLayout layout = MemoryLayout::automatic);
  // With a VGG already loaded (the service shares the Gatys engine's): moved to `device`.
  ArbitraryStylizer(const std::string& model_path, Vgg vgg, torch::Device device = torch::kCPU,
                    Precision precision = Precision::automatic,
                    MemoryLayout layout = MemoryLayout::automatic);

  // A painting's statistics, seen at `style_size` px; computed on the first call for `key` and
  // then taken from a cache of the most recent 32 (key: anything naming the painting's bytes).
  StyleHandle style(const std::string& key, const cv::Mat& painting_bgr, int style_size);
  StyleHandle style_from_file(const std::string& path, int style_size);  // keyed by path + mtime
  int64_t statistics_computed() const { return computed_; }              // cache misses so far

  // The photo painted with the weighted paintings (weights from options.style_blend, else equal).
  // progress(done, total) over the tiles of both passes; cancel checked between tiles.
  cv::Mat stylize(const cv::Mat& photo_bgr, const std::vector<StyleHandle>& styles,
                  const ArbitraryOptions& options,
                  const std::function<void(int, int)>& progress = {},
                  const std::atomic<bool>* cancel = nullptr);

  const ComputeFormat& format() const { return format_; }
  const std::string& model_path() const { return model_path_; }
  const nlohmann::json& training() const { return levels_.front().model.training; }
  std::vector<std::string> levels() const;  // the layers with a decoder, deepest first

 private:
  using Weighted = std::vector<std::pair<const PaintingStatistics*, double>>;
  torch::Tensor encode(const torch::Tensor& rgb, const std::string& layer);
  // The levels `asked` names (all when empty), deepest first; InputError for one not loaded.
  std::vector<ArbitraryLevel*> chosen(const std::vector<std::string>& asked);
  // One level: RGB [1, 3, H, W] (H, W multiples of the stride) -> stylised RGB, untiled or in
  // tiles; progress(done) counts its tile passes.
  torch::Tensor run_level(const torch::Tensor& rgb, ArbitraryLevel& level, const Weighted& styles,
                          double strength, int tile, const std::function<void()>& tick,
                          const std::atomic<bool>* cancel);

  std::string model_path_;
  std::vector<ArbitraryLevel> levels_;
  Vgg vgg_{nullptr};
  torch::Device device_;
  ComputeFormat format_;
  std::mutex cache_mutex_;
  std::list<std::pair<std::string, StyleHandle>> cache_;  // most recent first
  std::atomic<int64_t> computed_{0};
};

}  // namespace pastiche
