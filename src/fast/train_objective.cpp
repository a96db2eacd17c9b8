#include "fast/train_objective.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/error.h"
#include "image/image_io.h"
#include "image/tensor_convert.h"
#include "perceptual/layers.h"

namespace pastiche {

namespace {

std::vector<std::string> union_of(const std::vector<std::string>& a,
                                  const std::vector<std::string>& b) {
  std::vector<std::string> out = a;
  for (const auto& x : b)
    if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  return out;
}

}  // namespace

TrainObjective::TrainObjective(const TrainOptions& options) : options_(options) {
  options_.validate();
  const auto vgg_path = options_.vgg.empty() ? default_vgg_weights_path() : options_.vgg;
  if (vgg_path.empty())
    throw InputError("no VGG weights found; give --vgg FILE or set PASTICHE_VGG");
  vgg_ = Vgg(vgg_path);
  vgg_->eval();
  for (auto& p : vgg_->parameters()) p.set_requires_grad(false);

  const auto choice = choose_layers(vgg_, options_.style_layers, options_.content_layers);
  style_layers_ = choice.style;
  content_layers_ = choice.content;
  note_ = choice.note;
  const auto& layer_weights = options_.style_layer_weights;
  if (!layer_weights.empty() && layer_weights.size() != style_layers_.size())
    throw InputError("style-layer-weights needs one weight per style layer (" +
                     join_names(style_layers_) + ")");
  all_layers_ = union_of(style_layers_, content_layers_);

  format_ = resolve_compute_format(options_.precision, options_.layout, device_);
  const int style_side = options_.style_size > 0 ? options_.style_size : options_.size;
  torch::NoGradGuard no_grad;
  for (const auto& spec : options_.styles) {
    cv::Mat image;
    try {
      image = load_image(spec.image);
    } catch (const InputError& e) {
      throw InputError("cannot load style image '" + spec.image + "': " + e.what());
    }
    style_images_.push_back(image);
    // Targets in float32 whatever the training precision.
    const auto x = image_to_tensor(resize_longest(image, style_side), device_)
                       .contiguous(format_.memory_format());
    const auto features = vgg_->forward(x, style_layers_);
    std::map<std::string, torch::Tensor> grams;
    for (const auto& layer : style_layers_) grams[layer] = gram_matrix(features.at(layer));
    style_grams_.push_back(std::move(grams));
  }
}

torch::Tensor TrainObjective::input(const torch::Tensor& photos) const {
  return format_.apply(photos.to(device_));
}

PerceptualLoss TrainObjective::loss(const torch::Tensor& output, const torch::Tensor& input,
                                    int64_t style) {
  std::map<std::string, torch::Tensor> content_targets;
  {
    torch::NoGradGuard no_grad;
    content_targets = vgg_->forward(input.to(torch::kFloat), content_layers_, format_.dtype);
  }
  const auto features = vgg_->forward(output, all_layers_, format_.dtype);
  return perceptual_loss(features, output, content_targets,
                         style_grams_.at(static_cast<size_t>(style)),
                         {style_layers_, content_layers_, ""},
                         {options_.content_weight, options_.style_weight, options_.tv_weight,
                          options_.style_layer_weights});
}

StepLosses TrainObjective::values(const PerceptualLoss& loss) {
  StepLosses out;
  out.content = loss.content.item<double>();
  out.style = loss.style.item<double>();
  out.tv = loss.tv.item<double>();
  out.total = out.content + out.style + out.tv;
  if (!std::isfinite(out.total))
    throw std::runtime_error("training diverged (loss is not finite); lower --lr");
  return out;
}

}  // namespace pastiche
