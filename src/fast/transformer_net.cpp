#include "fast/transformer_net.h"

#include "common/error.h"
#include "fast/instance_norm_kernel.h"

namespace pastiche {

namespace F = torch::nn::functional;

void TransformerNetOptions::validate() const {
  if (width < 1 || width > 256)
    throw InputError("network width must be in 1..256 (got " + std::to_string(width) + ")");
  if (res_blocks < 0 || res_blocks > 32)
    throw InputError("residual blocks must be in 0..32 (got " + std::to_string(res_blocks) + ")");
  if (styles < 1 || styles > 256)
    throw InputError("styles must be in 1..256 (got " + std::to_string(styles) + ")");
}

nlohmann::json TransformerNetOptions::to_json() const {
  return {{"width", width}, {"res_blocks", res_blocks}, {"styles", styles}};
}

TransformerNetOptions TransformerNetOptions::from_json(const nlohmann::json& j) {
  TransformerNetOptions o;
  try {
    o.width = j.at("width").get<int64_t>();
    o.res_blocks = j.at("res_blocks").get<int64_t>();
    o.styles = j.at("styles").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("network shape is malformed: ") + e.what());
  }
  o.validate();
  return o;
}

ConvLayerImpl::ConvLayerImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride)
    : padding(kernel / 2),
      conv(register_module(
          "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride)))) {}

torch::Tensor ConvLayerImpl::forward(const torch::Tensor& x, int64_t upsample) {
  if (int8_stage == Int8Stage::run) return int8->forward(x, upsample);
  // (next to int8 layers, whose output is float32, a float layer keeps the format's dtype)
  const auto in = compute_in_parameter_dtype ? x.to(conv->weight.scalar_type()) : x;
  const auto input =
      upsample == 1 ? in
                    : torch::upsample_nearest2d(in, {in.size(2) * upsample, in.size(3) * upsample});
  const auto padded = reflection_pad(input, padding);
  const auto dtype = in.scalar_type();
  const auto y = dtype == conv->weight.scalar_type()
                     ? conv(padded)
                     : torch::conv2d(padded, conv->weight.to(dtype), conv->bias.to(dtype),
                                     conv->options.stride());
  if (int8_stage == Int8Stage::calibrate) int8->observe(x, y);
  return y;
}

UpsampleConvLayerImpl::UpsampleConvLayerImpl(int64_t in, int64_t out, int64_t kernel)
    : conv(register_module("conv", ConvLayer(in, out, kernel))) {}

torch::Tensor UpsampleConvLayerImpl::forward(const torch::Tensor& x) {
  return conv(x, 2);
}

ConditionalInstanceNormImpl::ConditionalInstanceNormImpl(int64_t channels, int64_t styles)
    : gamma(register_parameter("gamma", torch::ones({styles, channels}))),
      beta(register_parameter("beta", torch::zeros({styles, channels}))) {}

namespace {

// Mean over H and W as [N, C, 1, 1], reduced in memory order: a channels-last map is a
// contiguous [N, HW, C] view, whose reduction along HW vectorises across C. (var_mean over
// dims 2, 3 takes half the network's time on channels-last input.)
torch::Tensor spatial_mean(const torch::Tensor& x) {
  const auto n = x.size(0), c = x.size(1);
  if (x.is_contiguous() || !x.is_contiguous(torch::MemoryFormat::ChannelsLast))
    return x.mean({2, 3}, /*keepdim=*/true);
  return x.permute({0, 2, 3, 1}).reshape({n, -1, c}).mean(1).view({n, c, 1, 1});
}

constexpr bool kThenReLU = true;

}  // namespace

torch::Tensor ConditionalInstanceNormImpl::forward(const torch::Tensor& x,
                                                   const torch::Tensor& style, NormStats* stats,
                                                   bool relu) {
  const int64_t n = x.size(0), c = x.size(1);
  // Mixed per-style affine parameters: [N or 1, C].
  const auto g = style.to(torch::kFloat).matmul(gamma.to(torch::kFloat)).reshape({-1, c});
  const auto b = style.to(torch::kFloat).matmul(beta.to(torch::kFloat)).reshape({-1, c});
  const bool replay = stats && stats->mode == NormStats::Mode::replay;
  if (replay && stats->next >= stats->mean.size())
    throw std::logic_error("instance-norm statistics exhausted (network changed?)");

  const bool autograd =
      torch::GradMode::is_enabled() && (x.requires_grad() || gamma.requires_grad());
  torch::Tensor mean, var;  // replayed as recorded: [N, C, 1, 1], either path's dtype
  if (replay) {
    mean = stats->mean[stats->next];
    var = stats->var[stats->next];
    ++stats->next;
  }
  if (!autograd && fused_norm_supported(x)) {
    if (replay) {  // the kernels take float32 [N, C]
      mean = mean.to(torch::kFloat).reshape({-1, c});
      var = var.to(torch::kFloat).reshape({-1, c});
    } else {
      std::tie(mean, var) = spatial_mean_var(x);
      if (stats) {
        stats->mean.push_back(mean.view({n, c, 1, 1}));
        stats->var.push_back(var.view({n, c, 1, 1}));
      }
    }
    // y = (x - mean) / sqrt(var + eps) * g + b = x * scale + (b - mean * scale), in float32.
    const auto scale = g * torch::rsqrt(var + kEps);
    return scale_shift(x, scale, b - mean * scale, relu);
  }

  const auto dtype = x.scalar_type();
  torch::Tensor centred;
  if (replay) {
    centred = x - mean.to(dtype);
  } else {
    // Two passes (centre, then the mean square): exact enough in bf16, where E[x^2] - E[x]^2
    // would cancel.
    mean = spatial_mean(x);
    centred = x - mean;
    var = spatial_mean(centred * centred);
    if (stats) {
      stats->mean.push_back(mean.detach());
      stats->var.push_back(var.detach());
    }
  }
  const auto scale =
      (g * torch::rsqrt(var.to(torch::kFloat).reshape({-1, c}) + kEps)).reshape({-1, c, 1, 1});
  // y = (x - mean) / sqrt(var + eps) * g + b
  auto y = torch::addcmul(b.reshape({-1, c, 1, 1}).to(dtype), centred, scale.to(dtype));
  return relu ? y.relu_() : y;
}

ResidualBlockImpl::ResidualBlockImpl(int64_t channels, int64_t styles)
    : conv1(register_module("conv1", ConvLayer(channels, channels, 3))),
      conv2(register_module("conv2", ConvLayer(channels, channels, 3))),
      in1(register_module("in1", ConditionalInstanceNorm(channels, styles))),
      in2(register_module("in2", ConditionalInstanceNorm(channels, styles))) {}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& style,
                                         NormStats* stats) {
  auto y = in1(conv1(x), style, stats, kThenReLU);
  return x + in2(conv2(y), style, stats);
}

TransformerNetImpl::TransformerNetImpl(const TransformerNetOptions& options) : options_(options) {
  options_.validate();
  const int64_t w = options_.width, s = options_.styles;
  conv1 = register_module("conv1", ConvLayer(3, w, 9));
  in1 = register_module("in1", ConditionalInstanceNorm(w, s));
  conv2 = register_module("conv2", ConvLayer(w, 2 * w, 3, 2));
  in2 = register_module("in2", ConditionalInstanceNorm(2 * w, s));
  conv3 = register_module("conv3", ConvLayer(2 * w, 4 * w, 3, 2));
  in3 = register_module("in3", ConditionalInstanceNorm(4 * w, s));
  res = register_module("res", torch::nn::ModuleList());
  for (int64_t i = 0; i < options_.res_blocks; ++i) res->push_back(ResidualBlock(4 * w, s));
  up1 = register_module("up1", UpsampleConvLayer(4 * w, 2 * w, 3));
  in4 = register_module("in4", ConditionalInstanceNorm(2 * w, s));
  up2 = register_module("up2", UpsampleConvLayer(2 * w, w, 3));
  in5 = register_module("in5", ConditionalInstanceNorm(w, s));
  conv_out = register_module("conv_out", ConvLayer(w, 3, 9));
}

torch::Tensor TransformerNetImpl::body(const torch::Tensor& x, const torch::Tensor& style,
                                       NormStats* stats) {
  auto y = in1(conv1(x), style, stats, kThenReLU);
  y = in2(conv2(y), style, stats, kThenReLU);
  y = in3(conv3(y), style, stats, kThenReLU);
  for (const auto& block : *res) y = block->as<ResidualBlock>()->forward(y, style, stats);
  y = in4(up1(y), style, stats, kThenReLU);
  y = in5(up2(y), style, stats, kThenReLU);
  return torch::sigmoid(conv_out(y));
}

torch::Tensor TransformerNetImpl::forward(const torch::Tensor& x, const torch::Tensor& style,
                                          NormStats* stats) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 3, "TransformerNet expects [N, 3, H, W], got ",
              x.sizes());
  auto weights = style.defined() ? style.to(torch::kFloat) : style_vector(0).to(x.device());
  TORCH_CHECK(weights.size(-1) == options_.styles, "style weights have ", weights.size(-1),
              " entries, the network has ", options_.styles, " styles");
  // Pad bottom/right to a multiple of the stride (at least 8 px so the 9x9 reflection fits).
  const int64_t h = x.size(2), w = x.size(3);
  auto padded_size = [](int64_t n) {
    return std::max<int64_t>(
        8, (n + kTransformerStride - 1) / kTransformerStride * kTransformerStride);
  };
  const int64_t pad_h = padded_size(h) - h, pad_w = padded_size(w) - w;
  if (pad_h == 0 && pad_w == 0) return body(x, weights, stats);
  const bool reflect = pad_h < h && pad_w < w;
  F::PadFuncOptions::mode_t mode = torch::kReplicate;
  if (reflect) mode = torch::kReflect;
  // LibTorch 1.13's pad kernels have no bf16: pad the 3-channel input in float32.
  auto padded = F::pad(x.to(torch::kFloat), F::PadFuncOptions({0, pad_w, 0, pad_h}).mode(mode))
                    .to(x.scalar_type())
                    .contiguous(x.suggest_memory_format());
  return body(padded, weights, stats).slice(2, 0, h).slice(3, 0, w);
}

