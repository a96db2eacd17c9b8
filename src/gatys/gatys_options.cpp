#include "gatys/gatys_options.h"

#include "common/compute_options.h"
#include "common/error.h"
#include "gatys/schedule.h"
#include "perceptual/loss_options.h"

namespace pastiche {

const OptionCatalog<GatysOptions>& gatys_option_catalog() {
  using G = GatysOptions;
  constexpr unsigned cli = option_use::stylize, both = option_use::stylize | option_use::http;
  static const OptionCatalog<G> catalog = [] {
    OptionCatalog<G> c;
    c.push_back(integer_option("size", &G::size, 16, 8192,
                               "Longest side of the output, px (with --model: default the "
                               "photo's own size)",
                               both));
    c.push_back(integer_option(
        "steps", &G::steps, 0, 100000,
        "Loss evaluations in total, all scales (automatic: " + std::to_string(default_steps(2)) +
            " multi-scale, " + std::to_string(default_steps(1)) + " single)",
        both, "automatic"));
    c.push_back(choice_option("optimizer", &G::optimizer, kOptimizerNames, "Optimiser", both));
    c.push_back(choice_option("init", &G::init, kInitNames,
                              "Start from the photo, noise, the painting or "
                              "a given picture (image: --init-image, or init_job in the API)",
                              both));
    append_loss_options(c, cli, option_use::http);
    c.push_back(numbers_option("style_blend", &G::style_blend, 0, 1e6,
                               "Comma-separated weight per --style (default equal)", cli));
    c.push_back(number_option("style_scale", &G::style_scale, 0.1, 4,
                              "Style image size relative to the output (bigger = larger brush "
                              "strokes)",
                              cli));
    c.push_back(
        integer_option("scales", &G::scales, 1, 8, "Coarse-to-fine levels", both, "automatic"));
    c.push_back(integer_option("min_scale_size", &G::min_scale_size, 16, 8192,
                               "Longest side of the coarsest level, px", cli));
    c.push_back(number_option("tolerance", &G::tolerance, 0, 1,
                              "Coarse levels stop once their loss falls by less than this "
                              "fraction over 8 evaluations (0 = run every planned evaluation)",
                              cli));
    c.push_back(flag_option("original_colors", &G::original_colors,
                            "Keep the photo's colours (luminance-only transfer)", both));
    c.back().cli = "--original-colors,--original-colours";
    c.push_back(flag_option("match_style_colors", &G::match_style_colors,
                            "Recolour the style image to the photo's palette before transfer",
                            cli));
    c.push_back(number_option("blend", &G::blend, 0, 1,
                              "Blend with the original: 1 = stylised only, 0 = original", both));
    c.push_back(number_option("learning_rate", &G::learning_rate, 0, 100,
                              "Learning rate (0 = L-BFGS 1, Adam 0.02)", cli));
    c.back().cli = "--lr";
    c.push_back(integer_option("lbfgs_history", &G::lbfgs_history, 1, 200, "L-BFGS memory", cli));
    c.push_back(choice_option("pool", &G::pool, kPoolNames, "VGG pooling", cli));
    c.push_back(integer_option("seed", &G::seed, 0, INT64_MAX, "Random seed (noise init)", both));
    c.push_back(integer_option("preview_every", &G::preview_every, 0, 1000000,
                               "Preview interval in evaluations (0 = never; 20 with --preview)",
                               cli));
    append_compute_options(c, cli);
    return c;
  }();
  return catalog;
}

void GatysOptions::validate() const {
  validate_options(gatys_option_catalog(), *this);
  if (!style_layer_weights.empty() && style_layer_weights.size() != style_layers.size()) {
    throw InputError("style_layer_weights: needs one weight per style layer (" +
                     std::to_string(style_layers.size()) + " given layers)");
  }
  if (!style_blend.empty()) {
    double sum = 0;
    for (double w : style_blend) sum += w;
    if (sum <= 0) throw InputError("style_blend: weights cannot all be 0");
  }
}

}  // namespace pastiche
