// The option catalogues: each setting's text rules, and properties every declared setting must
// have (defaults that validate, text that round-trips, unique names per command).
#include <gtest/gtest.h>

#include <set>

#include "common/error.h"
#include "common/fixtures.h"
#include "common/option_catalog.h"
#include "fast/fast_options.h"
#include "fast/train_options.h"
#include "gatys/gatys_options.h"
#include "video/video_options.h"

namespace pastiche {
namespace {

using testing::input_error_of;

TEST(OptionText, IntegersNumbersAndFlagsStateTheirRule) {
  EXPECT_EQ(parse_integer("n", " 42 ", 0, 100), 42);
  EXPECT_EQ(input_error_of([] { parse_integer("n", "12px", 0, 100); }), "n: must be an integer");
  EXPECT_EQ(input_error_of([] { parse_integer("n", "101", 0, 100); }),
            "n: must be between 0 and 100");
  EXPECT_EQ(input_error_of([] { parse_integer("n", "99999999999999999999", 0, 100); }),
            "n: must be between 0 and 100");
  EXPECT_EQ(parse_integer("n", "0", 16, 64, "automatic"), 0);
  EXPECT_EQ(input_error_of([] { parse_integer("n", "8", 16, 64, "automatic"); }),
            "n: must be 0 (automatic) or between 16 and 64");
  EXPECT_DOUBLE_EQ(parse_number("x", "0.25", 0, 1), 0.25);
  EXPECT_EQ(input_error_of([] { parse_number("x", "nan", 0, 1); }), "x: must be a number");
  EXPECT_EQ(input_error_of([] { parse_number("x", "inf", 0, 1); }), "x: must be a number");
  EXPECT_EQ(input_error_of([] { parse_number("x", "0", 0, 1, true); }),
            "x: must be greater than 0 and at most 1");
  EXPECT_TRUE(parse_flag("f", "Yes"));
  EXPECT_FALSE(parse_flag("f", "0"));
  EXPECT_EQ(input_error_of([] { parse_flag("f", "maybe"); }), "f: must be true or false");
  EXPECT_EQ(split_list(" a, b,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(input_error_of([] { parse_number_list("w", "1,-2", 0, 5); }),
            "w: must be between 0 and 5");
}

TEST(OptionText, NumbersFormatToTheShortestTextThatReadsBackExactly) {
  for (double v : {0.2, 20.0, 1e9, 0.511111111111111, 1.0 / 3.0, 5e-324}) {
    EXPECT_EQ(std::strtod(format_number(v).c_str(), nullptr), v) << format_number(v);
  }
  EXPECT_EQ(format_number(0.2), "0.2");
}

TEST(EnumNames, CanonicalNamesAliasesAndTheMessage) {
  EXPECT_STREQ(to_string(Optimizer::lbfgs), "lbfgs");
  EXPECT_EQ(parse_optimizer("l-bfgs"), Optimizer::lbfgs);
  EXPECT_EQ(enum_choices(kInitNames),
            (std::vector<std::string>{"content", "noise", "style", "image"}));
  EXPECT_EQ(input_error_of([] { parse_init("zeros"); }),
            "init: must be content, noise, style or image");
  EXPECT_EQ(parse_memory_layout("channels_last"), MemoryLayout::channels_last);
  EXPECT_STREQ(to_string(MemoryLayout::channels_last), "channels-last");
}

// Every catalogue: names and CLI spellings unique, help present, the struct's defaults within
// their declared ranges, and get()/set() inverse on the defaults.
template <class T>
void expect_well_formed(const OptionCatalog<T>& catalog, const T& defaults) {
  std::set<std::string> names, flags;
  for (const auto& o : catalog) {
    EXPECT_TRUE(names.insert(o.name).second) << o.name << " declared twice";
    EXPECT_TRUE(flags.insert(o.cli_names()).second) << o.cli_names();
    EXPECT_FALSE(o.help.empty()) << o.name;
    EXPECT_NE(o.uses, 0u) << o.name;
    EXPECT_NO_THROW(o.validate(defaults)) << o.name;
    T copy = defaults;
    o.set(copy, o.get(defaults));
    EXPECT_EQ(o.get(copy), o.get(defaults)) << o.name;
  }
}

TEST(OptionCatalog, EveryCatalogueIsWellFormed) {
  expect_well_formed(gatys_option_catalog(), GatysOptions{});
  expect_well_formed(fast_option_catalog(), FastOptions{});
  expect_well_formed(video_option_catalog(), VideoOptions{});
  expect_well_formed(train_option_catalog(), TrainOptions{});
}

TEST(OptionCatalog, ValidateChecksTheDeclaredRange) {
  for (const auto& o : gatys_option_catalog()) {
    if (o.kind != OptionKind::integer && o.kind != OptionKind::number) continue;
    GatysOptions g;
    const double above = o.kind == OptionKind::integer ? o.int_hi + 1.0 : o.hi * 2 + 1;
    o.set(g, o.get(g));
    EXPECT_THROW(o.set(g, format_number(above)), InputError) << o.name;
  }
  GatysOptions g;
  g.scales = 9;
  EXPECT_EQ(input_error_of([&] { g.validate(); }),
            "scales: must be 0 (automatic) or between 1 and 8")
      << "0 is automatic, so the range starts at 1";
}

TEST(OptionCatalog, TheSharedLossSettingsKeepEachEnginesDefault) {
  const auto* gatys = find_option(gatys_option_catalog(), "style_weight");
  const auto* train = find_option(train_option_catalog(), "style_weight");
  ASSERT_TRUE(gatys && train);
  EXPECT_EQ(gatys->help, train->help);
  EXPECT_EQ(gatys->get(GatysOptions{}), "20");
  EXPECT_EQ(train->get(TrainOptions{}), "35");
  EXPECT_TRUE(gatys->used_by(option_use::http));
  EXPECT_FALSE(train->used_by(option_use::http));
}

TEST(OptionCatalog, VideoFramesUseTheFastSettings) {
  VideoOptions v;
  find_option(video_option_catalog(), "blend")->set(v, "0.25");
  EXPECT_DOUBLE_EQ(v.frame.blend, 0.25);
  find_option(video_option_catalog(), "style_mix")->set(v, "a=1, b=3");
  EXPECT_EQ(v.frame.style_mix.at("b"), 3);
  EXPECT_EQ(input_error_of([&] { find_option(video_option_catalog(), "smooth")->set(v, "1"); }),
            "smooth: must be between 0 and 0.95");
  find_option(video_option_catalog(), "codec")->set(v, "vp9");
  EXPECT_EQ(v.codec, VideoCodec::vp9);
  EXPECT_EQ(input_error_of([&] { find_option(video_option_catalog(), "codec")->set(v, "mp4v"); }),
            "codec: must be auto, h264, vp9 or mjpeg");
}

TEST(StyleMix, ParsesOncePairsAndRefusesBadOnes) {
  const auto mix = parse_style_mix(" a = 0.5 , b=1.5");
  EXPECT_EQ(mix.size(), 2u);
  EXPECT_EQ(format_style_mix(mix), "a=0.5,b=1.5");
  EXPECT_EQ(parse_style_mix(format_style_mix(mix)), mix);
  EXPECT_EQ(input_error_of([] { parse_style_mix("a"); }),
            "style_mix: expected name=weight pairs, got 'a'");
  EXPECT_EQ(input_error_of([] { parse_style_mix("a=1,a=2"); }), "style_mix: 'a' given twice");
  EXPECT_EQ(input_error_of([] { parse_style_mix("a=0,b=0"); }),
            "style_mix: weights must not all be zero");
  EXPECT_EQ(input_error_of([] { parse_style_mix("../x=1"); }),
            "style_mix: invalid style name '../x'");
  EXPECT_EQ(input_error_of([] { parse_style_mix("a=1", "--style-mix"); }), "");
}

}  // namespace
}  // namespace pastiche
