// Every setting of arbitrary-style transfer (any painting, one pass: arbitrary_stylizer.h), with
// its default in one place; the catalogue declares each setting's range, help and where it is
// accepted (CLI `stylize --method arbitrary`, `stylize-video`, HTTP fields), validate() checks.
#pragma once
#include <string>
#include <vector>

#include "common/option_catalog.h"

namespace pastiche {

struct ArbitraryOptions {
  int size = 0;  // longest side of the output; 0 = the input's size
  // 1 = the painting's statistics, 0 = the photo's own features, in between mixed in feature space.
  double strength = 1.0;
  bool original_colors = false;
  double blend = 1.0;               // pixel blend with the photo after decoding; 1 = stylised only
  std::vector<double> style_blend;  // one weight per painting (interpolation); empty = equal
  int style_size = 512;             // longest side the painting is seen at: bigger = finer strokes
  int tile = 0;                     // tile side for huge images; 0 = automatic
  // The cascade's levels to run, deepest first (relu3_1, relu2_1, relu1_1); empty = every level
  // the model has a decoder for. Deeper levels carry strokes, shallower ones colour and detail.
  std::vector<std::string> levels;
  void validate() const;  // throws InputError naming the field
};

const OptionCatalog<ArbitraryOptions>& arbitrary_option_catalog();

}  // namespace pastiche
