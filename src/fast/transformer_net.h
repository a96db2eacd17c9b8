// The image transformation network of Johnson, Alahi & Fei-Fei (2016), "Perceptual Losses for
// Real-Time Style Transfer", with the refinements that became standard:
//  - instance normalisation instead of batch normalisation (Ulyanov et al. 2016);
//  - nearest-neighbour upsampling + convolution instead of transposed convolutions, which avoids
//    checkerboard artefacts (Odena et al. 2016);
//  - conditional instance normalisation (Dumoulin, Shlens & Kudlur 2017): one (gamma, beta) pair
//    per style, so one network holds N styles and can interpolate between them.
//
//   conv 9x9 w -> conv 3x3 2w /2 -> conv 3x3 4w /2 -> R residual blocks of 4w
//   -> upsample x2 + conv 3x3 2w -> upsample x2 + conv 3x3 w -> conv 9x9 3 -> sigmoid
//
// The paper's network is w = 32, R = 5; the lighter CPU variant is w = 16, R = 3.
// Input and output are RGB in [0, 1], NCHW, any size (padded to a multiple of 4 and cropped back).
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "fast/int8_conv.h"
#include "fast/reflection_pad.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace pastiche {

struct TransformerNetOptions {
  int64_t width = 32;      // channels after the first convolution (doubled by each downsampling)
  int64_t res_blocks = 5;  // residual blocks at the lowest resolution
  int64_t styles = 1;      // (gamma, beta) pairs per normalisation layer

  static TransformerNetOptions paper() { return {32, 5, 1}; }
  static TransformerNetOptions light() { return {16, 3, 1}; }
  void validate() const;  // throws InputError naming the field

  nlohmann::json to_json() const;
  static TransformerNetOptions from_json(const nlohmann::json& j);  // InputError when malformed
};

// Instance-norm statistics recorded on one image and replayed on another (tiled inference of a
// huge image uses the statistics of the whole image, so tiles agree with each other).
struct NormStats {
  enum class Mode { record, replay };
  Mode mode = Mode::record;
  std::vector<torch::Tensor> mean, var;  // one [N, C, 1, 1] pair per normalisation layer
  size_t next = 0;                       // replay cursor
};

// What the convolutions run in at inference: float (the parameters' dtype), a float pass that
// records every convolution's value ranges (int8 calibration), or int8 (fast/int8_conv.h).
enum class Int8Stage { off, calibrate, run };

// Reflection padding of k/2 followed by a convolution (after nearest upsampling by `upsample`).
// The convolution runs in the input's dtype: with bf16 input the float32 parameters (the
// optimiser's master copy) are cast on the fly; in Int8Stage::run it runs quantised and returns
// float32.
struct ConvLayerImpl : torch::nn::Module {
  ConvLayerImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1);
  torch::Tensor forward(const torch::Tensor& x, int64_t upsample = 1);
  int64_t padding = 0;
  torch::nn::Conv2d conv{nullptr};
  std::unique_ptr<Int8Conv> int8;  // packed by TransformerNetImpl::set_int8
  Int8Stage int8_stage = Int8Stage::off;
  bool compute_in_parameter_dtype = false;  // a float layer of an int8 network
};
TORCH_MODULE(ConvLayer);

// Nearest-neighbour x2 upsampling, then a ConvLayer.
struct UpsampleConvLayerImpl : torch::nn::Module {
  UpsampleConvLayerImpl(int64_t in, int64_t out, int64_t kernel);
  torch::Tensor forward(const torch::Tensor& x);
  ConvLayer conv{nullptr};
};
TORCH_MODULE(UpsampleConvLayer);

// Instance normalisation with one learned (gamma, beta) per style: gamma, beta are [styles, C].
// `style` is [N, styles] (mixing weights per batch item) or [styles] (same for the whole batch).
// Statistics are taken with float32 accumulation; the output has the input's dtype. With
// `relu` the ReLU that follows most normalisations is applied too: without autograd both run as
// two fused passes over x (fast/instance_norm_kernel.h) instead of ten ATen ones.
struct ConditionalInstanceNormImpl : torch::nn::Module {
  ConditionalInstanceNormImpl(int64_t channels, int64_t styles);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& style,
                        NormStats* stats = nullptr, bool relu = false);
  torch::Tensor gamma, beta;
  static constexpr double kEps = 1e-5;
};
TORCH_MODULE(ConditionalInstanceNorm);

// x + norm(conv(relu(norm(conv(x))))) — no ReLU after the sum (Gross & Wilber).
struct ResidualBlockImpl : torch::nn::Module {
  ResidualBlockImpl(int64_t channels, int64_t styles);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& style, NormStats* stats);
  ConvLayer conv1{nullptr}, conv2{nullptr};
  ConditionalInstanceNorm in1{nullptr}, in2{nullptr};
};
TORCH_MODULE(ResidualBlock);

struct TransformerNetImpl : torch::nn::Module {
  explicit TransformerNetImpl(const TransformerNetOptions& options);

  // x: [N, 3, H, W] RGB in [0, 1], any H, W >= 1, float32 or bf16 (the network then computes in
  // bf16: 3-5x faster with AMX). style: [N, S] or [S] mixing weights; an undefined tensor means
  // style 0. Returns [N, 3, H, W] in (0, 1), in x's dtype.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& style = {},
                        NormStats* stats = nullptr);

  // One-hot [S] weights for style `index`.
  torch::Tensor style_vector(int64_t index) const;

  const TransformerNetOptions& options() const { return options_; }
  int64_t parameter_count() const;

  // Quantised convolutions at inference (fast/int8_conv.h): on packs every convolution's weights
  // (once; throws InputError where int8 convolutions do not run), off returns to float.
  void set_int8(bool on);
  bool int8() const { return int8_; }
  // Int8 only: calibrate makes the next float passes record every convolution's ranges (reset
  // first); run makes the passes after it quantised. Ignored while int8 is off.
  void set_int8_stage(Int8Stage stage);
  // Keep the calibrated ranges for the passes that follow (the frames of one clip, one style):
  // calibrate_int8 (fast/tiled.h) then calibrates only when the network has no ranges yet. One
  // calibration for the whole clip also keeps the quantisation from changing frame to frame.
  void keep_int8_calibration(bool keep) { keep_int8_calibration_ = keep; }
  // Whether calibrate_int8 can skip: kept, int8 on, every int8 convolution calibrated.
  bool int8_calibration_kept();

  ConvLayer conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  ConditionalInstanceNorm in1{nullptr}, in2{nullptr}, in3{nullptr};
  torch::nn::ModuleList res{nullptr};
  UpsampleConvLayer up1{nullptr}, up2{nullptr};
  ConditionalInstanceNorm in4{nullptr}, in5{nullptr};
  ConvLayer conv_out{nullptr};

 private:
  torch::Tensor body(const torch::Tensor& x, const torch::Tensor& style, NormStats* stats);
  std::vector<ConvLayerImpl*> conv_layers();
  TransformerNetOptions options_;
  bool int8_ = false;
  bool keep_int8_calibration_ = false;
};
TORCH_MODULE(TransformerNet);

// The network's total stride: inputs are padded to a multiple of this.
constexpr int64_t kTransformerStride = 4;

}  // namespace pastiche
