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

// Per-output-channel symmetric int8 weights.
torch::Tensor quantize_weight(const torch::Tensor& weight) {
  const auto w = weight.to(torch::kFloat).contiguous();
  const auto scale = (w.abs().amax({1, 2, 3}) / 127.0).clamp_min(1e-8).to(torch::kDouble);
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
// every weight at -127) comes out right with `levels` activation levels.
bool exact_with_levels(int levels) {
  const int64_t c = 64;
  const auto weight = torch::full({c, c, 3, 3}, -1.0f);
  const auto packed = prepack(quantize_weight(weight), torch::zeros({c}), 1);
  const double in_scale = 1.0 / (levels - 1);
  const auto x = torch::_empty_affine_quantized({1, c, 6, 6}, torch::kQUInt8, in_scale, 0,
                                                torch::MemoryFormat::ChannelsLast);
  std::fill_n(bytes(x), x.numel(), static_cast<uint8_t>(levels - 1));
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
          prepack(quantize_weight(torch::randn({4, 4, 3, 3})), torch::zeros({4}), 1);
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

int int8_activation_levels() {
  static const int levels = [] {
    if (!int8_convolution_error().empty()) return 128;
    torch::NoGradGuard no_grad;
    return exact_with_levels(256) ? 256 : 128;
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
    const int64_t stride = std::max<int64_t>(1, flat.numel() >> 20);
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

AffineQuant affine_quant(const ValueRange& range, int levels) {
  const double lo = std::min(0.0, static_cast<double>(range.lo));
  const double hi = std::max(0.0, static_cast<double>(range.hi));
  AffineQuant q;
  q.scale = std::max(hi - lo, 1e-6) / (levels - 1);
  q.zero_point = std::clamp<int64_t>(std::llround(-lo / q.scale), 0, levels - 1);
  return q;
}

torch::Tensor quantize_padded(const torch::Tensor& x, int64_t pad, int64_t upsample,
                              const AffineQuant& q) {
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
  const float inv = static_cast<float>(1.0 / q.scale);
  const float zp = static_cast<float>(q.zero_point) + 0.5f;  // + 0.5: truncation rounds
  // The activation levels in use (zero point and scale were chosen for them).
  const float top = static_cast<float>(int8_activation_levels() - 1) + 0.5f;
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
        const float* s = src + sy * in_w * c;
        uint8_t* r = row.data();
        for (int64_t k = 0; k < in_w * c; ++k) {
          const float v = std::min(std::max(s[k] * inv + zp, 0.0f), top);
          r[k] = static_cast<uint8_t>(static_cast<int32_t>(v));
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

torch::Tensor dequantize_channels_last(const torch::Tensor& q) {
  RECORD_FUNCTION("pastiche::dequantize", std::vector<c10::IValue>({q}));
  // (contiguous() on a quantised tensor copies it even when it already is: checked instead)
  TORCH_CHECK(q.dim() == 4 && q.is_contiguous(torch::MemoryFormat::ChannelsLast),
              "dequantize_channels_last expects a channels-last [N, C, H, W] tensor");
  auto out = torch::empty(
      q.sizes(),
      torch::TensorOptions().dtype(torch::kFloat).memory_format(torch::MemoryFormat::ChannelsLast));
  const float scale = static_cast<float>(q.q_scale());
  const float zp = static_cast<float>(q.q_zero_point());
  const uint8_t* src = bytes(q);
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, q.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dst[i] = (static_cast<float>(src[i]) - zp) * scale;
  });
  return out;
}

Int8Conv::Int8Conv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride,
                   int64_t pad)
    : packed_(prepack(quantize_weight(weight), bias.to(torch::kFloat).contiguous(), stride)),
      pad_(pad) {}

void Int8Conv::observe(const torch::Tensor& input, const torch::Tensor& output) {
  if (!input_pinned_) input_.include(input);
  output_.include(output);
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
  const auto in = affine_quant(input_, int8_activation_levels());
  // The output feeds no int8 product: all 256 levels.
  const auto out = affine_quant(output_, 256);
  return dequantize_channels_last(
      quantized_conv(quantize_padded(x, pad_, upsample, in), packed_, out));
}

}  // namespace pastiche