torch::Tensor TransformerNetImpl::style_vector(int64_t index) const {
  TORCH_CHECK(index >= 0 && index < options_.styles, "style index out of range");
  auto v = torch::zeros({options_.styles});
  v[index] = 1.0;
  return v;
}

std::vector<ConvLayerImpl*> TransformerNetImpl::conv_layers() {
  std::vector<ConvLayerImpl*> layers{conv1.get(), conv2.get(), conv3.get()};
  for (const auto& block : *res) {
    auto* r = block->as<ResidualBlock>();
    layers.push_back(r->conv1.get());
    layers.push_back(r->conv2.get());
  }
  for (auto* layer : {up1->conv.get(), up2->conv.get(), conv_out.get()}) layers.push_back(layer);
  return layers;
}

void TransformerNetImpl::set_int8(bool on) {
  if (on && !int8_) {
    if (!int8_convolution_error().empty())
      throw InputError("int8 convolutions do not run here: " + int8_convolution_error() +
                       " (use int8 = off)");
    torch::NoGradGuard no_grad;
    for (auto* layer : conv_layers()) {
      // The two downsampling convolutions stay float: their error enters the low-resolution
      // trunk, where every residual block amplifies it (SSIM to float32 0.971 -> 0.987 on
      // starry_night, chicago, 512 px; together they are ~5 % of the arithmetic).
      if (layer == conv2.get() || layer == conv3.get()) {
        layer->compute_in_parameter_dtype = true;
        continue;
      }
      layer->int8 =
          std::make_unique<Int8Conv>(layer->conv->weight, layer->conv->bias,
                                     layer->conv->options.stride()->at(0), layer->padding);
    }
    conv1->int8->pin_input_range(0, 1);
  }
  int8_ = on;
  if (!on) set_int8_stage(Int8Stage::off);
}

void TransformerNetImpl::set_int8_stage(Int8Stage stage) {
  if (!int8_) stage = Int8Stage::off;
  for (auto* layer : conv_layers()) {
    if (!layer->int8) continue;  // a layer kept in float (set_int8)
    if (stage == Int8Stage::calibrate) layer->int8->reset_ranges();
    layer->int8_stage = stage;
  }
}

bool TransformerNetImpl::int8_calibration_kept() {
  if (!keep_int8_calibration_ || !int8_) return false;
  for (auto* layer : conv_layers()) {
    if (layer->int8 && (!layer->int8->calibrated() || layer->int8_stage != Int8Stage::run))
      return false;
  }
  return true;
}

int64_t TransformerNetImpl::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace pastiche
