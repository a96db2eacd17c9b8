#include "arbitrary/arbitrary_model.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "common/error.h"
#include "common/safetensors.h"
#include "fast/fast_stylizer.h"

namespace pastiche {

namespace fs = std::filesystem;

namespace {

constexpr const char* kKindKey = "pastiche.kind";
constexpr const char* kDecoderKey = "pastiche.decoder";
constexpr const char* kEncoderKey = "pastiche.encoder";
constexpr const char* kTrainingKey = "pastiche.training";
constexpr const char* kEncoderConvs[] = {"conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"};

nlohmann::json parse_meta(const std::map<std::string, std::string>& meta, const char* key,
                          const std::string& path) {
  const auto it = meta.find(key);
  if (it == meta.end()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception&) {
    throw InputError("'" + path + "': malformed " + key + " metadata");
  }
}

}  // namespace

nlohmann::json encoder_identity(Vgg& vgg) {
  vgg->check_layers({kArbitraryLayer});
  const auto params = vgg->named_parameters();
  double sum = 0;
  for (const char* conv : kEncoderConvs)
    sum += params[std::string(conv) + ".weight"].to(torch::kDouble).abs().sum().item<double>();
  return {{"convention", to_string(vgg->info().convention)},
          {"fingerprint", sum},
          {"weights", fs::path(vgg->info().path).filename().string()}};
}

void check_encoder(const ArbitraryModel& model, Vgg& vgg, const std::string& model_path) {
  const auto have = encoder_identity(vgg);
  const double want = model.encoder.value("fingerprint", 0.0);
  const double got = have["fingerprint"].get<double>();
  if (std::abs(want - got) > 1e-6 * std::max(1.0, std::abs(want)))
    throw InputError("'" + model_path + "' was trained on the features of " +
                     model.encoder.value("weights", std::string("other VGG weights")) + " (" +
                     model.encoder.value("convention", std::string("?")) + " convention); '" +
                     vgg->info().path +
                     "' computes other features. Use those weights (--vgg) or train a decoder "
                     "for these (pastiche train-arbitrary)");
}

void save_arbitrary_model(const std::string& path, const ArbitraryModel& model, bool fp16,
                          const std::map<std::string, torch::Tensor>& extra) {
  std::map<std::string, torch::Tensor> tensors = extra;
  for (const auto& p : model.decoder->named_parameters()) {
    auto t = p.value().detach().to(torch::kCPU).contiguous();
    tensors[p.key()] = fp16 ? t.to(torch::kHalf) : t.to(torch::kFloat);
  }
  write_safetensors(path, tensors,
                    {{kKindKey, kArbitraryModelKind},
                     {kDecoderKey, model.decoder->options().to_json().dump()},
                     {kEncoderKey, model.encoder.dump()},
                     {kTrainingKey, model.training.dump()}});
}

bool is_arbitrary_model(const std::string& path) {
  try {
    const auto header = read_safetensors_header(path);
    const auto it = header.metadata.find(kKindKey);
    return it != header.metadata.end() && it->second == kArbitraryModelKind;
  } catch (const std::exception&) {
    return false;
  }
}

ArbitraryModel load_arbitrary_model(const std::string& path) {
  if (!fs::is_regular_file(path))
    throw NotFoundError("arbitrary-style model '" + path + "' not found");
  auto file = read_safetensors(path);
  const auto kind = file.metadata.find(kKindKey);
  if (kind == file.metadata.end() || kind->second != kArbitraryModelKind)
    throw InputError("'" + path + "' is not an arbitrary-style model (a " +
                     std::string(kArbitraryModelKind) + " from pastiche train-arbitrary)");
  ArbitraryModel model;
  model.decoder = Decoder(DecoderOptions::from_json(parse_meta(file.metadata, kDecoderKey, path)));
  model.encoder = parse_meta(file.metadata, kEncoderKey, path);
  model.training = parse_meta(file.metadata, kTrainingKey, path);
  torch::NoGradGuard no_grad;
  for (auto& p : model.decoder->named_parameters()) {
    const auto it = file.tensors.find(p.key());
    if (it == file.tensors.end() || it->second.sizes() != p.value().sizes())
      throw InputError("'" + path + "': tensor '" + p.key() +
                       "' is missing or has the wrong shape");
    p.value().copy_(it->second.to(torch::kFloat));
  }
  return model;
}

std::vector<ArbitraryLevel> load_arbitrary_cascade(const std::string& path) {
  std::vector<std::string> files;
  std::error_code ec;
  const fs::path p(path);
  auto is_layer_file = [](const fs::path& f) {
    return f.extension() == ".safetensors" &&
           std::find(kArbitraryLayers.begin(), kArbitraryLayers.end(), f.stem().string()) !=
               kArbitraryLayers.end();
  };
  if (fs::is_directory(p, ec)) {
    for (const auto& layer : kArbitraryLayers) {
      const auto f = p / (layer + ".safetensors");
      if (fs::is_regular_file(f, ec)) files.push_back(f.string());
    }
    if (files.empty())
      throw NotFoundError("'" + path +
                          "' holds no decoder (relu3_1.safetensors, relu2_1.safetensors or "
                          "relu1_1.safetensors)");
  } else {
    files.push_back(path);
    if (is_layer_file(p)) {
      const auto own =
          std::find(kArbitraryLayers.begin(), kArbitraryLayers.end(), p.stem().string());
      for (auto it = own + 1; it != kArbitraryLayers.end(); ++it) {
        const auto f = p.parent_path() / (*it + ".safetensors");
        if (fs::is_regular_file(f, ec)) files.push_back(f.string());
      }
    }
  }
  std::vector<ArbitraryLevel> levels;
  for (const auto& f : files) {
    ArbitraryLevel level{load_arbitrary_model(f), f};
    for (const auto& other : levels) {
      if (other.layer() == level.layer())
        throw InputError("'" + f + "' and '" + other.path + "' are both decoders of " +
                         level.layer());
    }
    levels.push_back(std::move(level));
  }
  auto depth = [](const ArbitraryLevel& l) {
    return std::find(kArbitraryLayers.begin(), kArbitraryLayers.end(), l.layer()) -
           kArbitraryLayers.begin();
  };
  std::sort(levels.begin(), levels.end(),
            [&](const auto& a, const auto& b) { return depth(a) < depth(b); });
  return levels;
}

std::string default_arbitrary_model_path() {
  if (const char* env = std::getenv("PASTICHE_ARBITRARY_MODEL"); env && *env) return env;
  for (const auto& dir : default_model_dirs()) {
    const auto candidate = fs::path(dir) / "arbitrary" / "relu3_1.safetensors";
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
  }
  return {};
}

}  // namespace pastiche
