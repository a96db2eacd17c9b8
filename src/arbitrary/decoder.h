// The decoders of Li et al. (2017): VGG19 up to relu3_1, relu2_1 or relu1_1 mirrored,
// nearest-neighbour upsampling in place of pooling and reflection padding, trained to invert the
// frozen encoder (the training objective lives in arbitrary_trainer.h). They never see a
// painting: whatever a feature transform puts at their layer, they turn back into pixels.
//
//   relu3_1 (256 ch, /4) -> conv 3x3 2w -> up x2 -> conv 2w -> conv w -> up x2 -> conv w -> conv 3
//   relu2_1 (128 ch, /2) ->                                  conv w -> up x2 -> conv w -> conv 3
//   relu1_1 ( 64 ch, /1) ->                                                              conv 3
//
// The paper's decoders are w = 64; the default here is w = 32, a quarter of the work
// (bench/RESULTS.md). A cascade runs the levels deepest first (arbitrary_stylizer.h).
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "fast/transformer_net.h"

namespace pastiche {

// The deepest layer, the one the default decoder inverts.
inline constexpr const char* kArbitraryLayer = "relu3_1";
// Every layer a decoder can invert, deepest first: the order of a cascade.
inline const std::vector<std::string> kArbitraryLayers = {"relu3_1", "relu2_1", "relu1_1"};
// Total stride of the deepest layer (two poolings): inputs are padded to a multiple.
inline constexpr int64_t kArbitraryStride = 4;

// InputError naming `field` when `layer` is not one of kArbitraryLayers.
void check_arbitrary_layer(const std::string& layer, const std::string& field);
int64_t arbitrary_layer_channels(const std::string& layer);  // 256, 128, 64
int64_t arbitrary_layer_stride(const std::string& layer);    // 4, 2, 1
// The layers a decoder for `layer` is compared at in training: it and the shallower ones.
std::vector<std::string> arbitrary_feature_layers(const std::string& layer);

struct DecoderOptions {
  std::string layer = kArbitraryLayer;  // the encoder layer it inverts
  int64_t width = 32;                   // channels at full resolution (doubled at half)
  // The features are multiplied by this before the first convolution. Raw VGG activations are in
  // the hundreds, so a shallow decoder's first weights must be ~1e-5 and Adam's fixed-size steps
  // keep them jittering (a relu1_1 decoder at lr 1e-3 never got below a pixel MSE of 10);
  // training sets 1 / (the features' RMS) once, files without it read 1.
  double input_scale = 1.0;
  void validate() const;  // InputError naming the field
  nlohmann::json to_json() const;
  static DecoderOptions from_json(const nlohmann::json& j);  // InputError when malformed
};

struct DecoderImpl : torch::nn::Module {
  explicit DecoderImpl(const DecoderOptions& options);
  // Features of options().layer [N, C, h, w] -> RGB [N, 3, s h, s w] (s: the layer's stride),
  // roughly 0-1 (not clamped: the training loss sees the raw output), in the features' dtype.
  torch::Tensor forward(const torch::Tensor& features);
  const DecoderOptions& options() const { return options_; }
  int64_t parameter_count() const;

  // Those of the layer (the others stay null): names shared by every layer's decoder.
  ConvLayer conv3{nullptr}, conv2a{nullptr}, conv2b{nullptr}, conv1a{nullptr}, conv_out{nullptr};

 private:
  DecoderOptions options_;
};
TORCH_MODULE(Decoder);

}  // namespace pastiche
