#include "arbitrary/arbitrary_options.h"

#include "arbitrary/decoder.h"
#include "common/error.h"

namespace pastiche {

const OptionCatalog<ArbitraryOptions>& arbitrary_option_catalog() {
  using A = ArbitraryOptions;
  namespace use = option_use;
  constexpr unsigned everywhere = use::stylize | use::video | use::http;
  static const OptionCatalog<A> catalog = [] {
    OptionCatalog<A> c;
    c.push_back(integer_option("size", &A::size, 16, 16384,
                               "Longest side to paint at, px (the result keeps the input's shape)",
                               everywhere, "the input's own size"));
    c.push_back(flag_option("original_colors", &A::original_colors,
                            "Keep the photo's colours (luminance-only transfer)", everywhere));
    c.back().cli = "--original-colors,--original-colours";
    c.push_back(number_option("strength", &A::strength, 0, 1,
                              "Style strength: 1 = the style's full look, 0 = the photo's; "
                              "weakens the painting itself, not a blend with the photo",
                              everywhere));
    c.push_back(number_option("blend", &A::blend, 0, 1,
                              "Blend with the original: 1 = stylised only, 0 = original",
                              everywhere));
    c.push_back(numbers_option("style_blend", &A::style_blend, 0, 1e6,
                               "Weights of the paintings (one per --style), interpolated in "
                               "feature space",
                               use::stylize | use::video));
    c.push_back(integer_option("style_size", &A::style_size, 64, 2048,
                               "Longest side the painting is seen at, px (bigger = finer strokes)",
                               everywhere));
    c.push_back(integer_option("tile", &A::tile, 128, 8192,
                               "Tile side for huge images, px (bounds memory)", use::stylize,
                               "automatic"));
    c.push_back(names_option("levels", &A::levels,
                             "Cascade levels to run, of relu3_1,relu2_1,relu1_1 (deeper = "
                             "strokes, shallower = colour and detail); default every level the "
                             "model has",
                             everywhere));
    return c;
  }();
  return catalog;
}

void ArbitraryOptions::validate() const {
  validate_options(arbitrary_option_catalog(), *this);
  for (size_t i = 0; i < levels.size(); ++i) {
    check_arbitrary_layer(levels[i], "levels");
    for (size_t j = 0; j < i; ++j)
      if (levels[j] == levels[i]) throw InputError("levels: '" + levels[i] + "' is given twice");
  }
}

}  // namespace pastiche
