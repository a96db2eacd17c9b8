// The perceptual-loss settings every engine that optimises the losses has (the Gatys engine and
// fast-model training): declared once, so `stylize` and `train` share names, ranges and help.
// Works on any options struct with these members; their defaults stay in each struct.
#pragma once
#include "common/option_catalog.h"

namespace pastiche {

// style_weight, content_weight and tv_weight for `uses` plus `weight_uses` (the HTTP fields);
// the layer choices for `uses` only.
template <class T>
void append_loss_options(OptionCatalog<T>& c, unsigned uses, unsigned weight_uses = 0) {
  c.push_back(number_option("style_weight", &T::style_weight, 0, 1e9,
                            "Style loss weight (losses are relative: higher = more painting)",
                            uses | weight_uses, /*lo_open=*/true));
  c.push_back(number_option("content_weight", &T::content_weight, 0, 1e9, "Content loss weight",
                            uses | weight_uses));
  c.push_back(number_option("tv_weight", &T::tv_weight, 0, 1e9,
                            "Total-variation (smoothness) weight", uses | weight_uses));
  c.push_back(names_option("style_layers", &T::style_layers,
                           "Comma-separated VGG layers for style (default: relu1_1..relu5_1, or "
                           "the deepest available)",
                           uses));
  c.push_back(numbers_option("style_layer_weights", &T::style_layer_weights, 0, 1e6,
                             "Comma-separated weight per style layer (default equal)", uses));
  c.push_back(names_option("content_layers", &T::content_layers,
                           "Comma-separated VGG layers for content (default relu4_2, or relu3_2 "
                           "with partial weights)",
                           uses));
}

}  // namespace pastiche
