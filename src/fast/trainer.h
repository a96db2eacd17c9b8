// Training a transform network with the perceptual losses (Johnson, Alahi & Fei-Fei 2016):
// for a batch of photos x, y = net(x, style) is compared with the photos in VGG feature space
// (content loss) and with the painting's Gram matrices (style loss), plus total variation.
// The losses are the core engine's relative, scale-free losses (perceptual/losses.h), and the
// default layers are the core engine's choice for the available VGG weights. Several styles train
// one conditional-instance-norm network (Dumoulin et al. 2017), cycling through the styles.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/runtime.h"
#include "fast/train_objective.h"
#include "fast/train_options.h"
#include "fast/transformer_net.h"

namespace pastiche {

struct TrainProgress {
  int iteration = 0;  // completed steps
  int total = 0;
  double content_loss = 0, style_loss = 0, tv_loss = 0, total_loss = 0;  // weighted, this step
  double elapsed_seconds = 0;                                            // this run
  double eta_seconds = 0;
};

struct TrainCallbacks {
  std::function<void(const TrainProgress&)> on_progress;  // every step
  // after each checkpoint: checkpoint path, preview image path, iteration
  std::function<void(const std::string&, const std::string&, int)> on_checkpoint;
  const std::atomic<bool>* cancel = nullptr;  // checked between steps; throws Cancelled
};

struct TrainResult {
  std::string model_path, checkpoint_path, log_path, preview_path;
  int iterations = 0;                     // total steps (including resumed ones)
  int resumed_from = 0;                   // 0 when started fresh
  double seconds = 0;                     // this run
  double total_seconds = 0;               // all runs (resumed ones included)
  double first_loss = 0, final_loss = 0;  // weighted total, first and last step of this run
  double final_style_loss = 0, final_content_loss = 0;
  std::vector<std::string> style_layers, content_layers;
  std::vector<std::string> notes;
  int dataset_images = 0;
  int64_t parameters = 0;
};

// Checkpoint written next to the model: OUTPUT + ".ckpt".
std::string checkpoint_path_for(const std::string& model_path);

TrainResult train_fast_model(const TrainOptions& options, const TrainCallbacks& callbacks = {});

// For benchmarks: the training loop's step on a prebuilt batch (style 0), with the same loss
// network, targets, network and optimiser train_fast_model builds. Construct, then call step()
// repeatedly.
class TrainStepper {
 public:
  explicit TrainStepper(const TrainOptions& options);  // dataset not read
  double step(const torch::Tensor& batch);             // returns the weighted total loss
  int64_t parameters() const;

 private:
  TrainObjective objective_;
  TransformerNet net_;
  torch::optim::Adam optimizer_;
};

}  // namespace pastiche
