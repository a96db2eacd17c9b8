#include "perceptual/losses.h"

#include "common/error.h"
#include "common/runtime.h"

namespace pastiche {

namespace {

const torch::Tensor& lookup(const std::map<std::string, torch::Tensor>& tensors,
                            const std::string& layer, const char* what) {
  auto it = tensors.find(layer);
  if (it == tensors.end())
    throw std::logic_error(std::string("no ") + what + " for layer " + layer);
  return it->second;
}

// ||a - b||^2 / ||b||^2 per batch item, averaged over the batch; b broadcasts over the batch.
// Computed in float32 whatever the features' dtype.
torch::Tensor relative_error(const torch::Tensor& value, const torch::Tensor& target) {
  const auto batch = value.size(0);
  const auto t = target.to(torch::kFloat);
  const auto squared = (value.to(torch::kFloat) - t).pow(2).sum();
  const auto norm = t.pow(2).sum() * (static_cast<double>(batch) / target.size(0));
  return squared / norm.clamp_min(1e-12);
}

// The dtype the Gram products run in. A bf16 product is only trusted on CUDA or on a CPU with bf16
// instructions, where oneDNN accumulates in float32; elsewhere LibTorch 1.13's fallback gemm
// accumulates a transposed (channels-last) product in bf16, so long sums stop growing (a 27% error
// on a 32x32 map) and it runs ~30x slower than float32. Such products are computed in float32.
torch::ScalarType product_dtype(const torch::Tensor& f) {
  if (f.scalar_type() != torch::kBFloat16 || !f.device().is_cpu() || cpu_has_native_bf16())
    return f.scalar_type();
  return torch::kFloat;
}

}  // namespace

torch::Tensor GramFunction::forward(torch::autograd::AutogradContext* ctx,
                                    const torch::Tensor& features) {
  ctx->save_for_backward({features});
  const auto f = features.to(product_dtype(features));  // keeps the strides
  const auto n = f.size(0), c = f.size(1);
  auto gram = torch::empty({n, c, c}, f.options());
  for (int64_t i = 0; i < n; ++i) {
    auto out = gram[i];
    torch::mm_out(out, f[i], f[i].t());
  }
  return gram;
}

torch::autograd::tensor_list GramFunction::backward(torch::autograd::AutogradContext* ctx,
                                                    torch::autograd::tensor_list grads) {
  const auto features = ctx->get_saved_variables()[0];
  const auto f = features.to(product_dtype(features));
  const auto grad = grads[0].to(f.scalar_type());
  auto df = torch::empty_like(f);  // same strides as f
  for (int64_t i = 0; i < f.size(0); ++i) {
    const auto sym = grad[i] + grad[i].t();  // d(F Fᵀ)/dF = (G' + G'ᵀ) F
    auto out = df[i];
    if (f.stride(1) == 1) {
      auto out_t = out.t();
      torch::mm_out(out_t, f[i].t(), sym);  // channels-last: [HW, C] = [HW, C] [C, C]
    } else {
      torch::mm_out(out, sym, f[i]);  // NCHW: [C, HW] = [C, C] [C, HW]
    }
  }
  return {df.to(features.scalar_type())};
}

torch::Tensor gram_matrix(const torch::Tensor& features) {
  TORCH_CHECK(features.dim() == 4, "gram_matrix expects [N, C, H, W], got ", features.sizes());
  const auto n = features.size(0), c = features.size(1);
  const auto hw = features.size(2) * features.size(3);
  // A view for either memory format: channels-last items are [C, HW] views of [HW, C] buffers.
  const auto f = features.reshape({n, c, hw});
  return GramFunction::apply(f).to(torch::kFloat).div(static_cast<double>(hw));
}

torch::Tensor content_loss(const std::map<std::string, torch::Tensor>& features,
                           const std::map<std::string, torch::Tensor>& targets,
                           const std::vector<std::string>& layers) {
  TORCH_CHECK(!layers.empty(), "content_loss needs at least one layer");
  torch::Tensor total;
  for (const auto& layer : layers) {
    auto term = relative_error(lookup(features, layer, "features"),
                               lookup(targets, layer, "content target"));
    total = total.defined() ? total + term : term;
  }
  return total / static_cast<double>(layers.size());
}

torch::Tensor style_loss(const std::map<std::string, torch::Tensor>& features,
                         const std::map<std::string, torch::Tensor>& target_grams,
                         const std::vector<std::string>& layers,
                         const std::vector<double>& layer_weights) {
  TORCH_CHECK(!layers.empty(), "style_loss needs at least one layer");
  TORCH_CHECK(layer_weights.empty() || layer_weights.size() == layers.size(),
              "style_loss: one weight per layer expected");
  double weight_sum = 0;
  for (size_t i = 0; i < layers.size(); ++i)
    weight_sum += layer_weights.empty() ? 1.0 : layer_weights[i];
  TORCH_CHECK(weight_sum > 0, "style_loss: layer weights must not all be zero");
  torch::Tensor total;
  for (size_t i = 0; i < layers.size(); ++i) {
    const double w = (layer_weights.empty() ? 1.0 : layer_weights[i]) / weight_sum;
    if (w == 0) continue;
    auto term = relative_error(gram_matrix(lookup(features, layers[i], "features")),
                               lookup(target_grams, layers[i], "style target")) *
                w;
    total = total.defined() ? total + term : term;
  }
  return total;
}

torch::Tensor tv_loss(const torch::Tensor& image) {
  using torch::indexing::Slice;
  const auto dx = image.index({Slice(), Slice(), Slice(), Slice(1, torch::indexing::None)}) -
                  image.index({Slice(), Slice(), Slice(), Slice(torch::indexing::None, -1)});
  const auto dy = image.index({Slice(), Slice(), Slice(1, torch::indexing::None), Slice()}) -
                  image.index({Slice(), Slice(), Slice(torch::indexing::None, -1), Slice()});
  return dx.pow(2).mean() + dy.pow(2).mean();
}

PerceptualLoss perceptual_loss(const std::map<std::string, torch::Tensor>& features,
                               const torch::Tensor& image,
                               const std::map<std::string, torch::Tensor>& content_targets,
                               const std::map<std::string, torch::Tensor>& style_grams,
                               const LayerChoice& layers, const PerceptualWeights& weights) {
  PerceptualLoss out;
  out.content = content_loss(features, content_targets, layers.content) * weights.content;
  out.style = style_loss(features, style_grams, layers.style, weights.style_layers) * weights.style;
  out.tv = tv_loss(image) * weights.tv;
  out.total = out.content + out.style + out.tv;
  return out;
}

}  // namespace pastiche
