#include "image/postprocess.h"

#include <algorithm>
#include <cmath>
#include <opencv2/core/matx.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "image/image_io.h"

namespace pastiche {
namespace {

void require_bgr8(const cv::Mat& image, const char* function, const char* name) {
  if (image.empty() || image.type() != CV_8UC3) {
    throw InputError(std::string(function) + ": " + name +
                     " must be a non-empty 8-bit BGR image (CV_8UC3)");
  }
}

// `original` at `stylized`'s size.
cv::Mat same_size(const cv::Mat& original, const cv::Mat& stylized) {
  return resize_to(original, stylized.cols, stylized.rows);
}

struct ColourStats {
  cv::Vec3d mean;
  cv::Matx33d covariance;
};

// Mean and (population) covariance of the pixels, accumulated in double without copying the image.
ColourStats colour_stats(const cv::Mat& image) {
  cv::Vec3d sum(0, 0, 0);
  cv::Matx33d products = cv::Matx33d::zeros();
  for (int y = 0; y < image.rows; ++y) {
    const uint8_t* p = image.ptr<uint8_t>(y);
    cv::Vec3d row_sum(0, 0, 0);
    cv::Matx33d row_products = cv::Matx33d::zeros();
    for (int x = 0; x < image.cols; ++x, p += 3) {
      const cv::Vec3d v(p[0], p[1], p[2]);
      row_sum += v;
      for (int i = 0; i < 3; ++i) {
        for (int j = i; j < 3; ++j) row_products(i, j) += v[i] * v[j];
      }
    }
    sum += row_sum;
    products += row_products;
  }
  const double n = static_cast<double>(image.total());
  ColourStats stats;
  stats.mean = sum * (1.0 / n);
  for (int i = 0; i < 3; ++i) {
    for (int j = i; j < 3; ++j) {
      stats.covariance(i, j) = stats.covariance(j, i) =
          products(i, j) / n - stats.mean[i] * stats.mean[j];
    }
  }
  return stats;
}

// Symmetric matrix power S^p via the eigen decomposition S = V^T diag(l) V (eigenvectors in rows).
// A small ridge keeps flat (singular) images finite.
cv::Matx33d symmetric_power(const cv::Matx33d& s, double p) {
  constexpr double kRidge = 1e-2;  // in 8-bit units squared
  cv::Matx31d values;
  cv::Matx33d vectors;
  cv::eigen(s + cv::Matx33d::eye() * kRidge, values, vectors);
  cv::Matx33d scaled = cv::Matx33d::zeros();
  for (int i = 0; i < 3; ++i) scaled(i, i) = std::pow(std::max(values(i), kRidge), p);
  return vectors.t() * scaled * vectors;
}

}  // namespace

cv::Mat preserve_original_colors(const cv::Mat& stylized, const cv::Mat& original) {
  require_bgr8(stylized, "preserve_original_colors", "the stylised image");
  require_bgr8(original, "preserve_original_colors", "the original image");
  // In float so the YCrCb round trip adds no quantisation of its own.
  cv::Mat stylized_f, original_f;
  stylized.convertTo(stylized_f, CV_32F, 1.0 / 255.0);
  same_size(original, stylized).convertTo(original_f, CV_32F, 1.0 / 255.0);
  cv::Mat stylized_ycc, original_ycc;
  cv::cvtColor(stylized_f, stylized_ycc, cv::COLOR_BGR2YCrCb);
  cv::cvtColor(original_f, original_ycc, cv::COLOR_BGR2YCrCb);
  std::vector<cv::Mat> stylized_planes, original_planes;
  cv::split(stylized_ycc, stylized_planes);
  cv::split(original_ycc, original_planes);
  original_planes[0] = stylized_planes[0];  // Y from the stylised image, Cr/Cb from the photo
  cv::Mat merged, bgr, out;
  cv::merge(original_planes, merged);
  cv::cvtColor(merged, bgr, cv::COLOR_YCrCb2BGR);
  bgr.convertTo(out, CV_8U, 255.0);  // rounds and saturates
  return out;
}

cv::Mat match_color_histogram(const cv::Mat& style, const cv::Mat& content) {
  require_bgr8(style, "match_color_histogram", "the style image");
  require_bgr8(content, "match_color_histogram", "the content image");
  // x' = A (x - mean_s) + mean_c with A = Cov_c^(1/2) Cov_s^(-1/2), so Cov(x') = Cov_c. The
  // symmetric square roots (unlike a Cholesky factor) make the result independent of the channel
  // order, so working in BGR gives the same image as working in RGB.
  const ColourStats s = colour_stats(style);
  const ColourStats c = colour_stats(content);
  const cv::Matx33d a = symmetric_power(c.covariance, 0.5) * symmetric_power(s.covariance, -0.5);
  const cv::Vec3d offset = c.mean - a * s.mean;
  cv::Mat out(style.rows, style.cols, CV_8UC3);
  for (int y = 0; y < style.rows; ++y) {
    const uint8_t* p = style.ptr<uint8_t>(y);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < style.cols; ++x, p += 3, o += 3) {
      const cv::Vec3d v = a * cv::Vec3d(p[0], p[1], p[2]) + offset;
      for (int i = 0; i < 3; ++i) o[i] = cv::saturate_cast<uint8_t>(v[i]);
    }
  }
  return out;
}

cv::Mat blend_with_original(const cv::Mat& stylized, const cv::Mat& original, double alpha) {
  require_bgr8(stylized, "blend_with_original", "the stylised image");
  require_bgr8(original, "blend_with_original", "the original image");
  if (!(alpha >= 0.0 && alpha <= 1.0)) {  // also rejects NaN
    throw InputError("blend strength must be in [0, 1], got " + std::to_string(alpha));
  }
  cv::Mat out;
  cv::addWeighted(stylized, alpha, same_size(original, stylized), 1.0 - alpha, 0.0, out);
  return out;
}

cv::Mat add_residual(const cv::Mat& base, const cv::Mat& target, const cv::Mat& approx,
                     double weight) {
  for (const auto* m : {&base, &target, &approx}) require_bgr8(*m, "add_residual", "an image");
  if (target.size() != base.size() || approx.size() != base.size())
    throw InputError("add_residual: the three images must have one size");
  if (!(weight >= 0.0 && weight <= 1.0))
    throw InputError("residual weight must be in [0, 1], got " + std::to_string(weight));
  cv::Mat b, t, a, out;
  base.convertTo(b, CV_32F);
  target.convertTo(t, CV_32F);
  approx.convertTo(a, CV_32F);
  b += weight * (t - a);
  b.convertTo(out, CV_8U);
  return out;
}

}  // namespace pastiche
