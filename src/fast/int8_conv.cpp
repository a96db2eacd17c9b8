#include "fast/int8_conv.h"

#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace pastiche {

namespace {

// oneDNN's engine where LibTorch has it (its kernels follow ONEDNN_MAX_CPU_ISA like the float
// path); FBGEMM otherwise (LibTorch 2.x x86 builds); QNNPACK is for ARM and measured slower than
// float32 here.
std::string select_quantized_engine() {
  const auto& engines = at::globalContext().supportedQEngines();
  for (auto wanted : {at::QEngine::ONEDNN, at::QEngine::FBGEMM}) {
    if (std::find(engines.begin(), engines.end(), wanted) != engines.end()) {
      at::globalContext().setQEngine(wanted);
      return "";
    }
  }
  return "this LibTorch has no oneDNN or FBGEMM quantised engine";
}

c10::IValue prepack(const torch::Tensor& qweight, const torch::Tensor& bias, int64_t stride) {
  static const auto op =
      c10::Dispatcher::singleton().findSchemaOrThrow("quantized::conv2d_prepack", "");
  std::vector<c10::IValue> stack{qweight,
                                 bias,
                                 c10::List<int64_t>({stride, stride}),
                                 c10::List<int64_t>({0, 0}),
                                 c10::List<int64_t>({1, 1}),
                                 int64_t{1}};
  op.callBoxed(&stack);
  return stack.at(0);
}

torch::Tensor quantized_conv(const torch::Tensor& qx, const c10::IValue& packed,
                             const AffineQuant& out) {
  RECORD_FUNCTION("pastiche::quantized_conv", std::vector<c10::IValue>({qx}));
  static const auto op = c10::Dispatcher::singleton().findSchemaOrThrow("quantized::conv2d", "new");
  std::vector<c10::IValue> stack{qx, packed, out.scale, out.zero_point};
  op.callBoxed(&stack);
  return stack.at(0).toTensor();
}

// Per-output-channel symmetric int8 weights in [-top, top].
torch::Tensor quantize_weight(const torch::Tensor& weight, int top) {
  const auto w = weight.to(torch::kFloat).contiguous();
  const auto scale = (w.abs().amax({1, 2, 3}) / top).clamp_min(1e-8).to(torch::kDouble);
  return torch::quantize_per_channel(w, scale, torch::zeros({w.size(0)}, torch::kLong), 0,
                                     torch::kQInt8);
}

// Index into a reflected axis of length n (|i| < n).
inline int64_t reflect(int64_t i, int64_t n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * n - 2 - i;
  return i;
}

uint8_t* bytes(const torch::Tensor& q) {
  return reinterpret_cast<uint8_t*>(q.data_ptr<c10::quint8>());
}

// Whether a convolution made to saturate 16-bit partial sums (every input at the top level,
// every weight at the lowest) comes out right with these levels.
bool exact_with(const Int8Levels& levels) {
  const int64_t c = 64;
  const auto weight = torch::full({c, c, 3, 3}, -1.0f);
  const auto packed = prepack(quantize_weight(weight, levels.weight), torch::zeros({c}), 1);
  const double in_scale = 1.0 / (levels.activation - 1);
  const auto x = torch::_empty_affine_quantized({1, c, 6, 6}, torch::kQUInt8, in_scale, 0,
                                                torch::MemoryFormat::ChannelsLast);
  std::fill_n(bytes(x), x.numel(), static_cast<uint8_t>(levels.activation - 1));
  const double expected = -static_cast<double>(c * 9);  // every input 1, every weight -1
  const auto y = quantized_conv(x, packed, {-expected * 1.25 / 255.0, 255}).dequantize();
  const double worst = (y - expected).abs().max().item<double>();
  return worst < 0.02 * -expected;
}

}  // namespace

const std::string& int8_convolution_error() {
  static const std::string error = [] {
    try {
      auto why = select_quantized_engine();
      if (!why.empty()) return why;
      torch::NoGradGuard no_grad;
      const auto packed =
          prepack(quantize_weight(torch::randn({4, 4, 3, 3}), 127), torch::zeros({4}), 1);
      const auto x =
          torch::quantize_per_tensor(torch::rand({1, 4, 8, 8}), 1.0 / 255, 0, torch::kQUInt8)
              .contiguous(torch::MemoryFormat::ChannelsLast);
      quantized_conv(x, packed, {0.1, 128});
      return std::string();
    } catch (const std::exception& e) {
      return std::string(e.what()).substr(0, 300);
    }
  }();
  return error;
}

