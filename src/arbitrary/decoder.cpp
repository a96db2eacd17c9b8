#include "arbitrary/decoder.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace pastiche {

namespace {

size_t layer_index(const std::string& layer) {
  const auto it = std::find(kArbitraryLayers.begin(), kArbitraryLayers.end(), layer);
  if (it == kArbitraryLayers.end()) throw std::logic_error("not an arbitrary layer: " + layer);
  return static_cast<size_t>(it - kArbitraryLayers.begin());
}

}  // namespace

void check_arbitrary_layer(const std::string& layer, const std::string& field) {
  if (std::find(kArbitraryLayers.begin(), kArbitraryLayers.end(), layer) == kArbitraryLayers.end())
    throw InputError(field + ": '" + layer +
                     "' is not a decoder layer (relu3_1, relu2_1, relu1_1)");
}

int64_t arbitrary_layer_channels(const std::string& layer) {
  return int64_t{256} >> layer_index(layer);
}

int64_t arbitrary_layer_stride(const std::string& layer) {
  return kArbitraryStride >> layer_index(layer);
}

std::vector<std::string> arbitrary_feature_layers(const std::string& layer) {
  std::vector<std::string> layers(kArbitraryLayers.begin() + layer_index(layer),
                                  kArbitraryLayers.end());
  std::reverse(layers.begin(), layers.end());
  return layers;
}

void DecoderOptions::validate() const {
  check_arbitrary_layer(layer, "layer");
  if (width < 4 || width > 256) throw InputError("width: must be between 4 and 256");
  if (!(input_scale > 0) || !std::isfinite(input_scale))
    throw InputError("input_scale: must be a positive number");
}

nlohmann::json DecoderOptions::to_json() const {
  return {{"layer", layer}, {"width", width}, {"input_scale", input_scale}};
}

DecoderOptions DecoderOptions::from_json(const nlohmann::json& j) {
  DecoderOptions o;
  try {
    o.layer = j.value("layer", std::string(kArbitraryLayer));
    o.width = j.at("width").get<int64_t>();
    o.input_scale = j.value("input_scale", 1.0);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("decoder: malformed description (") + e.what() + ")");
  }
  check_arbitrary_layer(o.layer, "decoder");
  o.validate();
  return o;
}

DecoderImpl::DecoderImpl(const DecoderOptions& options) : options_(options) {
  options_.validate();
  const int64_t w = options_.width;
  const int64_t in = arbitrary_layer_channels(options_.layer);
  if (options_.layer == "relu3_1") {
    conv3 = register_module("conv3", ConvLayer(in, 2 * w, 3));
    conv2a = register_module("conv2a", ConvLayer(2 * w, 2 * w, 3));
    conv2b = register_module("conv2b", ConvLayer(2 * w, w, 3));
  } else if (options_.layer == "relu2_1") {
    conv2b = register_module("conv2b", ConvLayer(in, w, 3));
  }
  if (options_.layer != "relu1_1") conv1a = register_module("conv1a", ConvLayer(w, w, 3));
  conv_out = register_module("conv_out", ConvLayer(options_.layer == "relu1_1" ? in : w, 3, 3));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& features) {
  auto up = [](const torch::Tensor& x) {
    return torch::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2});
  };
  auto x = options_.input_scale == 1.0 ? features : features * options_.input_scale;
  if (conv3) {
    x = up(torch::relu(conv3(x)));
    x = torch::relu(conv2a(x));
  }
  if (conv2b) x = up(torch::relu(conv2b(x)));
  if (conv1a) x = torch::relu(conv1a(x));
  return conv_out(x);
}

int64_t DecoderImpl::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace pastiche
