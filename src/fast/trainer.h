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
#include "fast/transformer_net.h"

namespace pastiche {

struct StyleSpec {
  std::string image;  // path of the painting
  std::string name;   // id inside the model; empty = the file's stem
  std::string title;  // empty = the name with spaces
  std::string artist;
  std::string description;
};

struct TrainOptions {
  std::vector<StyleSpec> styles;  // one or more paintings (several = conditional IN)
  std::string dataset;            // folder (searched recursively) of training photos
  std::string output;             // model file (.safetensors)
  std::string vgg;                // VGG weights; empty = default_vgg_weights_path()

  int size = 256;      // training crops are size x size px
  int style_size = 0;  // longest side of the style image; 0 = size
  int batch = 4;
  double learning_rate = 1e-3;  // Adam
  int iterations = 0;           // optimiser steps; 0 = from epochs, or 2000 if both are 0
  double epochs = 0;            // passes over the dataset (alternative to iterations)
  // Relative losses (see perceptual/losses.h). The defaults are what three of the four default
  // models ended with (models/README.md; udnie 50): a lower style weight or a higher TV weight left
  // them 1.5-2.7x further from the painting's Gram matrices than the Gatys engine, and blurrier.
  double content_weight = 1.0;
  double style_weight = 35.0;
  double tv_weight = 2.0;
  std::vector<std::string> style_layers;    // empty = the core engine's defaults for the weights
  std::vector<double> style_layer_weights;  // empty = equal
  std::vector<std::string> content_layers;  // empty = defaults
  int64_t width = 32;                       // network width (paper 32; light variant 16)
  int64_t res_blocks = 5;                   // residual blocks (paper 5; light variant 3)
  bool fp16 = false;                        // store the final model as float16

  int checkpoint_every = 500;  // iterations between checkpoints + previews (0 = end only)
  std::string preview_image;   // fixed validation photo; empty = first dataset image
  int preview_size = 384;      // longest side of the preview
  int log_every = 10;          // iterations between loss-log lines
  std::string log_path;        // JSON lines; empty = OUTPUT without extension + ".log.jsonl"
  bool resume = false;         // continue from OUTPUT.ckpt
  // Fine-tune: start from this model's weights (same network and style count), fresh optimiser,
  // iterations counted from 0. For a further phase when only the model, not its checkpoint, is
  // kept.
  std::string init_from;
  uint64_t seed = 0;
  // Both networks' convolutions: auto = bf16 on CPUs with native bf16 dot products (float32
  // parameters, Adam state and losses), channels-last when bf16 (see common/runtime.h).
  MemoryLayout layout = MemoryLayout::automatic;
  Precision precision = Precision::automatic;

  int total_iterations(int dataset_images) const;  // resolves iterations/epochs
  void validate() const;                           // throws InputError naming the field
};

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

// For benchmarks: one training step on a prebuilt batch, reusing everything train_fast_model
// sets up. Construct, then call step() repeatedly.
class TrainStepper {
 public:
  explicit TrainStepper(const TrainOptions& options);  // dataset not read
  ~TrainStepper();
  double step(const torch::Tensor& batch);  // returns the weighted total loss
  int64_t parameters() const;

  struct State;  // implementation detail, shared with train_fast_model()

 private:
  std::unique_ptr<State> state_;
};

}  // namespace pastiche
