// Which loss-network layers carry style and content. The classic choice (Gatys et al.: style
// relu1_1..relu5_1, content relu4_2) needs the full network; with partial weights (e.g. blocks
// 1-3 only) the nearest equivalents are chosen and a note says so.
#pragma once
#include <string>
#include <vector>

#include "vgg/vgg.h"

namespace pastiche {

struct LayerChoice {
  std::vector<std::string> style, content;
  std::string note;  // set when the classic layers were unavailable and others were chosen
};

// `style` and `content` as asked (checked to exist); an empty list means "the default".
LayerChoice choose_layers(const Vgg& vgg, const std::vector<std::string>& style,
                          const std::vector<std::string>& content);

std::string join_names(const std::vector<std::string>& names);  // "a, b, c"

}  // namespace pastiche