bool int8_by_default(const ComputeFormat& float_format, const torch::Device& device,
                     int64_t longest_side) {
  return device.is_cpu() && !float_format.bf16() && longest_side >= kInt8MinSide &&
         int8_convolution_error().empty();
}

const Int8Levels& int8_levels() {
  static const Int8Levels levels = [] {
    // Full range; else 7-bit weights (per channel, they lose less than 7-bit activations: SSIM
    // to float32 on starry_night, chicago, 512 px, AVX2 cap: 0.970 -> 0.985); else both.
    const Int8Levels choices[] = {{256, 127}, {256, 63}, {128, 127}};
    if (!int8_convolution_error().empty()) return choices[2];
    torch::NoGradGuard no_grad;
    for (const auto& c : choices) {
      if (exact_with(c)) return c;
    }
    return Int8Levels{128, 63};
  }();
  return levels;
}

void ValueRange::include(const torch::Tensor& x) {
  // A channels-last map read in memory order (aminmax would copy it to NCHW first).
  const bool nhwc =
      x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(torch::MemoryFormat::ChannelsLast);
  auto flat = (nhwc ? x.detach().permute({0, 2, 3, 1}) : x.detach().contiguous()).reshape(-1);
  const auto [mn, mx] = torch::aminmax(flat);
  float new_lo = mn.item<float>(), new_hi = mx.item<float>();
  if (new_hi > new_lo) {  // the tails beyond kRangeTail each side are left to saturate
    const int64_t bins = 4096;
    const int64_t stride = std::max<int64_t>(1, flat.numel() >> 18);
    const auto sample = flat.slice(0, 0, flat.numel(), stride).to(torch::kFloat);
    const auto cdf =
        torch::histc(sample, bins, new_lo, new_hi).cumsum(0) / static_cast<double>(sample.numel());
    const auto below = (cdf < kRangeTail).sum().item<int64_t>();
    const auto upto = (cdf < 1.0 - kRangeTail).sum().item<int64_t>() + 1;
    const float width = (new_hi - new_lo) / static_cast<float>(bins);
    new_hi = std::min(new_lo + width * static_cast<float>(upto), new_hi);
    new_lo = new_lo + width * static_cast<float>(below);
  }
  lo = std::min(lo, new_lo);
  hi = std::max(hi, new_hi);
}

std::pair<torch::Tensor, torch::Tensor> ChannelAffine::resolved(int64_t channels) const {
  if (!gain.defined()) return {torch::ones({channels}), torch::zeros({channels})};
  TORCH_CHECK(gain.numel() == channels && offset.numel() == channels, "channel map has ",
              gain.numel(), " values, not ", channels);
  return {gain.to(torch::kFloat), offset.to(torch::kFloat)};
}

torch::Tensor ChannelAffine::apply(const torch::Tensor& x) const {
  return (x - offset.view({1, -1, 1, 1})) * gain.view({1, -1, 1, 1});
}

AffineQuant affine_quant(const ValueRange& range, int levels) {
  const double lo = std::min(0.0, static_cast<double>(range.lo));
  const double hi = std::max(0.0, static_cast<double>(range.hi));
  AffineQuant q;
  q.scale = std::max(hi - lo, 1e-6) / (levels - 1);
  q.zero_point = std::clamp<int64_t>(std::llround(-lo / q.scale), 0, levels - 1);
  return q;
}

