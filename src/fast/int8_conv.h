// Quantised (int8) convolutions for the transform network at inference (issue 27, item 4).
//
// LibTorch's quantised convolution (oneDNN engine; VNNI where the CPU has it) runs the network's
// convolutions 2-4x faster than float32 and ~2x faster than bf16 with AVX512-BF16; the whole
// pass gains only where the float choice is float32 (bench/RESULTS.md, "int8 fast path").
// Only convolutions are quantised (not the two downsampling ones, TransformerNetImpl::set_int8):
// weights per output channel (symmetric int8), activations
// per tensor (affine uint8) with ranges calibrated by a float pass over the same picture at a
// smaller size. Instance normalisation, ReLU, residual sums and the sigmoid stay float32, so the
// rest of the network (statistics replay for tiles, strength, style mixing) is unchanged.
//
// LibTorch's own quantize/dequantize are scalar loops (140 ms for a 16-channel 1024² map): the
// conversions here are fused with the reflection padding and upsampling that precede every
// convolution, in one vectorised pass each way.
#pragma once
#include <torch/torch.h>

#include "common/runtime.h"

#include <cstdint>
#include <string>
#include <utility>

namespace pastiche {

// "" when LibTorch's quantised convolution runs on this CPU, else why not. Once per process.
const std::string& int8_convolution_error();

// The smallest picture (longest side, px) int8 pays for: its calibration pass costs about a
// quarter of a float one, and below this the int8 pass does not win it back (light network, AVX2
// cap: 512 px 250 ms int8 vs 203 float32, 768 px 338 vs 432, 1024 px 630 vs 798).
inline constexpr int64_t kInt8MinSide = 768;

// The automatic choice for a picture of `longest_side` px next to a float format: int8 where the
// float choice is float32 on the CPU, the picture is at least kInt8MinSide and int8 convolutions
// run (slower than bf16 where the CPU has it: bench/RESULTS.md, "int8").
bool int8_by_default(const ComputeFormat& float_format, const torch::Device& device,
                     int64_t longest_side);

// Levels of the activations (uint8: 256) and largest weight magnitude (int8: 127). Where the int8
// kernels saturate 16-bit partial sums (AVX2 without VNNI: vpmaddubsw adds two u8 x s8 products
// into an int16) one of them gives up a bit: the weights (63) when that is exact, else the
// activations (128). Measured once per process on a convolution built to saturate, not read from
// a CPU flag (ONEDNN_MAX_CPU_ISA moves it).
struct Int8Levels {
  int activation = 256;
  int weight = 127;
};
const Int8Levels& int8_levels();

// Share of a tensor's (and of each channel's) values left out of its range at each end, to
// saturate: activations have long tails, and a range that holds every value spends the levels on
// a few outliers (SSIM to float32 on starry_night, chicago, 512 px, with equalised channels:
// 0.959 with every value, 0.971 without the 1e-3 tails; 1e-4 and 3e-3 measured worse).
inline constexpr double kRangeTail = 1e-3;

// The range a tensor's values were seen in (over one or more calibration passes), without the
// kRangeTail tails (from a histogram of at most 2^18 of its values).
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

// A per-channel map x' = (x - offset) * gain ([C] float32 each; undefined = identity).
struct ChannelAffine {
  torch::Tensor gain, offset;
  std::pair<torch::Tensor, torch::Tensor> resolved(int64_t channels) const;  // ones/zeros if unset
  torch::Tensor apply(const torch::Tensor& x) const;                         // x: [N, C, H, W]
};

// x (float32 [1, C, H, W], any layout) upsampled x`upsample` (nearest, 1 or 2), reflection-padded
// by `pad` px on every side, mapped by `equalise` and quantised to a quint8 channels-last tensor,
// in one pass.
torch::Tensor quantize_padded(const torch::Tensor& x, int64_t pad, int64_t upsample,
                              const AffineQuant& q, const ChannelAffine& equalise = {});
// A quint8 tensor [N, C, H, W] (channels-last) as float32 channels-last, mapped back through the
// inverse of `equalised`.
torch::Tensor dequantize_channels_last(const torch::Tensor& q, const ChannelAffine& equalised = {});

// One convolution in int8: its weights, packed for the calibrated ranges of its input and output.
//
// Channels are equalised: a per-tensor scale spends the 256 levels on the widest channel, and a
// narrow channel then has a few levels, which the instance norm after the convolution blows up
// into visible noise. Each input and output channel is mapped from its calibrated [min, max] onto
// [-1, 1], and the maps are folded into the weights and bias (the output mapped back when
// dequantised): the same function in exact arithmetic, with every channel using every level.
// (SSIM to float32, woman_with_hat on chicago at 512 px: 0.944 per tensor, 0.970 with the
// output gains alone.)
class Int8Conv {
 public:
  // weight [out, in, k, k] and bias [out] in any float dtype; `pad` is applied by reflection.
  Int8Conv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride, int64_t pad);
  // Calibration, from one float pass: the float layer's input (before upsampling) and output set
  // the gains and ranges, and the weights are packed for them.
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
  torch::Tensor weight_, bias_;  // float32
  int64_t stride_, pad_;
  c10::IValue packed_;
  ChannelAffine input_eq_, output_eq_;
  ValueRange input_, output_;
  bool calibrated_ = false, input_pinned_ = false;
};

}  // namespace pastiche
