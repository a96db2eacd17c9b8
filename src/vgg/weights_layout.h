// Internal to vgg/: how VGG16/VGG19 weights sit in a safetensors file. A file is classified once
// (architecture, naming convention, how many convolutions it holds as a prefix of the network)
// and the tensor names of each present convolution are kept, so the network module reads the
// weights without knowing either convention's names.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vgg/vgg.h"

namespace pastiche::vgg_internal {

// One convolution of an architecture.
struct ConvSpec {
  int block = 0;          // 1-based
  int index = 0;          // 1-based within the block
  int feature_index = 0;  // position in torchvision's features Sequential
  int64_t in = 0, out = 0;
  std::string name() const { return "conv" + std::to_string(block) + "_" + std::to_string(index); }
  std::string caffe_name() const {
    return "block" + std::to_string(block) + "_conv" + std::to_string(index);
  }
};
std::vector<ConvSpec> conv_specs(VggArch arch);  // in network order

// One convolution's tensors as found in a file.
struct FoundConv {
  std::string weight_key, bias_key;
};

// The classification plus the tensor names of each present convolution, in order.
struct WeightsLayout {
  VggWeightsInfo info;
  std::vector<FoundConv> keys;
};

// Reads only the header; throws InputError as inspect_vgg_weights() documents.
WeightsLayout inspect_layout(const std::string& path);

std::string upper(std::string s);
std::string file_name(const std::string& path);               // without the folders
std::string shape_string(const std::vector<int64_t>& shape);  // "[64, 3, 3, 3]"

}  // namespace pastiche::vgg_internal
