#include "fast/instance_norm_kernel.h"

#include <gtest/gtest.h>

#include "fast/transformer_net.h"

namespace pastiche {
namespace {

struct Case {
  torch::ScalarType dtype;
  bool channels_last;
};

const std::vector<Case> kCases = {{torch::kFloat, false},
                                  {torch::kFloat, true},
                                  {torch::kBFloat16, false},
                                  {torch::kBFloat16, true}};

std::string name(const Case& c) {
  return std::string(c.dtype == torch::kFloat ? "float32" : "bf16") +
         (c.channels_last ? " channels-last" : " NCHW");
}

torch::Tensor make(const torch::Tensor& x, const Case& c) {
  return x.to(c.dtype).contiguous(c.channels_last ? torch::MemoryFormat::ChannelsLast
                                                  : torch::MemoryFormat::Contiguous);
}

TEST(InstanceNormKernel, MeanAndVarianceMatchDoublePrecision) {
  // A large mean over a small spread (as after a conv with a big bias): naive E[x^2] - E[x]^2 in
  // float would lose the variance; the shifted sums keep it. 5000 pixels span several chunks.
  torch::manual_seed(1);
  auto base = torch::randn({2, 5, 50, 100}) * 0.5 + 100;
  for (const auto& c : kCases) {
    auto x = make(base, c);
    auto [mean, var] = spatial_mean_var(x);
    const auto xd = x.to(torch::kDouble);
    const auto ref_mean = xd.mean({2, 3});
    const auto ref_var = xd.var({2, 3}, /*unbiased=*/false);
    ASSERT_EQ(mean.sizes(), (std::vector<int64_t>{2, 5})) << name(c);
    EXPECT_TRUE(torch::allclose(mean.to(torch::kDouble), ref_mean, 1e-6, 1e-4)) << name(c);
    EXPECT_TRUE(torch::allclose(var.to(torch::kDouble), ref_var, 1e-3, 1e-5)) << name(c);
  }
}

TEST(InstanceNormKernel, ScaleShiftMatchesTheFormulaAndKeepsTheLayout) {
  torch::manual_seed(2);
  auto base = torch::randn({2, 7, 13, 9}) * 2;
  const auto scale = torch::rand({2, 7}) + 0.5, shift = torch::randn({2, 7});
  const auto shared_scale = torch::rand({1, 7}) + 0.5;
  for (const auto& c : kCases) {
    auto x = make(base, c);
    const auto xf = x.to(torch::kFloat);
    for (bool relu : {false, true}) {
      auto y = scale_shift(x, scale, shift, relu);
      auto ref = xf * scale.view({2, 7, 1, 1}) + shift.view({2, 7, 1, 1});
      if (relu) ref = ref.relu();
      ASSERT_EQ(y.scalar_type(), c.dtype) << name(c);
      EXPECT_EQ(y.is_contiguous(torch::MemoryFormat::ChannelsLast), c.channels_last) << name(c);
      // bf16 output: one rounding of the float32 result (relative 2^-8).
      const double tol = c.dtype == torch::kFloat ? 1e-6 : 1.0 / 128;
      EXPECT_TRUE(torch::allclose(y.to(torch::kFloat), ref, tol, 1e-6)) << name(c) << relu;
      if (relu) EXPECT_GE(y.min().item<float>(), 0.0f);
    }
    auto y = scale_shift(x, shared_scale, shift.slice(0, 0, 1), false);
    auto ref = xf * shared_scale.view({1, 7, 1, 1}) + shift.slice(0, 0, 1).view({1, 7, 1, 1});
    EXPECT_TRUE(torch::allclose(y.to(torch::kFloat), ref, 1.0 / 128, 1e-6)) << name(c);
  }
}

TEST(InstanceNormKernel, RejectsWhatItCannotRead) {
  EXPECT_FALSE(fused_norm_supported(torch::rand({1, 3, 4, 4}).transpose(2, 3)));
  EXPECT_FALSE(fused_norm_supported(torch::rand({1, 3, 4, 4}, torch::kDouble)));
  EXPECT_FALSE(fused_norm_supported(torch::rand({3, 4, 4})));
  EXPECT_THROW(spatial_mean_var(torch::rand({3, 4, 4})), c10::Error);
  EXPECT_THROW(
      scale_shift(torch::rand({1, 3, 4, 4}), torch::ones({1, 2}), torch::ones({1, 2}), false),
      c10::Error);
}

TEST(InstanceNormKernel, FusedNormalisationEqualsTheAutogradPath) {
  // Inference (no autograd) takes the fused kernels, training the ATen ops: same result, with the
  // ReLU, mixed styles, and recorded statistics that replay identically.
  torch::manual_seed(3);
  ConditionalInstanceNorm norm(6, 2);
  {
    torch::NoGradGuard no_grad;
    norm->gamma.uniform_(0.5, 2.0);
    norm->beta.uniform_(-1, 1);
  }
  const auto style = torch::tensor({0.3f, 0.7f});
  auto base = torch::randn({2, 6, 11, 17}) * 3 + 5;
  for (const auto& c : kCases) {
    auto x = make(base, c);
    const auto reference = norm->forward(x, style, nullptr, true).detach().to(torch::kFloat);
    torch::NoGradGuard no_grad;
    NormStats stats;
    const auto fused = norm->forward(x, style, &stats, true);
    ASSERT_EQ(fused.scalar_type(), c.dtype) << name(c);
    const double tol = c.dtype == torch::kFloat ? 1e-4 : 0.05;
    EXPECT_TRUE(torch::allclose(fused.to(torch::kFloat), reference, tol, tol)) << name(c);
    ASSERT_EQ(stats.mean.size(), 1u);
    stats.mode = NormStats::Mode::replay;
    const auto replayed = norm->forward(x, style, &stats, true);
    EXPECT_TRUE(torch::equal(replayed, fused)) << name(c);
  }
}

}  // namespace
}  // namespace pastiche
