#include "image/postprocess.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "common/error.h"

namespace pastiche {
namespace {

// BT.601 full-range YCrCb of one BGR pixel, written out by hand as an independent reference.
cv::Vec3d ycrcb(const cv::Vec3b& bgr) {
  const double b = bgr[0], g = bgr[1], r = bgr[2];
  const double y = 0.299 * r + 0.587 * g + 0.114 * b;
  return {y, (r - y) * 0.713 + 128.0, (b - y) * 0.564 + 128.0};
}

cv::Mat random_image(int width, int height, int low, int high, unsigned seed) {
  cv::Mat image(height, width, CV_8UC3);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> value(low, high);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uint8_t>(value(rng)), static_cast<uint8_t>(value(rng)),
                    static_cast<uint8_t>(value(rng)));
    }
  }
  return image;
}

// Pixels drawn from mean + mix * z with z standard normal (BGR order), rounded to 8 bit.
cv::Mat correlated_image(int width, int height, cv::Vec3d mean, cv::Matx33d mix, unsigned seed) {
  cv::Mat image(height, width, CV_8UC3);
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const cv::Vec3d z(normal(rng), normal(rng), normal(rng));
      const cv::Vec3d v = mix * z + mean;
      image.at<cv::Vec3b>(y, x) =
          cv::Vec3b(cv::saturate_cast<uint8_t>(v[0]), cv::saturate_cast<uint8_t>(v[1]),
                    cv::saturate_cast<uint8_t>(v[2]));
    }
  }
  return image;
}

// Mean and population covariance with OpenCV's calcCovarMatrix (pixels as rows of a N x 3 matrix).
void stats(const cv::Mat& image, cv::Mat& mean, cv::Mat& covariance) {
  cv::Mat samples;
  image.reshape(1, static_cast<int>(image.total())).convertTo(samples, CV_64F);
  cv::calcCovarMatrix(samples, covariance, mean,
                      cv::COVAR_NORMAL | cv::COVAR_ROWS | cv::COVAR_SCALE, CV_64F);
}

TEST(PreserveOriginalColors, KeepsStylisedLumaAndOriginalChroma) {
  // Moderate colours so that recombining never clips.
  const cv::Mat original = random_image(32, 24, 100, 160, 1);
  cv::Mat stylized(24, 32, CV_8UC3);
  for (int y = 0; y < 24; ++y) {
    for (int x = 0; x < 32; ++x) {
      const int luma = 70 + (x * 7 + y * 13) % 115;
      stylized.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uint8_t>(luma + 6), static_cast<uint8_t>(luma - 3),
                    static_cast<uint8_t>(luma + 2));
    }
  }
  const cv::Mat out = preserve_original_colors(stylized, original);
  ASSERT_EQ(out.type(), CV_8UC3);
  ASSERT_EQ(out.size(), stylized.size());
  double max_y = 0, max_chroma = 0;
  for (int y = 0; y < 24; ++y) {
    for (int x = 0; x < 32; ++x) {
      const cv::Vec3d got = ycrcb(out.at<cv::Vec3b>(y, x));
      const cv::Vec3d want_luma = ycrcb(stylized.at<cv::Vec3b>(y, x));
      const cv::Vec3d want_chroma = ycrcb(original.at<cv::Vec3b>(y, x));
      max_y = std::max(max_y, std::abs(got[0] - want_luma[0]));
      max_chroma = std::max(
          {max_chroma, std::abs(got[1] - want_chroma[1]), std::abs(got[2] - want_chroma[2])});
    }
  }
  EXPECT_LT(max_y, 1.0);  // 8-bit rounding of the output only
  EXPECT_LT(max_chroma, 1.0);
}

TEST(PreserveOriginalColors, ResizesTheOriginal) {
  const cv::Mat original(40, 60, CV_8UC3, cv::Scalar(60, 120, 200));  // orange
  const cv::Mat stylized(20, 30, CV_8UC3, cv::Scalar(128, 128, 128));
  const cv::Mat out = preserve_original_colors(stylized, original);
  ASSERT_EQ(out.size(), stylized.size());
  const cv::Vec3d got = ycrcb(out.at<cv::Vec3b>(10, 15));
  EXPECT_NEAR(got[0], 128.0, 1.0);
  EXPECT_NEAR(got[1], ycrcb(cv::Vec3b(60, 120, 200))[1], 1.0);
  EXPECT_NEAR(got[2], ycrcb(cv::Vec3b(60, 120, 200))[2], 1.0);
  EXPECT_THROW(preserve_original_colors(cv::Mat(), original), InputError);
  EXPECT_THROW(preserve_original_colors(stylized, cv::Mat(4, 4, CV_8UC1)), InputError);
}

