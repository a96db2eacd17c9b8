// Fast-style model files: safetensors with the transform network's weights (float32 or float16)
// and metadata under "__metadata__" (all values are strings; JSON where structured):
//   format          "pastiche-fast"
//   format_version  "1"
//   network         {"width":16,"res_blocks":3,"styles":1}
//   styles          [{"name","title","artist","description","thumbnail_jpeg_base64"}, ...]
//   loss            {"style_layers":[...],"style_layer_weights":[...],"content_layers":[...],
//                    "content_weight":..,"style_weight":..,"tv_weight":..,"vgg":"file name"}
//   training        {"size":256,"batch":4,"iterations":..,"learning_rate":..,"seconds":..,...}
// Training checkpoints use the same layout plus the optimiser state and "checkpoint" metadata.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fast/fast_stylizer.h"
#include "fast/transformer_net.h"

namespace pastiche {

inline constexpr const char* kFastModelFormat = "pastiche-fast";
inline constexpr int kFastModelFormatVersion = 1;

struct StyleMeta {
  std::string name;                     // short id, e.g. "starry_night"
  std::string title;                    // "The Starry Night"
  std::string artist;                   // "Vincent van Gogh"
  std::string description;              // two sentences on colours and strokes
  std::vector<uint8_t> thumbnail_jpeg;  // small JPEG of the style image (may be empty)
  bool neutral = false;  // the photo's look, for strength (fast/neutral_style.h); not listed
};

struct FastModelMeta {
  TransformerNetOptions network;
  std::vector<StyleMeta> styles;  // network.styles entries
  int64_t neutral_index() const;  // the neutral entry's index; -1 when the model has none
  nlohmann::json loss = nlohmann::json::object();
  nlohmann::json training = nlohmann::json::object();
};

// A network with its description. Owns the network (a shared module handle).
class FastModel {
 public:
  FastModel(TransformerNet net, FastModelMeta meta);

  TransformerNet& net() { return net_; }
  const TransformerNet& net() const { return net_; }
  const FastModelMeta& meta() const { return meta_; }
  FastModelMeta& meta() { return meta_; }

  // Index of a style by name; NotFoundError listing the names otherwise.
  int64_t style_index(const std::string& name) const;
  // Normalised [S] mixing weights from name -> weight (empty = style 0). InputError for negative
  // or all-zero weights, NotFoundError for unknown names. With `strength` < 1 the weights are
  // mixed with the neutral entry's (1 - strength); the model must have one.
  torch::Tensor style_weights(const std::map<std::string, double>& mix,
                              double strength = 1.0) const;

 private:
  torch::Tensor mix_weights(const std::map<std::string, double>& mix) const;
  TransformerNet net_;
  FastModelMeta meta_;
};

// Writes the model atomically. fp16 halves the file; weights are converted back to float32 when
// loaded. `extra_tensors`/`extra_metadata` are stored alongside (used by training checkpoints).
void save_fast_model(const std::string& path, const FastModel& model, bool fp16 = false,
                     const std::map<std::string, torch::Tensor>& extra_tensors = {},
                     const std::map<std::string, std::string>& extra_metadata = {});

// Loads and validates: format, version, network shape, every tensor's presence and shape.
// Throws InputError naming the file and the problem ("... is not a Pastiche fast model",
// "tensor in3.gamma has shape [1, 64], expected [1, 128]", ...). Tensors not belonging to the
// network are returned in `extra` when given (checkpoints), else ignored.
FastModel load_fast_model(const std::string& path,
                          std::map<std::string, torch::Tensor>* extra = nullptr,
                          std::map<std::string, std::string>* metadata = nullptr);

// Reads only the header: for listing models without loading weights.
FastModelInfo read_fast_model_info(const std::string& path);

// Metadata <-> strings (exposed for tests and for the trainer).
std::map<std::string, std::string> encode_model_metadata(const FastModelMeta& meta,
                                                         const std::string& dtype);
FastModelMeta decode_model_metadata(const std::map<std::string, std::string>& metadata,
                                    const std::string& what);

std::string base64_encode(const std::vector<uint8_t>& bytes);
std::vector<uint8_t> base64_decode(const std::string& text);  // InputError on invalid input

}  // namespace pastiche
