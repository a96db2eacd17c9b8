// What a training step is measured against: the VGG loss network, the chosen style and content
// layers, and each painting's Gram matrices, computed once before the first step.
#pragma once
#include <torch/torch.h>
#include <opencv2/core.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/runtime.h"
#include "fast/train_options.h"
#include "perceptual/losses.h"
#include "vgg/vgg.h"

namespace pastiche {

// One step's weighted losses as numbers, for the log and the progress callback.
struct StepLosses {
  double content = 0, style = 0, tv = 0, total = 0;
};

class TrainObjective {
 public:
  // Validates the options, loads the VGG weights, chooses the layers and computes the targets.
  // InputError for missing weights, unknown layers or an unreadable painting.
  explicit TrainObjective(const TrainOptions& options);

  // A batch of photos (RGB 0-1, NCHW) as the transform network takes it: on the device, in the
  // compute format.
  torch::Tensor input(const torch::Tensor& photos) const;
  // Content (against `input`'s features), style (against painting `style`) and TV losses of the
  // network's output, weighted as the options say.
  PerceptualLoss loss(const torch::Tensor& output, const torch::Tensor& input, int64_t style);
  // The terms as numbers; throws when training diverged (a loss is not finite).
  static StepLosses values(const PerceptualLoss& loss);

  const TrainOptions& options() const { return options_; }
  const ComputeFormat& format() const { return format_; }
  torch::Device device() const { return device_; }
  const std::vector<std::string>& style_layers() const { return style_layers_; }
  const std::vector<std::string>& content_layers() const { return content_layers_; }
  const std::vector<double>& style_layer_weights() const { return options_.style_layer_weights; }
  const std::string& layer_note() const { return note_; }  // set when defaults were substituted
  const std::string& vgg_path() const { return vgg_->info().path; }
  const std::vector<cv::Mat>& style_images() const { return style_images_; }

 private:
  TrainOptions options_;
  torch::Device device_ = torch::kCPU;
  ComputeFormat format_;  // both networks' convolutions (parameters and losses stay float32)
  Vgg vgg_{nullptr};
  std::vector<std::string> style_layers_, content_layers_, all_layers_;
  std::string note_;
  std::vector<cv::Mat> style_images_;
  std::vector<std::map<std::string, torch::Tensor>> style_grams_;  // per painting
};

}  // namespace pastiche
