#include "gatys/gatys_options.h"

#include <cmath>

#include "common/error.h"

namespace pastiche {

namespace {

void require(bool ok, const std::string& field, const std::string& rule) {
  if (!ok) throw InputError(field + ": " + rule);
}

bool finite_non_negative(double v) {
  return std::isfinite(v) && v >= 0;
}

}  // namespace

void GatysOptions::validate() const {
  require(size >= 16 && size <= 8192, "size", "must be between 16 and 8192 px");
  require(steps >= 0 && steps <= 100000, "steps", "must be between 0 (automatic) and 100000");
  require(finite_non_negative(content_weight), "content_weight", "must be a number >= 0");
  require(finite_non_negative(style_weight), "style_weight", "must be a number >= 0");
  require(finite_non_negative(tv_weight), "tv_weight", "must be a number >= 0");
  require(content_weight > 0 || style_weight > 0, "style_weight",
          "content and style weights cannot both be 0");
  require(style_layer_weights.empty() || style_layer_weights.size() == style_layers.size(),
          "style_layer_weights",
          "needs one weight per style layer (" + std::to_string(style_layers.size()) +
              " given layers)");
  for (double w : style_layer_weights)
    require(finite_non_negative(w), "style_layer_weights", "must be numbers >= 0");
  for (double w : style_blend)
    require(finite_non_negative(w), "style_blend", "must be numbers >= 0");
  if (!style_blend.empty()) {
    double sum = 0;
    for (double w : style_blend) sum += w;
    require(sum > 0, "style_blend", "weights cannot all be 0");
  }
  require(std::isfinite(style_scale) && style_scale >= 0.1 && style_scale <= 4.0, "style_scale",
          "must be between 0.1 and 4");
  require(scales >= 0 && scales <= 8, "scales", "must be between 0 (automatic) and 8");
  require(min_scale_size >= 16, "min_scale_size", "must be at least 16 px");
  require(std::isfinite(blend) && blend >= 0 && blend <= 1, "blend", "must be between 0 and 1");
  require(std::isfinite(learning_rate) && learning_rate >= 0 && learning_rate <= 100,
          "learning_rate", "must be between 0 (default) and 100");
  require(lbfgs_history >= 1 && lbfgs_history <= 200, "lbfgs_history", "must be between 1 and 200");
  require(preview_every >= 0, "preview_every", "must be >= 0");
}

const char* to_string(Optimizer o) {
  return o == Optimizer::lbfgs ? "lbfgs" : "adam";
}

const char* to_string(InitKind k) {
  switch (k) {
    case InitKind::content:
      return "content";
    case InitKind::noise:
      return "noise";
    case InitKind::style:
      return "style";
  }
  return "content";
}

Optimizer parse_optimizer(const std::string& s) {
  if (s == "lbfgs" || s == "l-bfgs") return Optimizer::lbfgs;
  if (s == "adam") return Optimizer::adam;
  throw InputError("optimizer: unknown value '" + s + "' (expected lbfgs or adam)");
}

InitKind parse_init(const std::string& s) {
  if (s == "content") return InitKind::content;
  if (s == "noise" || s == "random") return InitKind::noise;
  if (s == "style") return InitKind::style;
  throw InputError("init: unknown value '" + s + "' (expected content, noise or style)");
}

}  // namespace pastiche
