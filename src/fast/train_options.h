// Every setting of fast-model training, with its default, in one place; train_option_catalog()
// declares each setting's range and help (the CLI `pastiche train` is generated from it), and
// validate() is the single check.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/option_catalog.h"
#include "common/runtime.h"

namespace pastiche {

// Iterations when neither --iterations nor --epochs is given.
constexpr int kDefaultTrainIterations = 2000;

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

// Range, help and CLI name of each TrainOptions setting (the paintings, photos and output file
// are the command's own arguments).
const OptionCatalog<TrainOptions>& train_option_catalog();

}  // namespace pastiche
