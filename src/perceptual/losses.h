// The perceptual losses of Gatys, Ecker & Bethge (2015), as plain functions, and their weighted
// sum: what the optimisation engine minimises and what fast networks are trained on.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "perceptual/layers.h"

namespace pastiche {

// Gram matrix of a feature map [N, C, H, W] -> [N, C, C], normalised by H*W so it does not
// depend on the image size. Works for any memory format; computed in the features' dtype (bf16
// runs on oneDNN with float32 accumulation), returned as float32.
torch::Tensor gram_matrix(const torch::Tensor& features);

// F Fᵀ for F = [N, C, HW] (any strides), without the normalisation. One mm per item: LibTorch 1.13
// sends bf16 mm (not bmm) to oneDNN. The backward pass is one mm per item whose result has F's
// layout, so a channels-last feature map gets a channels-last gradient; autograd's own backward
// (two mm's, NCHW results) would need a mixed-layout gradient sum, 3x slower than the rest.
struct GramFunction : torch::autograd::Function<GramFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& f);
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads);
};

// Relative losses: squared error divided by the target's squared norm. They are scale free, so the
// same weights work for either weight convention and any layer depth.
// content: ||F - T||^2 / ||T||^2 ; per layer, averaged over layers.
torch::Tensor content_loss(const std::map<std::string, torch::Tensor>& features,
                           const std::map<std::string, torch::Tensor>& targets,
                           const std::vector<std::string>& layers);

// style: sum over layers of w_l * ||G(F_l) - G_l||^2 / ||G_l||^2, with w normalised to sum 1.
torch::Tensor style_loss(const std::map<std::string, torch::Tensor>& features,
                         const std::map<std::string, torch::Tensor>& target_grams,
                         const std::vector<std::string>& layers,
                         const std::vector<double>& layer_weights);

// Total variation: mean squared difference of neighbouring pixels (anisotropic, both axes).
torch::Tensor tv_loss(const torch::Tensor& image);

struct PerceptualWeights {
  double content = 1, style = 1, tv = 0;
  std::vector<double> style_layers;  // one per style layer; empty = equal
};

// The weighted terms and their sum (a scalar to call backward() on).
struct PerceptualLoss {
  torch::Tensor content, style, tv, total;
};

// `features`: the loss network's activations of `image` at layers.style and layers.content;
// `content_targets`: the photo's activations at layers.content; `style_grams`: the painting's
// Gram matrices at layers.style.
PerceptualLoss perceptual_loss(const std::map<std::string, torch::Tensor>& features,
                               const torch::Tensor& image,
                               const std::map<std::string, torch::Tensor>& content_targets,
                               const std::map<std::string, torch::Tensor>& style_grams,
                               const LayerChoice& layers, const PerceptualWeights& weights);

}  // namespace pastiche
