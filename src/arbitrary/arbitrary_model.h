// The arbitrary-style model file: a trained decoder (decoder.h) as safetensors, fp16 or fp32, with
// a description in the metadata:
//   "pastiche.kind"      "arbitrary-decoder"
//   "pastiche.decoder"   {"layer":"relu3_1","width":32} (or relu2_1, relu1_1: decoder.h)
//   "pastiche.encoder"   {"convention":"caffe","fingerprint":123.456,...}: the VGG weights the
//                        decoder was trained against; any file with the same first three blocks
//                        (the partial Keras export, the full one) fits, another convention does not
//   "pastiche.training"  the run's settings and figures
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "arbitrary/decoder.h"
#include "vgg/vgg.h"

namespace pastiche {

inline constexpr const char* kArbitraryModelKind = "arbitrary-decoder";

struct ArbitraryModel {
  Decoder decoder{nullptr};
  nlohmann::json encoder;   // {"convention", "fingerprint", "weights"}
  nlohmann::json training;  // free-form record of the run
};

// What identifies the encoder part of a VGG: its convention and the sum of |w| over the
// convolutions up to relu3_1 (float64), so a decoder is never paired with features it was not
// trained on.
nlohmann::json encoder_identity(Vgg& vgg);
// InputError naming both files when `vgg` is not the encoder `model` was trained against.
void check_encoder(const ArbitraryModel& model, Vgg& vgg, const std::string& model_path);

void save_arbitrary_model(const std::string& path, const ArbitraryModel& model, bool fp16,
                          const std::map<std::string, torch::Tensor>& extra = {});
// InputError naming the file when it is not an arbitrary-style model or its tensors do not fit.
ArbitraryModel load_arbitrary_model(const std::string& path);
bool is_arbitrary_model(const std::string& path);  // by its header only

// A cascade's decoders, deepest first, each with its file. `path` is a folder holding
// <layer>.safetensors files, or one decoder file; a file named <layer>.safetensors brings the
// decoders of the finer layers beside it too (models/arbitrary/relu3_1.safetensors: relu2_1,
// relu1_1). Two decoders of one layer, or none at all, are an InputError naming the path.
struct ArbitraryLevel {
  ArbitraryModel model;
  std::string path;
  const std::string& layer() const { return model.decoder->options().layer; }
};
std::vector<ArbitraryLevel> load_arbitrary_cascade(const std::string& path);

// The default model's file: $PASTICHE_ARBITRARY_MODEL, else arbitrary/relu3_1.safetensors under
// the fast models' folders (the repository's models/ included; a subfolder, so that listing the
// fast models does not meet it). Empty when none.
std::string default_arbitrary_model_path();

}  // namespace pastiche
