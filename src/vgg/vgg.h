// The VGG loss network (Simonyan & Zisserman 2014) as a stack of named feature layers
// (conv1_1, relu1_1, ..., pool1, ...). Loads VGG16/VGG19 weights from safetensors in either
// convention and applies that convention's preprocessing inside, so callers always pass RGB in
// [0, 1], NCHW float.
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pastiche {

enum class VggArch { vgg16, vgg19 };
// torchvision/timm: names features.N.weight (OIHW), input RGB 0-1 normalised by ImageNet mean/std.
// caffe (Keras export): names blockB_convC/kernel (HWIO), input BGR 0-255 minus the BGR mean.
enum class WeightConvention { torchvision, caffe };
enum class PoolKind { max, avg };

std::string to_string(VggArch arch);
std::string to_string(WeightConvention convention);

// All layer names of an architecture in network order: conv1_1, relu1_1, conv1_2, relu1_2, pool1,
// ...
std::vector<std::string> vgg_layer_names(VggArch arch);

struct VggWeightsInfo {
  std::string path;
  VggArch arch = VggArch::vgg19;
  bool arch_inferred = false;  // true when a partial file fits both (first blocks only)
  WeightConvention convention = WeightConvention::torchvision;
  int conv_layers = 0;                 // convolutions present, as a prefix of the network
  std::vector<std::string> available;  // every layer name computable with these weights, in order
  bool complete() const;               // all convolutions of the architecture present
};

// Compact description of the available layers of a kind ("relu" by default), e.g.
// "relu1_1 … relu3_4"; "none" when there are none.
std::string available_range(const VggWeightsInfo& info, const std::string& kind = "relu");

// Reads only the header and classifies the file. Throws InputError when the file is not VGG
// weights (names neither convention), when convolutions are missing in the middle of the network,
// or when shapes disagree with the architecture.
VggWeightsInfo inspect_vgg_weights(const std::string& path);

class VggImpl : public torch::nn::Module {
 public:
  VggImpl(const std::string& weights_path, PoolKind pool = PoolKind::max);

  const VggWeightsInfo& info() const { return info_; }
  bool has_layer(const std::string& name) const;
  // Throws InputError naming the first missing or unknown layer and the available range, e.g.
  // "layer relu4_1 is not in vgg19-keras-partial.safetensors (available: relu1_1 … relu3_4)".
  void check_layers(const std::vector<std::string>& names) const;

  // Feature maps at the requested layers, running the network only up to the deepest of them.
  // Input: RGB [0,1] NCHW float on the module's device. Output in the input's memory format.
  // `compute` is the dtype the convolutions run in: kBFloat16 roughly doubles CPU throughput on
  // processors with AVX512-BF16 (10x with AMX on channels-last input). Preprocessing stays
  // float32; features come back in `compute`, so bf16 Gram matrices run on oneDNN too.
  std::map<std::string, torch::Tensor> forward(const torch::Tensor& rgb,
                                               const std::vector<std::string>& layers,
                                               torch::ScalarType compute = torch::kFloat);

  // RGB [0,1] -> what the weights expect (exposed for tests).
  torch::Tensor preprocess(const torch::Tensor& rgb) const;

 private:
  VggWeightsInfo info_;
  PoolKind pool_;
  std::vector<std::string> conv_names_;  // conv1_1 ... in order (present ones)
  std::vector<torch::nn::Conv2d> convs_;
  // Conv weights converted to a lower-precision compute dtype, made on first use.
  struct ConvWeights {
    std::vector<torch::Tensor> weight, bias;
  };
  const ConvWeights& weights_for(torch::ScalarType dtype);
  std::map<torch::ScalarType, ConvWeights> converted_;
  std::mutex converted_mutex_;
  torch::Tensor mean_, scale_;  // preprocessing, shaped [1,3,1,1]
};
TORCH_MODULE(Vgg);

// Default weights location: $PASTICHE_VGG if set, else the first existing of
// $PASTICHE_MODELS_DIR/vgg19*.safetensors, ~/.local/share/pastiche/models/, ./models/, and
// ../shared/models/ relative to the working directory and to the source tree. Empty if none.
std::string default_vgg_weights_path();

}  // namespace pastiche
