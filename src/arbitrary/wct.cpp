#include "arbitrary/wct.h"

#include "common/error.h"

namespace pastiche {

namespace {

// Eigenvalues below this fraction of the largest are treated as zero: whitening along them would
// amplify noise (the reference implementation drops eigenvalues under 1e-5 the same way).
constexpr double kRelativeEigenFloor = 1e-5;

// E f(L) E^T of a symmetric matrix, f applied to the eigenvalues kept (others map to 0).
torch::Tensor spectral_map(const torch::Tensor& symmetric, double power) {
  auto [values, vectors] = torch::linalg::eigh(symmetric, "L");
  const double floor = std::max(values.max().item<double>(), 0.0) * kRelativeEigenFloor + 1e-12;
  const auto kept = values > floor;
  const auto mapped =
      torch::where(kept, values.clamp_min(floor).pow(power), torch::zeros_like(values));
  return vectors.matmul(torch::diag(mapped)).matmul(vectors.t());
}

}  // namespace

void FeatureMoments::add(const torch::Tensor& features) {
  TORCH_CHECK(features.dim() == 4 && features.size(0) == 1, "features must be [1, C, H, W]");
  const int64_t c = features.size(1);
  // float32 per map (a matmul on oneDNN/BLAS), float64 across maps and for the decompositions.
  const auto f = features.detach().to(torch::kFloat).reshape({c, -1});
  if (!sum_.defined()) {
    sum_ = torch::zeros({c}, torch::kDouble);
    outer_ = torch::zeros({c, c}, torch::kDouble);
  }
  TORCH_CHECK(c == sum_.size(0), "feature maps with different channel counts");
  sum_ += f.sum(1).to(torch::kDouble).cpu();
  outer_ += f.matmul(f.t()).to(torch::kDouble).cpu();
  count_ += f.size(1);
}

torch::Tensor FeatureMoments::mean() const {
  TORCH_CHECK(count_ > 0, "no features");
  return sum_ / static_cast<double>(count_);
}

torch::Tensor FeatureMoments::covariance() const {
  TORCH_CHECK(count_ > 1, "need at least two feature vectors");
  const auto m = mean();
  const double n = static_cast<double>(count_);
  return (outer_ - n * torch::outer(m, m)) / (n - 1);
}

StyleStatistics style_statistics(const FeatureMoments& style) {
  return {style.mean(), spectral_map(style.covariance(), 0.5)};
}

torch::Tensor FeatureTransform::apply(const torch::Tensor& features) const {
  const int64_t c = matrix.size(0);
  const auto weight = matrix.to(features.device()).view({c, c, 1, 1});
  const auto f = features.to(torch::kFloat);
  return torch::conv2d(f.contiguous(features.suggest_memory_format()), weight,
                       bias.to(features.device()))
      .to(features.scalar_type());
}

FeatureTransform wct_transform(const FeatureMoments& content,
                               const std::vector<std::pair<const StyleStatistics*, double>>& styles,
                               double strength) {
  if (styles.empty()) throw InputError("style: at least one painting is needed");
  if (!(strength >= 0 && strength <= 1)) throw InputError("strength: must be between 0 and 1");
  double total = 0;
  for (const auto& [stats, weight] : styles) {
    if (!(weight >= 0)) throw InputError("style_blend: weights must be >= 0");
    total += weight;
  }
  if (!(total > 0)) throw InputError("style_blend: weights must not all be zero");

  const auto mc = content.mean();
  const auto whitening = spectral_map(content.covariance(), -0.5);
  const int64_t c = mc.size(0);
  auto matrix = torch::zeros({c, c}, torch::kDouble);
  auto bias = torch::zeros({c}, torch::kDouble);
  for (const auto& [stats, weight] : styles) {
    TORCH_CHECK(stats->mean.size(0) == c, "style statistics of another layer");
    // f_cs = C_s W (f - m_c) + m_s
    const auto cw = stats->coloring.matmul(whitening);
    matrix += (weight / total) * cw;
    bias += (weight / total) * (stats->mean - cw.matmul(mc));
  }
  matrix = strength * matrix + (1 - strength) * torch::eye(c, torch::kDouble);
  bias = strength * bias;
  return {matrix.to(torch::kFloat), bias.to(torch::kFloat)};
}

}  // namespace pastiche