torch::Tensor quantize_padded(const torch::Tensor& x, int64_t pad, int64_t upsample,
                              const AffineQuant& q, const ChannelAffine& equalise) {
  RECORD_FUNCTION("pastiche::quantize_padded", std::vector<c10::IValue>({x}));  // for profiles
  TORCH_CHECK(x.dim() == 4 && x.size(0) == 1, "quantize_padded expects [1, C, H, W]");
  TORCH_CHECK(upsample == 1 || upsample == 2, "upsample must be 1 or 2");
  const auto in = x.to(torch::kFloat).contiguous(torch::MemoryFormat::ChannelsLast);
  const int64_t c = in.size(1), in_h = in.size(2), in_w = in.size(3);
  const int64_t h = in_h * upsample, w = in_w * upsample;
  TORCH_CHECK(pad < h && pad < w, "reflection padding of ", pad, " px needs a larger map");
  const int64_t out_h = h + 2 * pad, out_w = w + 2 * pad;
  auto out = torch::_empty_affine_quantized({1, c, out_h, out_w}, torch::kQUInt8, q.scale,
                                            q.zero_point, torch::MemoryFormat::ChannelsLast);
  // q = (x - offset) * gain / scale + zero point = x * mul + add per channel (+ 0.5: truncation
  // rounds).
  const auto [gain, offset] = equalise.resolved(c);
  const auto multiplier = (gain / q.scale).contiguous();
  const auto addend = (static_cast<double>(q.zero_point) + 0.5 - offset * multiplier).contiguous();
  const float* mul = multiplier.data_ptr<float>();
  const float* add = addend.data_ptr<float>();
  // The activation levels in use (zero point and scale were chosen for them).
  const float top = static_cast<float>(int8_levels().activation - 1) + 0.5f;
  // Source column of every output column (reflected, then down to the source resolution).
  std::vector<int64_t> source_x(static_cast<size_t>(out_w));
  for (int64_t ox = 0; ox < out_w; ++ox)
    source_x[static_cast<size_t>(ox)] = reflect(ox - pad, w) / upsample;
  const float* src = in.data_ptr<float>();
  uint8_t* dst = bytes(out);
  at::parallel_for(0, out_h, 8, [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> row(static_cast<size_t>(in_w * c));
    int64_t row_of = -1;  // the source row held in `row`
    for (int64_t oy = begin; oy < end; ++oy) {
      const int64_t sy = reflect(oy - pad, h) / upsample;
      if (sy != row_of) {  // quantise the source row once: one contiguous, vectorised loop
        for (int64_t px = 0; px < in_w; ++px) {
          const float* s = src + (sy * in_w + px) * c;
          uint8_t* r = row.data() + px * c;
          for (int64_t k = 0; k < c; ++k) {
            const float v = std::min(std::max(s[k] * mul[k] + add[k], 0.0f), top);
            r[k] = static_cast<uint8_t>(static_cast<int32_t>(v));
          }
        }
        row_of = sy;
      }
      uint8_t* d = dst + oy * out_w * c;
      if (upsample == 1) {  // the interior is the row itself
        std::memcpy(d + pad * c, row.data(), static_cast<size_t>(in_w * c));
        for (int64_t ox = 0; ox < pad; ++ox) {
          std::memcpy(d + ox * c, row.data() + source_x[static_cast<size_t>(ox)] * c,
                      static_cast<size_t>(c));
          const int64_t right = out_w - 1 - ox;
          std::memcpy(d + right * c, row.data() + source_x[static_cast<size_t>(right)] * c,
                      static_cast<size_t>(c));
        }
      } else {
        for (int64_t ox = 0; ox < out_w; ++ox)
          std::memcpy(d + ox * c, row.data() + source_x[static_cast<size_t>(ox)] * c,
                      static_cast<size_t>(c));
      }
    }
  });
  return out;
}

torch::Tensor dequantize_channels_last(const torch::Tensor& q, const ChannelAffine& equalised) {
  RECORD_FUNCTION("pastiche::dequantize", std::vector<c10::IValue>({q}));
  // (contiguous() on a quantised tensor copies it even when it already is: checked instead)
  TORCH_CHECK(q.dim() == 4 && q.is_contiguous(torch::MemoryFormat::ChannelsLast),
              "dequantize_channels_last expects a channels-last [N, C, H, W] tensor");
  auto out = torch::empty(
      q.sizes(),
      torch::TensorOptions().dtype(torch::kFloat).memory_format(torch::MemoryFormat::ChannelsLast));
  const int64_t c = q.size(1), pixels = q.numel() / c;
  // x = (q - zero point) * scale / gain + offset = q * mul + add per channel.
  const auto [gain, offset] = equalised.resolved(c);
  const auto multiplier = (q.q_scale() / gain).contiguous();
  const auto addend = (offset - static_cast<double>(q.q_zero_point()) * multiplier).contiguous();
  const float* mul = multiplier.data_ptr<float>();
  const float* add = addend.data_ptr<float>();
  const uint8_t* src = bytes(q);
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, pixels, 1 << 12, [&](int64_t begin, int64_t end) {
    for (int64_t px = begin; px < end; ++px) {
      for (int64_t k = 0; k < c; ++k)
        dst[px * c + k] = static_cast<float>(src[px * c + k]) * mul[k] + add[k];
    }
  });
  return out;
}

