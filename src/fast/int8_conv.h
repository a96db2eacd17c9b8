// Quantised (int8) convolutions for the transform network at inference (issue 27, item 4).
//
// LibTorch's quantised convolution (oneDNN engine; VNNI where the CPU has it) runs the network's
// convolutions 2-4x faster than float32 and faster than bf16 with AVX512-BF16 (bench/RESULTS.md).
// Only the convolutions are quantised: weights per output channel (symmetric int8), activations
// per tensor (affine uint8) with ranges calibrated by a float pass over the same picture at a
// smaller size. Instance normalisation, ReLU, residual sums and the sigmoid stay float32, so the
// rest of the network (statistics replay for tiles, strength, style mixing) is unchanged.
//
// LibTorch's own quantize/dequantize are scalar loops (140 ms for a 16-channel 1024² map): the
// conversions here are fused with the reflection padding and upsampling that precede every
// convolution, in one vectorised pass each way.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace pastiche {

// "" when LibTorch's quantised convolution runs on this CPU, else why not. Once per process.
const std::string& int8_convolution_error();

// Levels per activation: 256, or 128 where the int8 kernels saturate 16-bit partial sums (AVX2
// without VNNI: vpmaddubsw adds two u8 x s8 products into an int16). Measured once per process on
// a convolution built to saturate, not read from a CPU flag (ONEDNN_MAX_CPU_ISA moves it).
int int8_activation_levels();

// Share of a tensor's values left out of its range at each end. Activations have long tails: the
// range of every value spends the 256 levels on a few outliers (SSIM to float32 0.932 at 512 px,
// woman_with_hat on chicago); without the 1e-4 tails 0.944, with 1e-3 0.905 (bench/RESULTS.md).
inline constexpr double kRangeTail = 1e-4;

// The range a tensor's values were seen in (over one or more calibration passes), without the
// kRangeTail tails (from a histogram of at most 2^20 of its values).
struct ValueRange {
  float lo = 0, hi = 0;
  void include(const torch::Tensor& x);
};

// Affine quantisation q = round(x / scale) + zero_point, q in [0, levels - 1].
struct AffineQuant {
  double scale = 1;
  int64_t zero_point = 0;
};
// The mapping covering `range` and 0 (so zero is exact) with `levels` levels. No headroom for the
// full picture's extremes, which a smaller calibration picture misses: a wider range costs more
// than the clipping it saves (SSIM 0.932 without, 0.917 with 10 %).
AffineQuant affine_quant(const ValueRange& range, int levels);

// x (float32 [1, C, H, W], any layout) upsampled x`upsample` (nearest, 1 or 2), reflection-padded
// by `pad` px on every side and quantised to a quint8 channels-last tensor, in one pass.
torch::Tensor quantize_padded(const torch::Tensor& x, int64_t pad, int64_t upsample,
                              const AffineQuant& q);
// A quint8 tensor [1, C, H, W] (channels-last) as float32 channels-last.
torch::Tensor dequantize_channels_last(const torch::Tensor& q);

// One convolution in int8: packed weights and the calibrated ranges of its input and output.
class Int8Conv {
 public:
  // weight [out, in, k, k] and bias [out] in any float dtype; `pad` is applied by reflection.
  Int8Conv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride, int64_t pad);
  // Calibration: include the float layer's input (before upsampling) and output.
  void observe(const torch::Tensor& input, const torch::Tensor& output);
  void reset_ranges();
  // A range the input is known to have (the network's RGB input is [0, 1]: with 256 levels its
  // 8-bit pixels are then quantised exactly); calibration leaves it alone.
  void pin_input_range(float lo, float hi);
  bool calibrated() const { return calibrated_; }
  // float input (as the float layer gets it) -> float32 channels-last output. Throws
  // std::logic_error before calibration.
  torch::Tensor forward(const torch::Tensor& x, int64_t upsample = 1) const;

 private:
  c10::IValue packed_;
  int64_t pad_;
  ValueRange input_, output_;
  bool calibrated_ = false, input_pinned_ = false;
};

}  // namespace pastiche
