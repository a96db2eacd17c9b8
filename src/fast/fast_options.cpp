#include "fast/fast_options.h"

#include "common/error.h"
#include "common/text.h"

namespace pastiche {

namespace {

[[noreturn]] void fail(const std::string& field, const std::string& rule) {
  throw InputError(field + ": " + rule);
}

Option<FastOptions> style_mix_option(unsigned uses) {
  auto o = make_option<FastOptions>(
      "style_mix", OptionKind::text,
      "Multi-style models: name=weight,... (default: the first style)", uses);
  o.get = [](const FastOptions& f) { return format_style_mix(f.style_mix); };
  o.parse = [](const Option<FastOptions>& self, FastOptions& f, const std::string& text) {
    f.style_mix = parse_style_mix(text, self.name);
  };
  o.check = [](const Option<FastOptions>& self, const FastOptions& f) {
    for (const auto& [name, w] : f.style_mix) check_number(self.name, w, 0, 1e6);
  };
  return o;
}

}  // namespace

const OptionCatalog<FastOptions>& fast_option_catalog() {
  using F = FastOptions;
  namespace use = option_use;
  constexpr unsigned everywhere = use::stylize | use::video | use::http;
  static const OptionCatalog<F> catalog = [] {
    OptionCatalog<F> c;
    c.push_back(integer_option("size", &F::size, 16, 16384,
                               "Longest side to paint at, px (the result keeps the input's shape)",
                               everywhere, "the input's own size"));
    c.push_back(flag_option("original_colors", &F::original_colors,
                            "Keep the photo's colours (luminance-only transfer)", everywhere));
    c.back().cli = "--original-colors,--original-colours";
    c.push_back(number_option("stroke_scale", &F::stroke_scale, 0.25, 4,
                              "Brush size: 1 = the style's own look at every size, 2 = strokes "
                              "twice as large, 0.5 = half",
                              everywhere));
    c.push_back(number_option("strength", &F::strength, 0, 1,
                              "Style strength: 1 = the style's full look, 0 = the photo's; "
                              "weakens the painting itself, not a blend with the photo",
                              everywhere));
    c.push_back(number_option("blend", &F::blend, 0, 1,
                              "Blend with the original: 1 = stylised only, 0 = original",
                              everywhere));
    // Over HTTP the mix is a field of the job (it weights the styles of Gatys jobs too).
    c.push_back(style_mix_option(use::stylize | use::video));
    c.push_back(integer_option("tile", &F::tile, 128, 8192,
                               "Tile side for huge images, px (bounds memory)", use::stylize,
                               "automatic"));
    c.push_back(choice_option("int8", &F::int8, kInt8UseNames,
                              "Convolutions in int8 (auto = from 768 px on CPUs without fast "
                              "bf16, where int8 is 1.3-1.6x faster than float32)",
                              use::stylize | use::video));
    return c;
  }();
  return catalog;
}

void FastOptions::validate() const {
  validate_options(fast_option_catalog(), *this);
}

std::map<std::string, double> parse_style_mix(const std::string& text, const std::string& field) {
  if (text.size() > 2048) fail(field, "too long");
  std::map<std::string, double> mix;
  double sum = 0;
  for (const auto& item : split_list(text)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) fail(field, "expected name=weight pairs, got '" + item + "'");
    const std::string name = trim_blanks(item.substr(0, eq));
    if (!is_valid_style_name(name)) fail(field, "invalid style name '" + printable(name) + "'");
    const double w = parse_number(field, item.substr(eq + 1), 0, 1e6);
    if (!mix.emplace(name, w).second) fail(field, "'" + name + "' given twice");
    sum += w;
    if (mix.size() > 16) fail(field, "at most 16 styles");
  }
  if (!mix.empty() && sum <= 0) fail(field, "weights must not all be zero");
  return mix;
}

std::string format_style_mix(const std::map<std::string, double>& mix) {
  std::string text;
  for (const auto& [name, w] : mix)
    text += (text.empty() ? "" : ",") + name + "=" + format_number(w);
  return text;
}

}  // namespace pastiche
