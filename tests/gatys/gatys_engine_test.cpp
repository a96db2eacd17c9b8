#include "gatys/gatys_engine.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "common/fixtures.h"
#include "gatys/schedule.h"

namespace pastiche {
namespace {

using testing::TempDir;

class GatysEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    testing::write_synthetic_vgg(dir_->file("vgg.safetensors"), WeightConvention::caffe, 2, 7);
  }
  static void TearDownTestSuite() { delete dir_; }

  GatysEngine engine() { return GatysEngine(Vgg(dir_->file("vgg.safetensors"))); }

  static GatysOptions small_options() {
    GatysOptions o;
    o.size = 40;
    o.steps = 25;
    o.scales = 1;
    return o;
  }

  cv::Mat content_ = testing::synthetic_content_image(48, 32);
  cv::Mat style_ = testing::synthetic_style_image(40, 40);
  static TempDir* dir_;
};
TempDir* GatysEngineTest::dir_ = nullptr;

TEST_F(GatysEngineTest, UnavailableLayerIsAClearError) {
  auto o = small_options();
  o.style_layers = {"relu1_1", "relu4_1"};
  try {
    engine().run(content_, {style_}, o);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("relu4_1"), std::string::npos) << e.what();
  }
}

TEST_F(GatysEngineTest, LossesFallAndProgressIsReportedEveryEvaluation) {
  auto o = small_options();
  o.preview_every = 5;
  std::vector<GatysProgress> progress;
  int previews = 0;
  GatysCallbacks callbacks;
  callbacks.on_progress = [&](const GatysProgress& p) { progress.push_back(p); };
  callbacks.on_preview = [&](const cv::Mat& image, int) {
    EXPECT_EQ(image.type(), CV_8UC3);
    ++previews;
  };
  const auto result = engine().run(content_, {style_}, o, callbacks);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(static_cast<int>(progress.size()), result.iterations);
  EXPECT_LE(result.iterations, 25);
  EXPECT_EQ(previews, result.iterations / 5);
  EXPECT_EQ(progress.front().iteration, 1);
  // Starting from the content image the content loss is 0; style must fall substantially.
  EXPECT_LT(progress.back().style_loss, 0.5 * progress.front().style_loss);
  EXPECT_LT(progress.back().total_loss, progress.front().total_loss);
  EXPECT_EQ(result.image.cols, 40);  // longest side, aspect kept (48x32 -> 40x27)
  EXPECT_EQ(result.image.rows, 27);
}

TEST_F(GatysEngineTest, InitImageIsWhereTheOptimisationStarts) {
  auto o = small_options();
  o.optimizer = Optimizer::adam;  // small steps: the result stays near its start
  o.steps = 3;
  o.init = InitKind::image;
  // A picture of another size (same shape) and nothing like the photo: resized to the level.
  cv::Mat start(16, 24, CV_8UC3, cv::Scalar(30, 160, 220));
  std::vector<GatysProgress> progress;
  GatysCallbacks callbacks;
  callbacks.on_progress = [&](const GatysProgress& p) { progress.push_back(p); };
  const auto result = engine().run(content_, {style_}, o, callbacks, start).image;
  ASSERT_FALSE(progress.empty());
  EXPECT_GT(progress.front().content_loss, 0.0);  // from the photo it would start at 0
  cv::Mat start_resized, content_resized;
  cv::resize(start, start_resized, result.size(), 0, 0, cv::INTER_AREA);
  cv::resize(content_, content_resized, result.size(), 0, 0, cv::INTER_AREA);
  EXPECT_LT(cv::norm(result, start_resized, cv::NORM_L1),
            0.25 * cv::norm(result, content_resized, cv::NORM_L1));

  // The picture and the setting go together.
  EXPECT_THROW(engine().run(content_, {style_}, o), InputError);
  o.init = InitKind::content;
  EXPECT_THROW(engine().run(content_, {style_}, o, {}, start), InputError);
}

TEST_F(GatysEngineTest, AdamAlsoLowersTheLoss) {
  auto o = small_options();
  o.optimizer = Optimizer::adam;
  o.init = InitKind::noise;
  std::vector<double> totals;
  GatysCallbacks callbacks;
  callbacks.on_progress = [&](const GatysProgress& p) { totals.push_back(p.total_loss); };
  engine().run(content_, {style_}, o, callbacks);
  ASSERT_EQ(totals.size(), 25u);
  EXPECT_LT(totals.back(), totals.front());
}

TEST_F(GatysEngineTest, SameSeedSameImageDifferentSeedDifferentImage) {
  auto o = small_options();
  o.init = InitKind::noise;
  o.steps = 8;
  o.seed = 11;
  const auto a = engine().run(content_, {style_}, o).image;
  const auto b = engine().run(content_, {style_}, o).image;
  o.seed = 12;
  const auto c = engine().run(content_, {style_}, o).image;
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(a, c, cv::NORM_INF), 0.0);
}

