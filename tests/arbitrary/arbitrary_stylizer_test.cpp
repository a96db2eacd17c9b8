#include "arbitrary/arbitrary_stylizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "arbitrary/arbitrary_trainer.h"
#include "common/error.h"
#include "common/fixtures.h"
#include "image/image_io.h"

namespace pastiche {
namespace {

using testing::mean_abs_diff;
using testing::TempDir;

// Synthetic VGG (blocks 1-3), a folder of synthetic images and a decoder trained on them briefly;
// shared by the tests below (training is the slow part).
struct Trained {
  TempDir dir;
  std::string vgg =
      testing::write_synthetic_vgg(dir.file("vgg.safetensors"), WeightConvention::caffe, 3, 11);
  std::string model = dir.file("decoder.safetensors");
  std::string photos = dir.file("photos");
  ArbitraryTrainResult result;
  std::vector<std::string> log_lines;
  Trained() {
    std::filesystem::create_directories(photos);
    save_image(testing::synthetic_content_image(64, 56), photos + "/a.png");
    save_image(testing::synthetic_style_image(56, 64), photos + "/b.png");
    save_image(testing::synthetic_content_image(48, 72), photos + "/c.png");
    ArbitraryTrainOptions o;
    o.datasets = {photos};
    o.output = model;
    o.vgg = vgg;
    o.size = 32;
    o.batch = 2;
    o.width = 8;
    o.iterations = 60;
    o.learning_rate = 3e-3;
    o.checkpoint_every = 30;
    o.log_every = 10;
    o.preview_size = 48;
    o.seed = 5;
    result = train_arbitrary_decoder(o);
    std::ifstream log(result.log_path);
    for (std::string line; std::getline(log, line);) log_lines.push_back(line);
  }
};

Trained& trained() {
  static Trained t;
  return t;
}

TEST(ArbitraryTraining, ReconstructionLossFallsAndTheRunIsRecorded) {
  auto& t = trained();
  EXPECT_EQ(t.result.iterations, 60);
  EXPECT_LT(t.result.final_loss, 0.7 * t.result.first_loss)
      << "first " << t.result.first_loss << " final " << t.result.final_loss;
  EXPECT_TRUE(std::filesystem::exists(t.result.checkpoint_path));
  EXPECT_TRUE(std::filesystem::exists(t.result.preview_path));
  EXPECT_EQ(t.log_lines.size(), 7u);  // iteration 1, then every 10
  EXPECT_TRUE(is_arbitrary_model(t.model));
  const auto model = load_arbitrary_model(t.model);
  EXPECT_EQ(model.decoder->options().width, 8);
  EXPECT_EQ(model.training.value("iteration", 0), 60);
}

// A short run on the shared synthetic photos and VGG, writing `output`.
ArbitraryTrainOptions short_run(const Trained& t, const std::string& output, int iterations) {
  ArbitraryTrainOptions o;
  o.datasets = {t.photos};
  o.output = output;
  o.vgg = t.vgg;
  o.size = 32;
  o.batch = 2;
  o.width = 8;
  o.iterations = iterations;
  o.seed = 5;
  return o;
}

TEST(ArbitraryTraining, ResumingContinuesFromTheCheckpoint) {
  auto& t = trained();
  TempDir dir;
  auto o = short_run(t, dir.file("d.safetensors"), 4);
  train_arbitrary_decoder(o);
  o.iterations = 6;
  o.resume = true;
  const auto resumed = train_arbitrary_decoder(o);
  EXPECT_EQ(resumed.resumed_from, 4);
  EXPECT_EQ(resumed.iterations, 6);
  o.width = 16;
  EXPECT_THROW(train_arbitrary_decoder(o), InputError);  // another network
  o.width = 8;
  o.output = dir.file("none.safetensors");
  EXPECT_THROW(train_arbitrary_decoder(o), InputError);  // no checkpoint
}

TEST(ArbitraryTraining, TheFirstDecoderRecordsTheScaleItWasTrainedAt) {
  auto& t = trained();
  const auto model = load_arbitrary_model(t.model);
  // 1 / the RMS of the synthetic encoder's relu3_1 features: not the neutral 1 of older files.
  EXPECT_GT(model.decoder->options().input_scale, 0.0);
  EXPECT_NE(model.decoder->options().input_scale, 1.0);
  auto description = model.decoder->options().to_json();
  description.erase("input_scale");  // a file written before the field existed
  EXPECT_EQ(DecoderOptions::from_json(description).input_scale, 1.0);
}

TEST(ArbitraryTraining, TheRelu11DecoderIsSolvedByLeastSquares) {
  auto& t = trained();
  TempDir dir;
  auto o = short_run(t, dir.file("relu1_1.safetensors"), 6);  // 6 batches of the fit
  o.layer = "relu1_1";
  const auto r = train_arbitrary_decoder(o);
  EXPECT_EQ(r.iterations, 6);
  // The loss before the fit (random weights) and after it, on a batch the fit did not see.
  EXPECT_LT(r.final_loss, 0.05 * r.first_loss)
      << "first " << r.first_loss << " final " << r.final_loss;
  // Solved, not sampled: the same batches give the same weights.
  o.output = dir.file("again.safetensors");
  train_arbitrary_decoder(o);
  const auto a = load_arbitrary_model(r.model_path), b = load_arbitrary_model(o.output);
  EXPECT_TRUE(torch::equal(a.decoder->conv_out->conv->weight, b.decoder->conv_out->conv->weight));
  // And it paints: a cascade level with this decoder turns the photo back into itself at
  // strength 0.
  ArbitraryStylizer stylizer(r.model_path, t.vgg);
  const auto photo = testing::synthetic_content_image(40, 32);
  ArbitraryOptions options;
  options.strength = 0;
  const auto style = stylizer.style("s", testing::synthetic_style_image(32, 32), 32);
  EXPECT_LT(mean_abs_diff(stylizer.stylize(photo, {style}, options), photo), 6.0);
}

TEST(ArbitraryStylizer, PaintsAnyPaintingAndStrengthZeroIgnoresIt) {
  auto& t = trained();
  ArbitraryStylizer stylizer(t.model, t.vgg);
  const auto photo = testing::synthetic_content_image(70, 50);
  const auto stripes = stylizer.style("stripes", testing::synthetic_style_image(64, 64), 64);
  const auto flat = stylizer.style("flat", cv::Mat(64, 64, CV_8UC3, cv::Scalar(40, 160, 200)), 64);
  ArbitraryOptions o;
  const auto painted = stylizer.stylize(photo, {stripes}, o);
  EXPECT_EQ(painted.size(), photo.size());  // 70 x 50: padded to the stride and cropped back
  EXPECT_GT(mean_abs_diff(painted, stylizer.stylize(photo, {flat}, o)), 2.0);
  o.strength = 0;
  const auto a = stylizer.stylize(photo, {stripes}, o);
  const auto b = stylizer.stylize(photo, {flat}, o);
  EXPECT_LT(mean_abs_diff(a, b), 0.5);  // both the photo's own features, decoded
  EXPECT_LT(mean_abs_diff(a, photo), mean_abs_diff(painted, photo));
}

TEST(ArbitraryStylizer, StyleStatisticsAreComputedOncePerPainting) {
  auto& t = trained();
  ArbitraryStylizer stylizer(t.model, t.vgg);
  const auto painting = testing::synthetic_style_image(64, 64);
  const auto first = stylizer.style("p", painting, 64);
  EXPECT_EQ(stylizer.statistics_computed(), 1);
  EXPECT_EQ(stylizer.style("p", painting, 64).get(), first.get());
  EXPECT_EQ(stylizer.statistics_computed(), 1);
  stylizer.style("p", painting, 128);  // another size is other statistics
  EXPECT_EQ(stylizer.statistics_computed(), 2);
  TempDir dir;
  save_image(painting, dir.file("p.png"));
  stylizer.style_from_file(dir.file("p.png"), 64);
  stylizer.style_from_file(dir.file("p.png"), 64);
  EXPECT_EQ(stylizer.statistics_computed(), 3);
}

TEST(ArbitraryStylizer, TiledEqualsUntiled) {
  auto& t = trained();
  ArbitraryStylizer stylizer(t.model, t.vgg);
  cv::Mat photo = testing::synthetic_content_image(300, 212);
  cv::Mat noise(photo.size(), CV_8UC3);
  cv::randu(noise, 0, 40);
  photo += noise;
  const auto style = stylizer.style("s", testing::synthetic_style_image(64, 64), 64);
  ArbitraryOptions o;
  const auto untiled = stylizer.stylize(photo, {style}, o);
  o.tile = 128;
  int total = 0;
  const auto tiled = stylizer.stylize(photo, {style}, o, [&](int, int n) { total = n; });
  EXPECT_EQ(total, 2 * 3 * 2);  // 3 x 2 tiles, two passes
  EXPECT_LT(mean_abs_diff(tiled, untiled), 0.5);
}

TEST(ArbitraryStylizer, ADecoderMeetsOnlyItsOwnEncoder) {
  auto& t = trained();
  TempDir dir;
  const auto other =
      testing::write_synthetic_vgg(dir.file("other.safetensors"), WeightConvention::caffe, 3, 12);
  try {
    ArbitraryStylizer stylizer(t.model, other);
    FAIL() << "accepted a decoder trained on other features";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("train-arbitrary"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ArbitraryStylizer(t.vgg, t.vgg), InputError);  // not a decoder
}

TEST(ArbitraryStylizer, OptionsAreValidatedByName) {
  auto& t = trained();
  ArbitraryStylizer stylizer(t.model, t.vgg);
  const auto photo = testing::synthetic_content_image(40, 40);
  const auto s = stylizer.style("s", testing::synthetic_style_image(64, 64), 64);
  ArbitraryOptions o;
  o.strength = 2;
  try {
    stylizer.stylize(photo, {s}, o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("strength:", 0), 0u) << e.what();
  }
  o.strength = 1;
  o.style_blend = {1, 1};
  EXPECT_THROW(stylizer.stylize(photo, {s}, o), InputError);  // two weights, one painting
}

}  // namespace
}  // namespace pastiche