TEST(MatchColorHistogram, MatchesMeanAndCovariance) {
  const cv::Mat style =
      correlated_image(120, 90, {100, 120, 140}, cv::Matx33d(20, 5, 0, 5, 18, 4, 0, 4, 22), 11);
  const cv::Mat content =
      correlated_image(80, 100, {150, 95, 70}, cv::Matx33d(12, -6, 3, 0, 15, 6, 2, 0, 9), 12);
  const cv::Mat out = match_color_histogram(style, content);
  ASSERT_EQ(out.size(), style.size());
  ASSERT_EQ(out.type(), CV_8UC3);

  cv::Mat out_mean, out_cov, content_mean, content_cov, style_mean, style_cov;
  stats(out, out_mean, out_cov);
  stats(content, content_mean, content_cov);
  stats(style, style_mean, style_cov);
  double largest = 0;
  for (int i = 0; i < 3; ++i) largest = std::max(largest, content_cov.at<double>(i, i));
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(out_mean.at<double>(0, i), content_mean.at<double>(0, i), 0.5) << i;
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(out_cov.at<double>(i, j), content_cov.at<double>(i, j), 0.03 * largest)
          << i << "," << j;
    }
  }
  // It really changed something: the style's mean was far from the content's.
  EXPECT_GT(std::abs(style_mean.at<double>(0, 0) - content_mean.at<double>(0, 0)), 40.0);
}

TEST(MatchColorHistogram, IdentityAndFlatImages) {
  const cv::Mat image = random_image(30, 20, 20, 230, 3);
  EXPECT_LE(cv::norm(match_color_histogram(image, image), image, cv::NORM_INF), 1.0);
  // A flat style image has no covariance: the result is the content's mean colour, finite.
  const cv::Mat flat(10, 10, CV_8UC3, cv::Scalar(10, 200, 30));
  const cv::Mat out = match_color_histogram(flat, image);
  const cv::Scalar mean = cv::mean(image);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(out.at<cv::Vec3b>(5, 5)[c], mean[c], 1.0);
  EXPECT_THROW(match_color_histogram(cv::Mat(), image), InputError);
}

TEST(BlendWithOriginal, EndpointsAndMidpoint) {
  const cv::Mat stylized = random_image(16, 12, 0, 255, 5);
  const cv::Mat original = random_image(16, 12, 0, 255, 6);
  EXPECT_EQ(cv::norm(blend_with_original(stylized, original, 1.0), stylized, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(blend_with_original(stylized, original, 0.0), original, cv::NORM_INF), 0.0);
  const cv::Mat mid = blend_with_original(stylized, original, 0.25);
  for (int y = 0; y < 12; ++y) {
    for (int x = 0; x < 16; ++x) {
      for (int c = 0; c < 3; ++c) {
        const double want =
            0.25 * stylized.at<cv::Vec3b>(y, x)[c] + 0.75 * original.at<cv::Vec3b>(y, x)[c];
        EXPECT_NEAR(mid.at<cv::Vec3b>(y, x)[c], want, 0.51);
      }
    }
  }
}

TEST(BlendWithOriginal, ResizesOriginalAndValidatesAlpha) {
  const cv::Mat stylized(10, 20, CV_8UC3, cv::Scalar(200, 200, 200));
  const cv::Mat original(30, 60, CV_8UC3, cv::Scalar(0, 100, 0));
  const cv::Mat out = blend_with_original(stylized, original, 0.5);
  ASSERT_EQ(out.size(), stylized.size());
  EXPECT_EQ(out.at<cv::Vec3b>(5, 5), cv::Vec3b(100, 150, 100));
  EXPECT_THROW(blend_with_original(stylized, original, -0.01), InputError);
  EXPECT_THROW(blend_with_original(stylized, original, 1.01), InputError);
  EXPECT_THROW(blend_with_original(stylized, original, std::numeric_limits<double>::quiet_NaN()),
               InputError);
}

}  // namespace
}  // namespace pastiche
