// Helpers for the fast-transfer tests: tiny random models written to temporary files.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "fast/model_file.h"

namespace pastiche::testing {

// A network with random weights and random (non-trivial) per-style gamma/beta.
inline TransformerNet random_net(int64_t width, int64_t res_blocks, int64_t styles,
                                 uint64_t seed = 1) {
  torch::manual_seed(seed);
  TransformerNet net(TransformerNetOptions{width, res_blocks, styles});
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters()) {
    const auto& name = p.key();
    if (name.find("gamma") != std::string::npos) p.value().uniform_(0.5, 1.5);
    if (name.find("beta") != std::string::npos) p.value().uniform_(-0.5, 0.5);
  }
  net->eval();
  return net;
}

inline FastModelMeta meta_for(const TransformerNet& net, const std::string& prefix = "style") {
  FastModelMeta meta;
  meta.network = net->options();
  for (int64_t i = 0; i < net->options().styles; ++i) {
    StyleMeta s;
    s.name = prefix + std::to_string(i);
    s.title = "Title " + std::to_string(i);
    s.artist = "Artist " + std::to_string(i);
    s.description = "Blue swirls. Thick strokes.";
    s.thumbnail_jpeg = {0xff, 0xd8, 0xff, static_cast<uint8_t>(i), 0x00, 0xff, 0xd9};
    meta.styles.push_back(s);
  }
  meta.loss = {{"style_layers", {"relu1_1", "relu2_1"}}, {"style_weight", 10.0}};
  meta.training = {{"size", 256}, {"iterations", 3}};
  return meta;
}

inline std::string write_random_model(const std::string& path, int64_t width, int64_t res_blocks,
                                      int64_t styles, bool fp16 = false, uint64_t seed = 1) {
  auto net = random_net(width, res_blocks, styles, seed);
  save_fast_model(path, FastModel(net, meta_for(net)), fp16);
  return path;
}

}  // namespace pastiche::testing