Int8Conv::Int8Conv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride,
                   int64_t pad)
    : weight_(weight.to(torch::kFloat).clone()),
      bias_(bias.to(torch::kFloat).clone()),
      stride_(stride),
      pad_(pad) {}

namespace {

// Per channel: the map of its range (without the kRangeTail tails) onto [-1, 1] (gain 1 for a
// constant channel).
ChannelAffine equalising(const torch::Tensor& x) {
  const int64_t c = x.size(1);
  const auto per_channel =
      x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(torch::MemoryFormat::ChannelsLast)
          ? x.permute({0, 2, 3, 1}).reshape({-1, c})
          : x.transpose(0, 1).reshape({c, -1}).t();
  // Order statistics of at most 2^14 pixels: the k-th smallest and largest of each channel
  // (topk over a [C, pixels] copy, contiguous along the pixels).
  const int64_t stride = std::max<int64_t>(1, per_channel.size(0) >> 14);
  const auto sample = per_channel.slice(0, 0, per_channel.size(0), stride).t().contiguous();
  const int64_t k =
      std::max<int64_t>(1, std::llround(kRangeTail * static_cast<double>(sample.size(1))));
  const auto hi = std::get<0>(sample.topk(k, 1, /*largest=*/true)).select(1, k - 1);
  const auto lo = std::get<0>(sample.topk(k, 1, /*largest=*/false)).select(1, k - 1);
  const auto half = (hi - lo) / 2;
  return {torch::where(half > 1e-12, 1.0 / half, torch::ones_like(half)), (hi + lo) / 2};
}

}  // namespace

void Int8Conv::observe(const torch::Tensor& input, const torch::Tensor& output) {
  const auto in = input.detach().to(torch::kFloat), out = output.detach().to(torch::kFloat);
  const int64_t c_in = in.size(1);
  input_eq_ =
      input_pinned_ ? ChannelAffine{torch::ones({c_in}), torch::zeros({c_in})} : equalising(in);
  output_eq_ = equalising(out);
  if (!input_pinned_) {
    input_ = {};
    input_.include(input_eq_.apply(in));
  }
  output_ = {};
  output_.include(output_eq_.apply(out));
  // Folded into the weights: for input x = x' / g_in + o_in and output y' = (y - o_out) * g_out,
  // W' = W * g_out[row] / g_in[column] and b' = (b + sum W * o_in - o_out) * g_out (the offset is
  // constant, so the reflection padding carries it too and the sum over the kernel is exact).
  const auto w = weight_ / input_eq_.gain.view({1, -1, 1, 1});
  const auto shifted_bias = bias_ + (weight_ * input_eq_.offset.view({1, -1, 1, 1})).sum({1, 2, 3});
  packed_ = prepack(quantize_weight(w * output_eq_.gain.view({-1, 1, 1, 1}), int8_levels().weight),
                    (shifted_bias - output_eq_.offset) * output_eq_.gain, stride_);
  calibrated_ = true;
}

void Int8Conv::pin_input_range(float lo, float hi) {
  input_ = {lo, hi};
  input_pinned_ = true;
}

void Int8Conv::reset_ranges() {
  if (!input_pinned_) input_ = {};
  output_ = {};
  calibrated_ = false;
}

torch::Tensor Int8Conv::forward(const torch::Tensor& x, int64_t upsample) const {
  if (!calibrated_) throw std::logic_error("int8 convolution used before calibration");
  const auto in = affine_quant(input_, int8_levels().activation);
  // The output feeds no int8 product: all 256 levels.
  const auto out = affine_quant(output_, 256);
  return dequantize_channels_last(
      quantized_conv(quantize_padded(x, pad_, upsample, in, input_eq_), packed_, out), output_eq_);
}

}  // namespace pastiche