TEST_F(GatysEngineTest, MultiScaleRunsEveryLevelInOrder) {
  auto o = small_options();
  o.size = 64;
  o.scales = 3;
  o.min_scale_size = 24;
  o.steps = 12;
  std::vector<int> widths;
  GatysCallbacks callbacks;
  callbacks.on_progress = [&](const GatysProgress& p) {
    if (widths.empty() || widths.back() != p.width) widths.push_back(p.width);
  };
  const auto result = engine().run(content_, {style_}, o, callbacks);
  ASSERT_EQ(result.schedule.size(), 3u);
  // Every level ran, coarse to fine, each at the size its plan gave it.
  ASSERT_EQ(widths.size(), 3u);
  for (size_t i = 0; i < widths.size(); ++i) {
    EXPECT_EQ(widths[i], result.schedule[i]) << "level " << i;
    if (i > 0) EXPECT_LT(widths[i - 1], widths[i]);
  }
  EXPECT_EQ(result.image.cols, 64);
}

TEST_F(GatysEngineTest, CoarseLevelsStopOnConvergenceDeterministically) {
  auto o = small_options();
  o.size = 48;
  o.scales = 2;
  o.min_scale_size = 24;
  o.steps = 90;  // far more than the tiny coarse level needs
  o.init = InitKind::noise;
  o.seed = 5;
  o.tolerance = 0.05;
  const auto plan = plan_schedule(o);
  const auto a = engine().run(content_, {style_}, o);
  const auto b = engine().run(content_, {style_}, o);
  ASSERT_EQ(a.level_evaluations.size(), 2u);
  EXPECT_LT(a.level_evaluations[0], plan[0].steps);  // stopped early
  EXPECT_GE(a.level_evaluations[0], 2 * kConvergenceWindow);
  EXPECT_EQ(a.level_evaluations, b.level_evaluations);  // same seed, same stops
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0.0);

  o.tolerance = 0;  // every planned evaluation
  o.steps = 40;
  const auto all = engine().run(content_, {style_}, o);
  EXPECT_EQ(all.level_evaluations[0], plan_schedule(o)[0].steps);
}

TEST_F(GatysEngineTest, TheLastLevelRunsItsPlanWhateverTheTolerance) {
  auto o = small_options();
  o.steps = 30;
  o.tolerance = 0.9;  // would stop any coarse level at its first chance
  const auto result = engine().run(content_, {style_}, o);
  ASSERT_EQ(result.level_evaluations.size(), 1u);
  EXPECT_EQ(result.level_evaluations[0], 30);
}

TEST_F(GatysEngineTest, BlendWeightOneEqualsTheSingleStyle) {
  auto o = small_options();
  o.steps = 6;
  const auto single = engine().run(content_, {style_}, o).image;
  o.style_blend = {1.0, 0.0};
  const auto other = testing::synthetic_content_image(40, 40);
  const auto blended = engine().run(content_, {style_, other}, o).image;
  EXPECT_EQ(cv::norm(single, blended, cv::NORM_INF), 0.0);
  o.style_blend = {0.5, 0.5};
  const auto mixed = engine().run(content_, {style_, other}, o).image;
  EXPECT_GT(cv::norm(single, mixed, cv::NORM_INF), 0.0);
}

TEST_F(GatysEngineTest, CancelFlagStopsTheRun) {
  auto o = small_options();
  std::atomic<bool> cancel{false};
  int seen = 0;
  GatysCallbacks callbacks;
  callbacks.cancel = &cancel;
  callbacks.on_progress = [&](const GatysProgress& p) {
    seen = p.iteration;
    if (p.iteration == 3) cancel = true;
  };
  EXPECT_THROW(engine().run(content_, {style_}, o, callbacks), Cancelled);
  EXPECT_EQ(seen, 3);
}

TEST_F(GatysEngineTest, OriginalColorsKeepThePhotosChroma) {
  auto o = small_options();
  o.steps = 10;
  o.original_colors = true;
  const auto result = engine().run(content_, {style_}, o);
  cv::Mat content_small;
  cv::resize(content_, content_small, result.image.size(), 0, 0, cv::INTER_AREA);
  cv::Mat a, b;
  cv::cvtColor(result.image, a, cv::COLOR_BGR2YCrCb);
  cv::cvtColor(content_small, b, cv::COLOR_BGR2YCrCb);
  std::vector<cv::Mat> ca, cb;
  cv::split(a, ca);
  cv::split(b, cb);
  EXPECT_LE(cv::norm(ca[1], cb[1], cv::NORM_L1) / ca[1].total(), 3.0);
  EXPECT_LE(cv::norm(ca[2], cb[2], cv::NORM_L1) / ca[2].total(), 3.0);
}

}  // namespace
}  // namespace pastiche
