#include "fast/model_file.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "common/error.h"
#include "common/safetensors.h"

namespace pastiche {

namespace {

std::string shape_string(c10::IntArrayRef shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

std::string quoted_name(const std::string& path) {
  return "'" + std::filesystem::path(path).filename().string() + "'";
}

nlohmann::json parse_json_field(const std::map<std::string, std::string>& metadata,
                                const std::string& key, const std::string& what) {
  auto it = metadata.find(key);
  if (it == metadata.end())
    throw InputError("model " + what + " has no '" + key + "' metadata (file damaged or not " +
                     "written by pastiche train)");
  try {
    return nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw InputError("model " + what + ": metadata '" + key + "' is not valid JSON (" + e.what() +
                     ")");
  }
}

void check_format(const std::map<std::string, std::string>& metadata, const std::string& what) {
  auto format = metadata.find("format");
  if (format == metadata.end() || format->second != kFastModelFormat)
    throw InputError(what + " is not a Pastiche fast model (no format=" + kFastModelFormat +
                     " metadata); train one with `pastiche train`");
  auto version = metadata.find("format_version");
  if (version == metadata.end() || version->second != std::to_string(kFastModelFormatVersion))
    throw InputError("model " + what + " has format version " +
                     (version == metadata.end() ? std::string("(none)") : version->second) +
                     "; this build reads version " + std::to_string(kFastModelFormatVersion));
}

}  // namespace

std::string base64_encode(const std::vector<uint8_t>& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (int k = 3; k >= 0; --k) out.push_back(kAlphabet[(v >> (6 * k)) & 63]);
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = bytes[i] << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

std::vector<uint8_t> base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) throw InputError("invalid base64: length is not a multiple of 4");
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if ((v[k] = value(c)) < 0 || pad > 0) {
        throw InputError("invalid base64 character");
      }
    }
    const uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>((n >> 8) & 255));
    if (pad < 1) out.push_back(static_cast<uint8_t>(n & 255));
  }
  return out;
}

FastModel::FastModel(TransformerNet net, FastModelMeta meta)
    : net_(std::move(net)), meta_(std::move(meta)) {
  meta_.network = net_->options();
  if (meta_.styles.size() != static_cast<size_t>(meta_.network.styles))
    throw InputError("model describes " + std::to_string(meta_.styles.size()) +
                     " styles but the network has " + std::to_string(meta_.network.styles));
}

int64_t FastModelMeta::neutral_index() const {
  for (size_t i = 0; i < styles.size(); ++i)
    if (styles[i].neutral) return static_cast<int64_t>(i);
  return -1;
}

int64_t FastModel::style_index(const std::string& name) const {
  std::string names;
  for (size_t i = 0; i < meta_.styles.size(); ++i) {
    if (meta_.styles[i].neutral) continue;
    if (meta_.styles[i].name == name) return static_cast<int64_t>(i);
    names += (names.empty() ? "" : ", ") + meta_.styles[i].name;
  }
  throw NotFoundError("style '" + name + "' is not in this model (styles: " + names + ")");
}

torch::Tensor FastModel::style_weights(const std::map<std::string, double>& mix,
                                       double strength) const {
  auto weights = mix_weights(mix);
  if (strength >= 1.0) return weights;
  const int64_t neutral = meta_.neutral_index();
  if (neutral < 0)
    throw InputError(
        "strength: this model has no neutral style to weaken towards; add one with "
        "`pastiche models add-neutral`");
  return weights * strength + net_->style_vector(neutral) * (1.0 - strength);
}

torch::Tensor FastModel::mix_weights(const std::map<std::string, double>& mix) const {
  if (mix.empty()) return net_->style_vector(0);
  auto weights = torch::zeros({meta_.network.styles});
  double sum = 0;
  for (const auto& [name, w] : mix) {
    if (!(w >= 0)) throw InputError("style-mix weight for '" + name + "' must be >= 0");
    weights[style_index(name)] += w;
    sum += w;
  }
  if (sum <= 0) throw InputError("style-mix weights sum to 0; give at least one positive weight");
  return weights / sum;
}

std::map<std::string, std::string> encode_model_metadata(const FastModelMeta& meta,
                                                         const std::string& dtype) {
  nlohmann::json styles = nlohmann::json::array();
  for (const auto& s : meta.styles) {
    styles.push_back({{"name", s.name},
                      {"title", s.title},
                      {"artist", s.artist},
                      {"description", s.description},
                      {"thumbnail_jpeg_base64", base64_encode(s.thumbnail_jpeg)}});
    if (s.neutral) styles.back()["neutral"] = true;
  }
  return {{"format", kFastModelFormat},
          {"format_version", std::to_string(kFastModelFormatVersion)},
          {"dtype", dtype},
          {"network", meta.network.to_json().dump()},
          {"styles", styles.dump()},
          {"loss", meta.loss.dump()},
          {"training", meta.training.dump()}};
}

