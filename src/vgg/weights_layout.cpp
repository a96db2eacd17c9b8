#include "vgg/weights_layout.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "common/error.h"
#include "common/resources.h"
#include "common/safetensors.h"
#include "common/text.h"

namespace pastiche {

namespace {

constexpr int kBlocks = 5;
constexpr int64_t kWidths[kBlocks] = {64, 128, 256, 512, 512};
constexpr int kConvsVgg16[kBlocks] = {2, 2, 3, 3, 3};
constexpr int kConvsVgg19[kBlocks] = {2, 2, 4, 4, 4};

const int* convs_per_block(VggArch arch) {
  return arch == VggArch::vgg16 ? kConvsVgg16 : kConvsVgg19;
}

}  // namespace

namespace vgg_internal {

std::vector<ConvSpec> conv_specs(VggArch arch) {
  std::vector<ConvSpec> specs;
  int feature = 0;
  int64_t in = 3;
  for (int b = 0; b < kBlocks; ++b) {
    for (int c = 0; c < convs_per_block(arch)[b]; ++c) {
      specs.push_back({b + 1, c + 1, feature, in, kWidths[b]});
      in = kWidths[b];
      feature += 2;  // conv, relu
    }
    feature += 1;  // pool
  }
  return specs;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string file_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

namespace {

// Parsed tensor name: which convention, and the raw key (feature index or block/conv).
struct NameMatch {
  WeightConvention convention;
  int feature_index = -1;   // torchvision
  int block = 0, conv = 0;  // caffe
  bool is_weight = false;
};

bool match_name(const std::string& key, NameMatch& m) {
  static const std::regex torchvision_re(
      R"(^(?:model\.|module\.)?features\.(\d+)\.(weight|bias)$)");
  static const std::regex caffe_re(R"(^block(\d+)_conv(\d+)/(kernel|bias)(?::0)?$)");
  std::smatch sm;
  if (std::regex_match(key, sm, torchvision_re)) {
    m.convention = WeightConvention::torchvision;
    m.feature_index = std::stoi(sm[1].str());
    m.is_weight = sm[2] == "weight";
    return true;
  }
  if (std::regex_match(key, sm, caffe_re)) {
    m.convention = WeightConvention::caffe;
    m.block = std::stoi(sm[1].str());
    m.conv = std::stoi(sm[2].str());
    m.is_weight = sm[3] == "kernel";
    return true;
  }
  return false;
}

// Ordinal (0-based) of a matched conv name within an architecture, or -1.
int ordinal_in(VggArch arch, const NameMatch& m) {
  const auto specs = conv_specs(arch);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (m.convention == WeightConvention::torchvision &&
        specs[i].feature_index == m.feature_index) {
      return static_cast<int>(i);
    }
    if (m.convention == WeightConvention::caffe && specs[i].block == m.block &&
        specs[i].index == m.conv) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

struct Candidate {
  bool valid = true;               // every conv-like name is a conv of this arch
  std::string invalid_name;        // first name that is not
  std::map<int, FoundConv> convs;  // ordinal -> keys
  int prefix = 0;                  // length of the gap-free prefix
  bool gap_free() const { return static_cast<int>(convs.size()) == prefix; }
};

Candidate classify(VggArch arch, const std::vector<std::pair<std::string, NameMatch>>& names) {
  Candidate c;
  for (const auto& [key, m] : names) {
    const int ord = ordinal_in(arch, m);
    if (ord < 0) {
      if (c.valid) c.invalid_name = key;
      c.valid = false;
      continue;
    }
    auto& found = c.convs[ord];
    (m.is_weight ? found.weight_key : found.bias_key) = key;
  }
  while (c.convs.count(c.prefix)) ++c.prefix;
  return c;
}

std::string conv_key(WeightConvention convention, const ConvSpec& spec, bool weight,
                     const std::string& prefix) {
  if (convention == WeightConvention::torchvision) {
    return prefix + "features." + std::to_string(spec.feature_index) +
           (weight ? ".weight" : ".bias");
  }
  return spec.caffe_name() + (weight ? "/kernel" : "/bias");
}

bool is_float_dtype(const std::string& dtype) {
  return dtype == "F32" || dtype == "F16" || dtype == "BF16" || dtype == "F64";
}

}  // namespace

WeightsLayout inspect_layout(const std::string& path) {
  const std::string file = file_name(path);
  const SafeTensorsHeader header = read_safetensors_header(path);

  std::vector<std::pair<std::string, NameMatch>> names;
  bool has_torchvision = false, has_caffe = false;
  for (const auto& [key, entry] : header.entries) {
    NameMatch m;
    if (!match_name(key, m)) continue;  // classifier, head, ... are ignored
    (m.convention == WeightConvention::torchvision ? has_torchvision : has_caffe) = true;
    names.emplace_back(key, m);
  }
  if (names.empty()) {
    throw InputError(file +
                     " is not VGG weights: no tensor named features.N.weight (torchvision) "
                     "or blockB_convC/kernel (Keras/Caffe)");
  }
  if (has_torchvision && has_caffe) {
    throw InputError(file + " mixes torchvision (features.N) and Keras/Caffe (blockB_convC) names");
  }
  WeightsLayout out;
  VggWeightsInfo& info = out.info;
  info.path = path;
  info.convention = has_torchvision ? WeightConvention::torchvision : WeightConvention::caffe;

  const Candidate c16 = classify(VggArch::vgg16, names);
  const Candidate c19 = classify(VggArch::vgg19, names);
  const Candidate* chosen = nullptr;
  auto meta = header.metadata.find("arch");
  if (meta != header.metadata.end()) {
    const std::string arch = ascii_lower(meta->second);
    if (arch == "vgg16") {
      info.arch = VggArch::vgg16;
    } else if (arch == "vgg19") {
      info.arch = VggArch::vgg19;
    } else {
      throw InputError(file + ": metadata arch '" + meta->second + "' is not vgg16 or vgg19");
    }
    chosen = info.arch == VggArch::vgg16 ? &c16 : &c19;
  } else if (c16.valid && c16.gap_free() && c19.valid && c19.gap_free()) {
    info.arch = VggArch::vgg19;  // fits both: the first blocks are identical
    info.arch_inferred = true;
    chosen = &c19;
  } else if (c19.valid && c19.gap_free()) {
    info.arch = VggArch::vgg19;
    chosen = &c19;
  } else if (c16.valid && c16.gap_free()) {
    info.arch = VggArch::vgg16;
    chosen = &c16;
  } else if (c19.valid || c16.valid) {
    info.arch = c19.valid ? VggArch::vgg19 : VggArch::vgg16;  // report the gap below
    chosen = c19.valid ? &c19 : &c16;
  } else {
    throw InputError(file + ": tensor " + c19.invalid_name +
                     " is not a convolution of VGG16 or VGG19 (batch-norm variants are not "
                     "supported)");
  }
  const std::string arch_name = upper(to_string(info.arch));
  if (!chosen->valid) {
    throw InputError(file + ": tensor " + chosen->invalid_name + " is not a convolution of " +
                     arch_name);
  }
  const auto specs = conv_specs(info.arch);
  if (!chosen->gap_free()) {
    const ConvSpec& missing = specs[chosen->prefix];
    const ConvSpec& later = specs[chosen->convs.rbegin()->first];
    throw InputError(file + ": convolution " + missing.name() + " (" +
                     conv_key(info.convention, missing, true, "") + ") is missing but " +
                     later.name() + " is present; " + arch_name +
                     " weights must hold a prefix of the network");
  }
  // Shapes and dtypes.
  for (int i = 0; i < chosen->prefix; ++i) {
    const ConvSpec& spec = specs[i];
    const FoundConv& found = chosen->convs.at(i);
    if (found.weight_key.empty() || found.bias_key.empty()) {
      const bool weight_missing = found.weight_key.empty();
      throw InputError(file + ": " + spec.name() + " has no " +
                       (weight_missing ? "weight" : "bias") + " (" +
                       (weight_missing ? found.bias_key : found.weight_key) + " is present)");
    }
    const auto& w = header.entries.at(found.weight_key);
    const auto& b = header.entries.at(found.bias_key);
    const std::vector<int64_t> expect_w = info.convention == WeightConvention::torchvision
                                              ? std::vector<int64_t>{spec.out, spec.in, 3, 3}
                                              : std::vector<int64_t>{3, 3, spec.in, spec.out};
    if (w.shape != expect_w) {
      throw InputError(file + ": " + found.weight_key + " (" + spec.name() + ") has shape " +
                       shape_string(w.shape) + ", " + arch_name + " needs " +
                       shape_string(expect_w));
    }
    if (b.shape != std::vector<int64_t>{spec.out}) {
      throw InputError(file + ": " + found.bias_key + " (" + spec.name() + ") has shape " +
                       shape_string(b.shape) + ", " + arch_name + " needs [" +
                       std::to_string(spec.out) + "]");
    }
    for (const auto* e : {&w, &b}) {
      if (!is_float_dtype(e->dtype)) {
        throw InputError(file + ": " + spec.name() + " has dtype " + e->dtype +
                         ", expected a floating-point type");
      }
    }
    out.keys.push_back(found);
  }
  info.conv_layers = chosen->prefix;

  // Available layers: convs and relus up to the last present conv; a pool only after a whole block.
  int remaining = info.conv_layers;
  for (int b = 0; b < kBlocks && remaining > 0; ++b) {
    const int n = convs_per_block(info.arch)[b];
    for (int c = 0; c < n && remaining > 0; ++c, --remaining) {
      const std::string suffix = std::to_string(b + 1) + "_" + std::to_string(c + 1);
      info.available.push_back("conv" + suffix);
      info.available.push_back("relu" + suffix);
      if (c == n - 1) info.available.push_back("pool" + std::to_string(b + 1));
    }
  }
  return out;
}

}  // namespace vgg_internal

std::string to_string(VggArch arch) {
  return arch == VggArch::vgg16 ? "vgg16" : "vgg19";
}

std::string to_string(WeightConvention convention) {
  return convention == WeightConvention::torchvision ? "torchvision" : "caffe";
}

std::vector<std::string> vgg_layer_names(VggArch arch) {
  std::vector<std::string> names;
  for (int b = 0; b < kBlocks; ++b) {
    const int n = convs_per_block(arch)[b];
    for (int c = 0; c < n; ++c) {
      const std::string suffix = std::to_string(b + 1) + "_" + std::to_string(c + 1);
      names.push_back("conv" + suffix);
      names.push_back("relu" + suffix);
    }
    names.push_back("pool" + std::to_string(b + 1));
  }
  return names;
}

bool VggWeightsInfo::complete() const {
  return conv_layers == static_cast<int>(vgg_internal::conv_specs(arch).size());
}

std::string available_range(const VggWeightsInfo& info, const std::string& kind) {
  std::vector<std::string> of_kind;
  for (const auto& name : info.available) {
    if (name.rfind(kind, 0) == 0) of_kind.push_back(name);
  }
  if (of_kind.empty()) return "none";
  if (of_kind.size() == 1) return of_kind.front();
  return of_kind.front() + " … " + of_kind.back();
}

VggWeightsInfo inspect_vgg_weights(const std::string& path) {
  return vgg_internal::inspect_layout(path).info;
}

std::string default_vgg_weights_path() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("PASTICHE_VGG"); env && *env) return env;
  std::vector<fs::path> dirs;
  for (const auto& d : model_search_dirs()) dirs.emplace_back(d);
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    // vgg19.safetensors first, then other vgg19*.safetensors in name order.
    if (fs::is_regular_file(dir / "vgg19.safetensors", ec)) {
      return (dir / "vgg19.safetensors").lexically_normal().string();
    }
    std::vector<std::string> matches;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("vgg19", 0) == 0 && entry.path().extension() == ".safetensors" &&
          entry.is_regular_file(ec)) {
        matches.push_back(entry.path().lexically_normal().string());
      }
    }
    if (!matches.empty()) return *std::min_element(matches.begin(), matches.end());
  }
  return {};
}

}  // namespace pastiche
