// The whitening and colouring transform (Li et al. 2017, "Universal Style Transfer via Feature
// Transforms"): content features are whitened (their covariance made the identity) and coloured
// with a painting's covariance and mean, so they carry the painting's second-order statistics,
// which are its Gram matrix at that layer. For fixed statistics the whole transform is one affine
// map of each feature vector, f -> A f + b, so it is computed once per picture (from the whole
// picture's moments, accumulated tile by tile) and applied to every tile as a 1x1 convolution.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace pastiche {

// First and second moments of feature vectors, summed over any number of feature maps.
class FeatureMoments {
 public:
  void add(const torch::Tensor& features);  // [1, C, H, W], any float dtype
  int64_t count() const { return count_; }
  int64_t channels() const { return sum_.defined() ? sum_.size(0) : 0; }
  torch::Tensor mean() const;        // [C] float64
  torch::Tensor covariance() const;  // [C, C] float64, unbiased

 private:
  torch::Tensor sum_, outer_;  // float64
  int64_t count_ = 0;
};

// A painting's statistics at the encoder's layer, ready for colouring: its mean and the square
// root of its covariance (E sqrt(L) E^T). Computed once per painting and cached by the stylizer.
struct StyleStatistics {
  torch::Tensor mean;      // [C] float64
  torch::Tensor coloring;  // [C, C] float64
};
StyleStatistics style_statistics(const FeatureMoments& style);

// f -> matrix f + bias, per feature vector.
struct FeatureTransform {
  torch::Tensor matrix;  // [C, C] float32
  torch::Tensor bias;    // [C] float32
  // features [N, C, H, W] -> the same shape and dtype (computed in float32).
  torch::Tensor apply(const torch::Tensor& features) const;
};

// Whitening of `content`, colouring with the weighted mix of paintings (weights normalised to sum
// 1: the interpolation of Li et al.), then strength s mixing the result with the untouched features
// (s = 1 the painting, s = 0 the identity). InputError for no style, a zero weight sum or a
// strength outside [0, 1].
FeatureTransform wct_transform(const FeatureMoments& content,
                               const std::vector<std::pair<const StyleStatistics*, double>>& styles,
                               double strength);

}  // namespace pastiche
