#include "fast/fast_stylizer.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/fixtures.h"
#include "common/safetensors.h"
#include "fast/int8_conv.h"
#include "fast/tiled.h"
#include "fast_test_util.h"
#include "image/image_io.h"

namespace pastiche {
namespace {

using testing::mean_abs_diff;
using testing::TempDir;

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  double max = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &max);
  return max;
}

TEST(FastStylizer, KeepsSizeAndResizesOnRequest) {
  TempDir dir;
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 4, 1, 1));
  EXPECT_EQ(stylizer.info().name, "m");
  const auto content = testing::synthetic_content_image(45, 31);
  const auto out = stylizer.stylize(content, {});
  EXPECT_EQ(out.size(), content.size());
  EXPECT_EQ(out.type(), CV_8UC3);
  FastOptions o;
  o.size = 90;
  EXPECT_EQ(stylizer.stylize(content, o).cols, 90);
}

TEST(FastStylizer, BlendZeroGivesTheOriginal) {
  TempDir dir;
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 4, 1, 1));
  const auto content = testing::synthetic_content_image(40, 40);
  FastOptions o;
  o.blend = 0.0;
  EXPECT_LE(max_abs_diff(stylizer.stylize(content, o), content), 1.0);
}

// A clip calibrates once: the second frame is painted with the first frame's ranges (not its
// own), and turning keeping on again starts a new clip.
TEST(FastStylizer, KeptInt8CalibrationServesTheWholeClip) {
  if (!int8_convolution_error().empty())
    GTEST_SKIP() << "no int8 convolutions here: " << int8_convolution_error();
  TempDir dir;
  const auto model = testing::write_random_model(dir.file("m.safetensors"), 8, 1, 1);
  const auto first = testing::synthetic_content_image(64, 48);
  cv::Mat second;
  cv::flip(first, second, 1);
  second.convertTo(second, -1, 0.5, 100);  // other ranges than the first frame's
  FastOptions o;
  o.int8 = Int8Use::on;
  FastStylizer fresh(model);
  const auto own_ranges = fresh.stylize(second, o);
  FastStylizer clip(model);
  clip.keep_int8_calibration(true);
  clip.stylize(first, o);
  const auto kept_ranges = clip.stylize(second, o);
  EXPECT_GT(max_abs_diff(kept_ranges, own_ranges), 0.0) << "the second frame was recalibrated";
  EXPECT_LT(mean_abs_diff(kept_ranges, own_ranges), 6.0);
  clip.keep_int8_calibration(true);  // a new clip: calibrated on its first frame again
  EXPECT_EQ(max_abs_diff(clip.stylize(second, o), own_ranges), 0.0);
}

TEST(FastStylizer, Int8PaintsNearlyTheSamePicture) {
  if (!int8_convolution_error().empty())
    GTEST_SKIP() << "no int8 convolutions here: " << int8_convolution_error();
  TempDir dir;
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 8, 1, 1));
  const auto content = testing::synthetic_content_image(64, 48);
  FastOptions o;
  o.int8 = Int8Use::off;
  EXPECT_FALSE(stylizer.uses_int8(o, 4096));
  const auto float_out = stylizer.stylize(content, o);
  EXPECT_FALSE(stylizer.used_int8());
  o.int8 = Int8Use::automatic;  // the float choice and the picture's size decide
  EXPECT_FALSE(stylizer.uses_int8(o, kInt8MinSide - 1));
  EXPECT_EQ(stylizer.uses_int8(o, kInt8MinSide), !stylizer.format().bf16());
  stylizer.stylize(content, o);
  EXPECT_FALSE(stylizer.used_int8()) << "64 px is below kInt8MinSide";
  o.int8 = Int8Use::on;
  EXPECT_TRUE(stylizer.uses_int8(o, 64));
  const auto int8_out = stylizer.stylize(content, o);
  EXPECT_TRUE(stylizer.used_int8());
  ASSERT_EQ(int8_out.size(), float_out.size());
  const double diff = mean_abs_diff(int8_out, float_out);
  EXPECT_GT(diff, 0.0) << "the int8 pass did not run";
  EXPECT_LT(diff, 6.0);
  o.int8 = Int8Use::off;  // and back to float, exactly
  EXPECT_EQ(max_abs_diff(stylizer.stylize(content, o), float_out), 0.0);
}

