#include "vgg/vgg.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "common/error.h"
#include "common/safetensors.h"
#include "vgg/weights_layout.h"

namespace pastiche {

namespace {

// ImageNet statistics of the two conventions.
constexpr float kTorchvisionMean[3] = {0.485f, 0.456f, 0.406f};  // RGB
constexpr float kTorchvisionStd[3] = {0.229f, 0.224f, 0.225f};
constexpr float kCaffeMeanBgr[3] = {103.939f, 116.779f, 123.68f};  // B, G, R in 0-255

// 2x2/2 max pooling whose backward pass routes the gradient by comparing the input with the
// upsampled output instead of saving int64 argmax indices: those are as large as a bf16 feature
// map four times over (bench/RESULTS.md, Gatys, peak memory). Both tensors it keeps are kept anyway
// (the ReLU's output for its own backward, the pooled map as the next convolution's input). Ties in
// a window share the gradient; after a ReLU the common tie is at 0, where the ReLU's backward
// zeroes it again.
struct MaxPool2x2 : torch::autograd::Function<MaxPool2x2> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    auto y = torch::max_pool2d(x, {2, 2}, {2, 2});
    ctx->save_for_backward({x, y});
    return y;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& y = saved[1];
    const std::vector<int64_t> even{2 * y.size(2), 2 * y.size(3)};
    const auto window = x.slice(2, 0, even[0]).slice(3, 0, even[1]);
    const auto winner = window.eq(torch::upsample_nearest2d(y, even));
    auto grad = torch::upsample_nearest2d(grads[0].to(x.scalar_type()), even).mul_(winner);
    if (even[0] == x.size(2) && even[1] == x.size(3)) return {grad};
    auto full = torch::zeros_like(x);  // odd sizes: the last row/column never wins
    full.slice(2, 0, even[0]).slice(3, 0, even[1]).copy_(grad);
    return {full};
  }
};

}  // namespace

VggImpl::VggImpl(const std::string& weights_path, PoolKind pool) : pool_(pool) {
  const vgg_internal::WeightsLayout inspection = vgg_internal::inspect_layout(weights_path);
  info_ = inspection.info;
  SafeTensors weights = read_safetensors(weights_path);
  const auto specs = vgg_internal::conv_specs(info_.arch);
  torch::NoGradGuard no_grad;
  for (int i = 0; i < info_.conv_layers; ++i) {
    const vgg_internal::ConvSpec& spec = specs[i];
    const vgg_internal::FoundConv& keys = inspection.keys[i];
    torch::Tensor w = weights.tensors.at(keys.weight_key).to(torch::kFloat);
    torch::Tensor b = weights.tensors.at(keys.bias_key).to(torch::kFloat);
    if (info_.convention == WeightConvention::caffe) w = w.permute({3, 2, 0, 1});  // HWIO -> OIHW
    auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(spec.in, spec.out, 3).padding(1));
    conv->weight.copy_(w);
    conv->bias.copy_(b);
    conv->weight.set_requires_grad(false);
    conv->bias.set_requires_grad(false);
    conv_names_.push_back(spec.name());
    convs_.push_back(register_module(spec.name(), conv));
  }
  torch::Tensor mean, scale;
  if (info_.convention == WeightConvention::torchvision) {
    mean = torch::tensor({kTorchvisionMean[0], kTorchvisionMean[1], kTorchvisionMean[2]});
    scale = 1.0 / torch::tensor({kTorchvisionStd[0], kTorchvisionStd[1], kTorchvisionStd[2]});
  } else {
    // Applied after the flip to BGR: (bgr - mean/255) * 255 = bgr*255 - mean.
    mean = torch::tensor({kCaffeMeanBgr[0], kCaffeMeanBgr[1], kCaffeMeanBgr[2]}) / 255.0;
    scale = torch::full({3}, 255.0f);
  }
  mean_ = register_buffer("mean", mean.view({1, 3, 1, 1}));
  scale_ = register_buffer("scale", scale.view({1, 3, 1, 1}));
  eval();
}

