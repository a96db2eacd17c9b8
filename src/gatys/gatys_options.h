// Every setting of the optimisation engine, with its default, in one place. The CLI, the HTTP API
// and the tests fill this struct; gatys_option_catalog() declares each setting's range, help and
// where it is accepted, and validate() is the single check.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/option_catalog.h"
#include "common/runtime.h"
#include "vgg/vgg.h"

namespace pastiche {

enum class Optimizer { lbfgs, adam };
inline constexpr EnumName<Optimizer> kOptimizerNames[] = {
    {Optimizer::lbfgs, "lbfgs"}, {Optimizer::adam, "adam"}, {Optimizer::lbfgs, "l-bfgs", true}};
// image: a picture given to GatysEngine::run (--init-image, the service's init_job), e.g. a quick
// one-pass result that the optimisation refines.
enum class InitKind { content, noise, style, image };
inline constexpr EnumName<InitKind> kInitNames[] = {{InitKind::content, "content"},
                                                    {InitKind::noise, "noise"},
                                                    {InitKind::style, "style"},
                                                    {InitKind::image, "image"},
                                                    {InitKind::noise, "random", true}};
inline constexpr EnumName<PoolKind> kPoolNames[] = {{PoolKind::max, "max"}, {PoolKind::avg, "avg"}};

struct GatysOptions {
  int size = 512;  // longest side of the output, px
  int steps = 0;   // loss evaluations in total; 0 = automatic for the size
  Optimizer optimizer = Optimizer::lbfgs;
  InitKind init = InitKind::content;
  double content_weight = 1.0;
  double style_weight = 20.0;             // > 0, relative to content_weight (losses are normalised)
  double tv_weight = 0.2;                 // total variation, smooths high-frequency noise
  std::vector<std::string> style_layers;  // empty = defaults for the available weights
  std::vector<double> style_layer_weights;  // empty = equal; else one per style layer
  std::vector<std::string> content_layers;  // empty = defaults for the available weights
  std::vector<double> style_blend;          // one weight per style image; empty = equal
  double style_scale = 1.0;                 // style image longest side = style_scale * output size
  int scales = 0;                           // coarse-to-fine levels; 0 = automatic from size
  int min_scale_size = 160;                 // longest side of the coarsest level when automatic
  double tolerance = 0.04;  // a coarse level stops once its loss falls less than this (relative)
                            // over 8 evaluations; 0 = every planned evaluation
  bool original_colors = false;     // keep the photo's colours (luminance-only transfer)
  bool match_style_colors = false;  // recolour the style image to the photo's palette first
  double blend = 1.0;               // 1 = stylised only; 0 = original only
  double learning_rate = 0.0;       // 0 = optimiser default (L-BFGS 1.0, Adam 0.02)
  int lbfgs_history = 10;           // L-BFGS memory (vectors of image size each)
  PoolKind pool = PoolKind::max;
  uint64_t seed = 0;
  int preview_every = 0;  // emit a preview image every N iterations (0 = never)
  MemoryLayout layout = MemoryLayout::automatic;  // channels-last where measured faster
  Precision precision = Precision::automatic;     // VGG convolutions and Gram matrices

  void validate() const;  // throws InputError naming the field
};

// Range, help and users (CLI `stylize`, HTTP fields) of each GatysOptions setting.
const OptionCatalog<GatysOptions>& gatys_option_catalog();

inline const char* to_string(Optimizer o) {
  return enum_to_string(kOptimizerNames, o);
}
inline const char* to_string(InitKind k) {
  return enum_to_string(kInitNames, k);
}
inline Optimizer parse_optimizer(const std::string& s) {
  return enum_from_string(kOptimizerNames, "optimizer", s);
}
inline InitKind parse_init(const std::string& s) {
  return enum_from_string(kInitNames, "init", s);
}

}  // namespace pastiche