TEST(FastStylizer, ValidatesOptions) {
  FastOptions o;
  o.blend = 1.5;
  EXPECT_THROW(o.validate(), InputError);
  o = {};
  o.size = 3;
  EXPECT_THROW(o.validate(), InputError);
  o = {};
  o.tile = 10;
  EXPECT_THROW(o.validate(), InputError);
  o = {};
  o.style_mix["a"] = -1;
  EXPECT_THROW(o.validate(), InputError);
}

TEST(Tiling, TileStartsCoverTheImageWithOverlap) {
  EXPECT_EQ(tile_starts(100, 128, 32), std::vector<int>{0});
  for (int length : {129, 300, 1000, 4000}) {
    const auto starts = tile_starts(length, 128, 32);
    EXPECT_EQ(starts.front(), 0);
    EXPECT_GE(length - starts.back(), 128);  // the last tile runs to the edge,
    EXPECT_LT(length - starts.back(), 132);  // at most stride - 1 px longer than a tile
    for (size_t i = 1; i < starts.size(); ++i) {
      EXPECT_EQ(starts[i] % 4, 0);  // aligned to the network's stride
      EXPECT_GE(starts[i - 1] + 128 - starts[i], 32);
    }
  }
}

TEST(Tiling, TiledEqualsUntiledWithinTolerance) {
  TempDir dir;
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 8, 1, 1, false, 7));
  cv::Mat content = testing::synthetic_content_image(300, 210);
  cv::Mat noise(content.size(), CV_8UC3);
  cv::randu(noise, 0, 40);
  content += noise;  // some texture, so the network's output varies across the image
  FastOptions untiled_options;
  untiled_options.stroke_scale = 512.0 / 300;  // painted at its own size, in one pass per size
  untiled_options.int8 = Int8Use::off;         // tiling alone (int8 tiles: int8_conv_test.cpp)
  const auto untiled = stylizer.stylize(content, untiled_options);
  FastOptions tiled_options = untiled_options;
  tiled_options.tile = 128;
  int tiles = 0;
  const auto tiled =
      stylizer.stylize(content, tiled_options, [&](int, int total) { tiles = total; });
  EXPECT_EQ(tiles, 12);  // 4 x 3 tiles of 128 px overlapping by >= 64 px
  const double mean = mean_abs_diff(tiled, untiled);
  const double max = max_abs_diff(tiled, untiled);
  EXPECT_LT(mean, 1.0) << "max " << max;
  EXPECT_LT(max, 24.0);
}

TEST(Tiling, CancelStopsBetweenTiles) {
  TempDir dir;
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 4, 1, 1));
  std::atomic<bool> cancel{false};
  FastOptions o;
  o.tile = 128;
  EXPECT_THROW(
      stylizer.stylize(
          testing::synthetic_content_image(300, 300), o, [&](int, int) { cancel = true; }, &cancel),
      Cancelled);
}