FastModelMeta decode_model_metadata(const std::map<std::string, std::string>& metadata,
                                    const std::string& what) {
  check_format(metadata, what);
  FastModelMeta meta;
  try {
    meta.network = TransformerNetOptions::from_json(parse_json_field(metadata, "network", what));
  } catch (const InputError& e) {
    throw InputError("model " + what + ": " + e.what());
  }
  const auto styles = parse_json_field(metadata, "styles", what);
  if (!styles.is_array())
    throw InputError("model " + what + ": metadata 'styles' must be a JSON array");
  try {
    for (const auto& s : styles) {
      StyleMeta style;
      style.name = s.at("name").get<std::string>();
      style.title = s.value("title", "");
      style.artist = s.value("artist", "");
      style.description = s.value("description", "");
      style.thumbnail_jpeg = base64_decode(s.value("thumbnail_jpeg_base64", ""));
      style.neutral = s.value("neutral", false);
      meta.styles.push_back(std::move(style));
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError("model " + what + ": metadata 'styles' is malformed (" + e.what() + ")");
  } catch (const InputError& e) {
    throw InputError("model " + what + ": style thumbnail: " + e.what());
  }
  if (meta.styles.size() != static_cast<size_t>(meta.network.styles))
    throw InputError("model " + what + " lists " + std::to_string(meta.styles.size()) +
                     " styles but its network has " + std::to_string(meta.network.styles));
  const auto neutrals = std::count_if(meta.styles.begin(), meta.styles.end(),
                                      [](const StyleMeta& s) { return s.neutral; });
  if (neutrals > 1 || (neutrals == 1 && !meta.styles.back().neutral) ||
      (neutrals == 1 && meta.styles.size() < 2))
    throw InputError("model " + what +
                     ": a neutral style must be the last of at least two, and only one");
  if (metadata.count("loss")) meta.loss = parse_json_field(metadata, "loss", what);
  if (metadata.count("training")) meta.training = parse_json_field(metadata, "training", what);
  return meta;
}

void save_fast_model(const std::string& path, const FastModel& model, bool fp16,
                     const std::map<std::string, torch::Tensor>& extra_tensors,
                     const std::map<std::string, std::string>& extra_metadata) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : model.net()->named_parameters()) {
    auto t = p.value().detach().to(torch::kCPU).contiguous();
    tensors[p.key()] = fp16 ? t.to(torch::kHalf) : t.to(torch::kFloat);
  }
  for (const auto& [name, t] : extra_tensors) tensors[name] = t.detach().to(torch::kCPU);
  auto metadata = encode_model_metadata(model.meta(), fp16 ? "float16" : "float32");
  for (const auto& [k, v] : extra_metadata) metadata[k] = v;
  write_safetensors(path, tensors, metadata);
}

FastModel load_fast_model(const std::string& path, std::map<std::string, torch::Tensor>* extra,
                          std::map<std::string, std::string>* metadata_out) {
  const auto what = quoted_name(path);
  if (!std::filesystem::exists(path)) throw NotFoundError("model file '" + path + "' not found");
  SafeTensors file;
  try {
    file = read_safetensors(path);
  } catch (const InputError& e) {
    throw InputError("cannot load model " + what + ": " + e.what());
  }
  auto meta = decode_model_metadata(file.metadata, what);
  TransformerNet net(meta.network);
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters()) {
    auto it = file.tensors.find(p.key());
    if (it == file.tensors.end())
      throw InputError("model " + what + " is missing tensor '" + p.key() +
                       "' (file damaged or written for another network)");
    const auto& t = it->second;
    if (t.sizes() != p.value().sizes())
      throw InputError("model " + what + ": tensor '" + p.key() + "' has shape " +
                       shape_string(t.sizes()) + ", expected " + shape_string(p.value().sizes()) +
                       " for network " + meta.network.to_json().dump());
    if (!t.is_floating_point())
      throw InputError("model " + what + ": tensor '" + p.key() + "' is not floating point");
    p.value().copy_(t.to(torch::kFloat));
    if (!torch::isfinite(p.value()).all().item<bool>())
      throw InputError("model " + what + ": tensor '" + p.key() + "' holds NaN or infinity");
    file.tensors.erase(it);
  }
  if (extra) *extra = std::move(file.tensors);
  if (metadata_out) *metadata_out = file.metadata;
  net->eval();
  return FastModel(net, std::move(meta));
}

FastModelInfo read_fast_model_info(const std::string& path) {
  const auto what = quoted_name(path);
  SafeTensorsHeader header;
  try {
    header = read_safetensors_header(path);
  } catch (const InputError& e) {
    throw InputError("cannot read model " + what + ": " + e.what());
  }
  const auto meta = decode_model_metadata(header.metadata, what);
  FastModelInfo info;
  const std::filesystem::path p(path);
  info.name = p.stem().string();
  info.path = path;
  for (const auto& s : meta.styles)
    if (!s.neutral) info.styles.push_back(s.name);
  info.true_strength = meta.neutral_index() >= 0;
  auto join = [&](auto field) {
    std::string out;
    for (const auto& s : meta.styles) {
      if (s.neutral) continue;
      const std::string& v = s.*field;
      if (v.empty() || out.find(v) != std::string::npos) continue;
      out += (out.empty() ? "" : " / ") + v;
    }
    return out;
  };
  info.title = join(&StyleMeta::title);
  info.artist = join(&StyleMeta::artist);
  info.description =
      info.styles.size() == 1 ? meta.styles[0].description : join(&StyleMeta::description);
  if (!meta.styles.empty()) info.thumbnail_jpeg = meta.styles[0].thumbnail_jpeg;
  std::error_code ec;
  info.file_bytes = static_cast<int64_t>(std::filesystem::file_size(p, ec));
  auto dtype = header.metadata.find("dtype");
  info.dtype = dtype != header.metadata.end() ? dtype->second : "float32";
  info.width = meta.network.width;
  info.res_blocks = meta.network.res_blocks;
  return info;
}

}  // namespace pastiche
