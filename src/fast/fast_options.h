// Every setting of applying a fast model, to an image or a video, with its default in one place;
// the catalogues declare each setting's range, help and where it is accepted (CLI `stylize`,
// `stylize-video`, HTTP fields), and validate() is the single check.
#pragma once
#include <map>
#include <string>

#include "common/enum_names.h"
#include "common/option_catalog.h"

namespace pastiche {

// Convolutions in int8 (fast/int8_conv.h). auto = for pictures of 768 px and more where the CPU
// has no fast bf16 (the float choice of `pastiche device` is fp32): there int8 is 1.3-1.6x faster
// than float32; with bf16 it is slower (bench/RESULTS.md, "int8"). SSIM to float32 >= 0.98 on the
// default models.
enum class Int8Use { automatic, on, off };
inline constexpr EnumName<Int8Use> kInt8UseNames[] = {
    {Int8Use::automatic, "auto"}, {Int8Use::on, "on"}, {Int8Use::off, "off"}};

struct FastOptions {
  int size = 0;  // longest side of the output; 0 = the input's size
  bool original_colors = false;
  double blend = 1.0;                       // 1 = stylised only
  std::map<std::string, double> style_mix;  // multi-style models: style name -> weight
  int tile = 0;                             // tile side for huge images; 0 = automatic
  // Brush size: strokes relative to the picture, the same at every output size (stroke_scale.h);
  // 1 = the model's reference look, 2 = strokes twice as large.
  double stroke_scale = 1.0;
  // How strongly the style is painted: 1 = the model's look, 0 = the photo's, mixed in feature
  // space through the model's neutral style (fast/neutral_style.h), else blended with the photo.
  double strength = 1.0;
  Int8Use int8 = Int8Use::automatic;
  void validate() const;  // throws InputError naming the field
};

const OptionCatalog<FastOptions>& fast_option_catalog();

// "a=0.5,b=0.5": style names (1-64 of [A-Za-z0-9_.-]) with weights >= 0, not all zero, at most
// 16 styles. InputError naming `field`.
std::map<std::string, double> parse_style_mix(const std::string& text,
                                              const std::string& field = "style_mix");
std::string format_style_mix(const std::map<std::string, double>& mix);  // parses back the same

}  // namespace pastiche
