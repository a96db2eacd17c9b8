// Optimisation-based style transfer (Gatys, Ecker & Bethge 2015): the output image is the
// variable; L-BFGS or Adam minimise content + style + total-variation losses measured by VGG.
#pragma once
#include <opencv2/core.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gatys/gatys_options.h"
#include "vgg/vgg.h"

namespace pastiche {

struct GatysProgress {
  int iteration = 0;  // loss evaluations so far, all scales
  int total = 0;      // planned evaluations, all scales
  int scale = 0;      // 0-based level of the coarse-to-fine schedule
  int scales = 1;
  int width = 0, height = 0;  // size of the current level
  double content_loss = 0, style_loss = 0, tv_loss = 0, total_loss = 0;  // weighted
  double elapsed_seconds = 0;
  double eta_seconds = 0;
};

struct GatysCallbacks {
  std::function<void(const GatysProgress&)> on_progress;                  // every evaluation
  std::function<void(const cv::Mat& preview, int iteration)> on_preview;  // every preview_every
  const std::atomic<bool>* cancel = nullptr;  // set to true to stop; run() throws Cancelled
};

struct GatysResult {
  cv::Mat image;       // 8-bit BGR, post-processing applied
  int iterations = 0;  // loss evaluations, all scales
  double seconds = 0;
  double content_loss = 0, style_loss = 0, tv_loss = 0;   // weighted, last evaluation
  std::vector<std::string> style_layers, content_layers;  // what was used
  std::vector<int> schedule;                              // longest side of each level
  std::vector<int> level_evaluations;  // evaluations each level ran (coarse ones may stop early)
  std::vector<std::string> notes;      // automatic choices worth telling the user
  std::string precision;               // "fp32" or "bf16": what the convolutions ran in
  std::string layout;                  // "nchw" or "channels-last"
};

class GatysEngine {
 public:
  explicit GatysEngine(Vgg vgg, torch::Device device = torch::kCPU);

  // content and styles are 8-bit BGR images of any size; options are validated here.
  // init_image (8-bit BGR, any size: it is resized to the photo's shape) is where the
  // optimisation starts when options.init is InitKind::image, and must be empty otherwise.
  GatysResult run(const cv::Mat& content, const std::vector<cv::Mat>& styles,
                  const GatysOptions& options, const GatysCallbacks& callbacks = {},
                  const cv::Mat& init_image = {});

  const Vgg& vgg() const { return vgg_; }

 private:
  Vgg vgg_;
  torch::Device device_;
};

}  // namespace pastiche