TEST(FastStylizer, StyleMixAtWeightOneEqualsTheSingleStyle) {
  TempDir dir;
  // A two-style model, and single-style models holding each style's gamma/beta.
  auto two = testing::random_net(6, 2, 2, 3);
  save_fast_model(dir.file("two.safetensors"), FastModel(two, testing::meta_for(two)));
  for (int64_t s = 0; s < 2; ++s) {
    auto single = testing::random_net(6, 2, 1, 99);
    torch::NoGradGuard no_grad;
    auto source = two->named_parameters();
    for (auto& p : single->named_parameters()) {
      const auto& src = source[p.key()];
      p.value().copy_(p.key().find("gamma") != std::string::npos ||
                              p.key().find("beta") != std::string::npos
                          ? src.slice(0, s, s + 1)
                          : src);
    }
    save_fast_model(dir.file("single" + std::to_string(s) + ".safetensors"),
                    FastModel(single, testing::meta_for(single)));
  }
  FastStylizer mixed(dir.file("two.safetensors"));
  FastStylizer single0(dir.file("single0.safetensors"));
  FastStylizer single1(dir.file("single1.safetensors"));
  const auto content = testing::synthetic_content_image(64, 48);
  FastOptions o;
  o.style_mix = {{"style1", 1.0}};
  EXPECT_LE(max_abs_diff(mixed.stylize(content, o), single1.stylize(content, {})), 1.0);
  o.style_mix = {{"style0", 1.0}, {"style1", 0.0}};
  EXPECT_LE(max_abs_diff(mixed.stylize(content, o), single0.stylize(content, {})), 1.0);
  // A half/half mix differs from both ends.
  o.style_mix = {{"style0", 0.5}, {"style1", 0.5}};
  const auto half = mixed.stylize(content, o);
  EXPECT_GT(mean_abs_diff(half, single0.stylize(content, {})), 0.5);
  EXPECT_GT(mean_abs_diff(half, single1.stylize(content, {})), 0.5);
  o.style_mix = {{"nope", 1.0}};
  EXPECT_THROW(mixed.stylize(content, o), NotFoundError);
}

TEST(FastModels, ListAndResolveByName) {
  TempDir a, b;
  testing::write_random_model(a.file("alpha.safetensors"), 4, 1, 1);
  testing::write_random_model(a.file("beta.safetensors"), 4, 1, 2, true);
  testing::write_random_model(b.file("alpha.safetensors"), 4, 1, 1);           // shadowed by a/
  write_safetensors(b.file("vgg19.safetensors"), {{"x", torch::zeros({1})}});  // not a model
  const auto models = list_fast_models({a.path().string(), b.path().string(), "/nonexistent"});
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[0].name, "alpha");
  EXPECT_EQ(models[0].path, a.file("alpha.safetensors"));
  EXPECT_EQ(models[1].name, "beta");
  EXPECT_EQ(models[1].styles.size(), 2u);
  EXPECT_EQ(models[1].dtype, "float16");
  EXPECT_FALSE(models[1].thumbnail_jpeg.empty());
  const std::vector<std::string> dirs{a.path().string(), b.path().string()};
  EXPECT_EQ(resolve_fast_model("beta", dirs), a.file("beta.safetensors"));
  EXPECT_EQ(resolve_fast_model(b.file("alpha.safetensors"), dirs), b.file("alpha.safetensors"));
  try {
    resolve_fast_model("gamma", dirs);
    FAIL() << "expected NotFoundError";
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("alpha, beta"), std::string::npos) << e.what();
  }
}

TEST(FastStylizer, FolderInFolderOut) {
  TempDir dir;
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 4, 1, 1));
  const auto in = dir.path() / "in";
  std::filesystem::create_directories(in / "sub");
  save_image(testing::synthetic_content_image(40, 30), (in / "a.jpg").string());
  save_image(testing::synthetic_content_image(20, 50), (in / "sub" / "b.png").string());
  std::ofstream(in / "broken.jpg") << "not an image";
  std::ofstream(in / "notes.txt") << "ignored";
  int last_total = 0;
  const auto result =
      stylize_folder(stylizer, in.string(), (dir.path() / "out").string(), {},
                     [&](int, int total, const std::string&) { last_total = total; });
  EXPECT_EQ(last_total, 3);
  EXPECT_EQ(result.processed, 2);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_NE(result.failures[0].first.find("broken.jpg"), std::string::npos);
  EXPECT_EQ(load_image((dir.path() / "out" / "a.jpg").string()).size(), cv::Size(40, 30));
  EXPECT_EQ(load_image((dir.path() / "out" / "sub" / "b.png").string()).size(), cv::Size(20, 50));
  EXPECT_THROW(stylize_folder(stylizer, (dir.path() / "nope").string(), "x", {}), InputError);
}

}  // namespace
}  // namespace pastiche
