// Every setting of training the arbitrary-style decoder (`pastiche train-arbitrary`), with its
// default, in one place; the catalogue declares range and help, validate() is the single check.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/option_catalog.h"
#include "common/runtime.h"

namespace pastiche {

struct ArbitraryTrainOptions {
  std::vector<std::string> datasets;  // folders of images (searched recursively), used together
  std::string output;                 // model file (.safetensors); checkpoint OUTPUT.ckpt
  std::string vgg;                    // encoder weights; empty = default_vgg_weights_path()

  std::string layer = "relu3_1";  // the encoder layer the decoder inverts (decoder.h)
  int size = 256;                 // training crops
  int batch = 4;
  double learning_rate = 5e-4;  // Adam
  int iterations = 4000;
  // Reconstruction = pixel MSE + feature_weight x the relative feature error at the layer and the
  // shallower ones of relu1_1, relu2_1, relu3_1 (the paper's pixel + perceptual loss): features
  // keep what pixels blur.
  double feature_weight = 1.0;
  int64_t width = 32;  // decoder width (decoder.h; the paper's 64)
  bool fp16 = false;   // store the final model as float16

  int checkpoint_every = 250;
  std::string preview_image;  // photo for previews; empty = the first training image
  std::string preview_style;  // painting the previews also transfer; empty = reconstruction only
  int preview_size = 384;
  int log_every = 10;
  std::string log_path;  // empty = OUTPUT without extension + ".log.jsonl"
  bool resume = false;
  uint64_t seed = 0;
  MemoryLayout layout = MemoryLayout::automatic;
  Precision precision = Precision::automatic;

  void validate() const;  // InputError naming the field
};

const OptionCatalog<ArbitraryTrainOptions>& arbitrary_train_option_catalog();

}  // namespace pastiche