bool VggImpl::has_layer(const std::string& name) const {
  return std::find(info_.available.begin(), info_.available.end(), name) != info_.available.end();
}

void VggImpl::check_layers(const std::vector<std::string>& names) const {
  const auto all = vgg_layer_names(info_.arch);
  for (const auto& name : names) {
    if (std::find(all.begin(), all.end(), name) == all.end()) {
      throw InputError(name + " is not a " + vgg_internal::upper(to_string(info_.arch)) +
                       " layer (layers are " + all.front() + " … " + all.back() + ")");
    }
    if (!has_layer(name)) {
      const std::string arch = to_string(info_.arch);
      throw InputError("layer " + name + " is not in " + vgg_internal::file_name(info_.path) +
                       " (available: " + available_range(info_) +
                       "); use --style-layers/--content-layers or full weights from `pastiche "
                       "weights fetch " +
                       arch + "`");
    }
  }
}

torch::Tensor VggImpl::preprocess(const torch::Tensor& rgb) const {
  torch::Tensor x = info_.convention == WeightConvention::caffe ? rgb.flip({1}) : rgb;
  return (x - mean_) * scale_;
}

const VggImpl::ConvWeights& VggImpl::weights_for(torch::ScalarType dtype) {
  std::lock_guard<std::mutex> lock(converted_mutex_);
  auto& slot = converted_[dtype];
  const auto device = convs_.empty() ? torch::Device(torch::kCPU) : convs_.front()->weight.device();
  if (slot.weight.size() != convs_.size() ||
      (!slot.weight.empty() && slot.weight.front().device() != device)) {
    slot = {};
    for (const auto& conv : convs_) {
      slot.weight.push_back(conv->weight.detach().to(dtype));
      slot.bias.push_back(conv->bias.detach().to(dtype));
    }
  }
  return slot;
}

std::map<std::string, torch::Tensor> VggImpl::forward(const torch::Tensor& rgb,
                                                      const std::vector<std::string>& layers,
                                                      torch::ScalarType compute) {
  if (rgb.dim() != 4 || rgb.size(1) != 3) {
    throw std::invalid_argument("Vgg::forward expects an N×3×H×W RGB tensor, got " +
                                vgg_internal::shape_string(rgb.sizes().vec()));
  }
  check_layers(layers);
  std::map<std::string, torch::Tensor> out;
  if (layers.empty()) return out;
  const auto order = vgg_layer_names(info_.arch);
  size_t deepest = 0;
  for (const auto& name : layers) {
    deepest = std::max(
        deepest, static_cast<size_t>(std::find(order.begin(), order.end(), name) - order.begin()));
  }
  const bool channels_last =
      !rgb.is_contiguous() && rgb.is_contiguous(torch::MemoryFormat::ChannelsLast);
  const auto format =
      channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  const std::set<std::string> wanted(layers.begin(), layers.end());

  const ConvWeights* lowered = compute == torch::kFloat ? nullptr : &weights_for(compute);
  torch::Tensor x = preprocess(rgb).contiguous(format).to(compute);
  size_t conv = 0;
  for (size_t i = 0; i <= deepest; ++i) {
    const std::string& name = order[i];
    if (name.rfind("conv", 0) == 0) {
      x = lowered ? torch::conv2d(x, lowered->weight[conv], lowered->bias[conv], 1, 1)
                  : convs_[conv]->forward(x);
      ++conv;
    } else if (name.rfind("relu", 0) == 0) {
      // In place unless the conv output itself was requested: convolution backward does not need
      // its output, so this saves one activation-sized buffer per layer.
      x = wanted.count(order[i - 1]) ? torch::relu(x) : torch::relu_(x);
    } else {
      x = pool_ == PoolKind::avg ? torch::avg_pool2d(x, {2, 2}, {2, 2})
          : x.requires_grad()    ? MaxPool2x2::apply(x)
                                 : torch::max_pool2d(x, {2, 2}, {2, 2});
    }
    if (wanted.count(name)) out[name] = x;
  }
  return out;
}

}  // namespace pastiche
