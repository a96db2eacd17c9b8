// Post-processing applied after stylisation, on 8-bit BGR images of the same size.
#pragma once
#include <opencv2/core.hpp>

namespace pastiche {

// Keeps the photo's colours: the stylised image's luminance with the original's chrominance
// (YCrCb). `original` is resized to the stylised image's size when they differ.
cv::Mat preserve_original_colors(const cv::Mat& stylized, const cv::Mat& original);

// Recolours `style` so its colour distribution (mean and covariance in RGB) matches `content`'s;
// used before style transfer when the user wants the photo's palette with the painting's strokes.
cv::Mat match_color_histogram(const cv::Mat& style, const cv::Mat& content);

// Linear blend: alpha = 1 gives the stylised image, 0 the original. alpha must be in [0, 1].
cv::Mat blend_with_original(const cv::Mat& stylized, const cv::Mat& original, double alpha);

// base + weight * (target - approx), saturated to 8 bits: what `approx` misses of `target`, put
// back onto `base` (all 8-bit BGR of one size; weight in [0, 1]).
cv::Mat add_residual(const cv::Mat& base, const cv::Mat& target, const cv::Mat& approx,
                     double weight);

}  // namespace pastiche
