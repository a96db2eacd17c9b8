#include "fast/stroke_scale.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <vector>

#include "common/fixtures.h"
#include "fast/fast_stylizer.h"
#include "fast_test_util.h"
#include "image/image_io.h"

namespace pastiche {
namespace {

using testing::mean_abs_diff;
using testing::TempDir;

// What a painting's style is made of, at the size it is looked at: its colours (mean and spread
// per channel) and how much texture it has (mean Laplacian magnitude per channel).
std::vector<double> style_statistics(const cv::Mat& bgr) {
  cv::Mat f, lap;
  bgr.convertTo(f, CV_32F, 1.0 / 255);
  cv::Laplacian(f, lap, CV_32F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(f, mean, stddev);
  const auto texture = cv::mean(cv::abs(lap));
  std::vector<double> s;
  for (int c = 0; c < 3; ++c) s.insert(s.end(), {mean[c], stddev[c], texture[c]});
  return s;
}

double statistics_distance(const cv::Mat& a, const cv::Mat& b) {
  const auto x = style_statistics(a), y = style_statistics(b);
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) d += (x[i] - y[i]) * (x[i] - y[i]);
  return std::sqrt(d);
}

TEST(StrokeScale, WorkingSizeShrinksAsStrokesGrow) {
  EXPECT_EQ(working_long_side(1.0), kReferenceLongSide);
  EXPECT_EQ(working_long_side(2.0), kReferenceLongSide / 2);
  EXPECT_EQ(working_long_side(0.25), kReferenceLongSide * 4);
  int previous = working_long_side(0.25) + 1;
  for (double s = 0.25; s <= 4.0; s += 0.05) {
    const int side = working_long_side(s);
    EXPECT_EQ(side % 4, 0) << s;  // the network's stride
    EXPECT_GE(side, 64);
    EXPECT_LE(side, previous) << s;
    previous = side;
  }
}

TEST(StrokeScale, DetailBandOfAnUnchangedPaintingIsThePainting) {
  const auto fine = testing::synthetic_content_image(400, 300);
  cv::Mat coarse;
  cv::resize(fine, coarse, {100, 75}, 0, 0, cv::INTER_AREA);
  EXPECT_LE(mean_abs_diff(add_detail_band(coarse, fine), fine), 0.5);
  // A flat fine painting adds nothing: the result is the coarse one scaled up.
  const cv::Mat flat(300, 400, CV_8UC3, cv::Scalar(90, 120, 150));
  const auto swapped = 255 - coarse;
  cv::Mat up;
  cv::resize(swapped, up, fine.size(), 0, 0, cv::INTER_LINEAR);
  EXPECT_LE(mean_abs_diff(add_detail_band(swapped, flat), up), 0.5);
}

TEST(StrokeScale, PaintsAtTheWorkingSizeAndOnlyAddsTheFullSizesDetail) {
  std::vector<cv::Size> painted;
  const auto identity = [&](const cv::Mat& m) {
    painted.push_back(m.size());
    return m.clone();
  };
  const auto big = testing::synthetic_content_image(1024, 768);
  // Larger than the working size: painted there and at its own size, the same picture back.
  const auto out = paint_at_stroke_scale(big, 1.0, identity);
  ASSERT_EQ(painted.size(), 2u);
  EXPECT_EQ(std::max(painted[0].width, painted[0].height), kReferenceLongSide);
  EXPECT_EQ(painted[1], big.size());
  EXPECT_EQ(out.size(), big.size());
  EXPECT_LE(mean_abs_diff(out, big), 1.0);
  // Smaller: painted at the working size only, scaled back down.
  painted.clear();
  const auto small = testing::synthetic_content_image(200, 150);
  EXPECT_EQ(paint_at_stroke_scale(small, 1.0, identity).size(), small.size());
  ASSERT_EQ(painted.size(), 1u);
  EXPECT_EQ(painted[0].width, kReferenceLongSide);
  // At the working size: one pass, as it is.
  painted.clear();
  paint_at_stroke_scale(small, kReferenceLongSide / 200.0, identity);
  EXPECT_EQ(painted, std::vector<cv::Size>{small.size()});
}

// A picture 4x larger comes out as the same painting: downscaled, its colours and texture are
// those of the small one, where painting it at its own size (the strokes a fixed number of
// pixels) gives something else.
TEST(StrokeScale, FourTimesLargerOutputKeepsTheStyleStatistics) {
  TempDir dir;
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 8, 1, 1, false, 7));
  const auto photo = testing::synthetic_content_image(1024, 768);
  const cv::Mat small = resize_longest(photo, 256);

  FastOptions o;
  o.stroke_scale = 2.0;  // working size 256: the small picture is painted as it is
  const auto reference = stylizer.stylize(small, o);
  const auto large = stylizer.stylize(photo, o);
  EXPECT_EQ(large.size(), photo.size());
  o.stroke_scale = 0.5;  // working size 1024: the large picture painted at its own size
  const auto own_size = stylizer.stylize(photo, o);

  // Looked at below the reference's own size, so that resampling's blur is not counted.
  const auto seen = [&](const cv::Mat& m) { return resize_longest(m, 128); };
  const double kept = statistics_distance(seen(large), seen(reference));
  const double naive = statistics_distance(seen(own_size), seen(reference));
  EXPECT_LT(kept, 0.5 * naive) << "kept " << kept << ", painted at its own size " << naive;
  EXPECT_LT(kept, 0.02);
}

TEST(StrokeScale, BiggerBrushChangesTheLookAndIsValidated) {
  TempDir dir;
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 8, 1, 1));
  const auto photo = testing::synthetic_content_image(512, 384);
  FastOptions o;
  const auto one = stylizer.stylize(photo, o);
  o.stroke_scale = 3.0;
  const auto three = stylizer.stylize(photo, o);
  EXPECT_EQ(three.size(), photo.size());
  EXPECT_GT(mean_abs_diff(one, three), 1.0);
  for (double bad : {0.0, 0.1, 5.0, std::nan("")}) {
    o.stroke_scale = bad;
    EXPECT_THROW(stylizer.stylize(photo, o), InputError) << bad;
  }
}

}  // namespace
}  // namespace pastiche
