#include "perceptual/losses.h"

#include <gtest/gtest.h>

namespace pastiche {
namespace {

TEST(GramMatrix, MatchesHandComputedValues) {
  // Two channels over a 2x2 map: a = [1 2; 3 4], b = [0 1; 0 1].
  auto f = torch::tensor({1.f, 2.f, 3.f, 4.f, 0.f, 1.f, 0.f, 1.f}).reshape({1, 2, 2, 2});
  auto g = gram_matrix(f);
  ASSERT_EQ(g.sizes(), (std::vector<int64_t>{1, 2, 2}));
  // <a,a> = 30, <a,b> = 6, <b,b> = 2; divided by H*W = 4.
  EXPECT_FLOAT_EQ(g[0][0][0].item<float>(), 30.f / 4);
  EXPECT_FLOAT_EQ(g[0][0][1].item<float>(), 6.f / 4);
  EXPECT_FLOAT_EQ(g[0][1][0].item<float>(), 6.f / 4);
  EXPECT_FLOAT_EQ(g[0][1][1].item<float>(), 2.f / 4);
}

TEST(GramMatrix, ChannelsLastEqualsContiguousAndNaiveLoop) {
  torch::manual_seed(1);
  auto f = torch::randn({2, 5, 7, 3});
  auto cl = f.contiguous(torch::MemoryFormat::ChannelsLast);
  auto g = gram_matrix(f);
  EXPECT_TRUE(torch::allclose(g, gram_matrix(cl), 1e-5, 1e-6));
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) {
        const float naive = (f[n][i] * f[n][j]).sum().item<float>() / 21.f;
        EXPECT_NEAR(g[n][i][j].item<float>(), naive, 1e-4);
      }
}

TEST(GramMatrix, CustomBackwardMatchesAutogradAndKeepsTheLayout) {
  torch::manual_seed(2);
  const auto base = torch::randn({2, 4, 6, 5});
  const auto target = torch::randn({2, 4, 4});
  for (const auto format : {torch::MemoryFormat::Contiguous, torch::MemoryFormat::ChannelsLast}) {
    auto f = base.clone(format).requires_grad_(true);
    (gram_matrix(f) * target).sum().backward();
    // Autograd's own derivative of the plain formula.
    auto g = base.clone().requires_grad_(true);
    const auto flat = g.reshape({2, 4, 30});
    (torch::bmm(flat, flat.transpose(1, 2)).div(30.0) * target).sum().backward();
    EXPECT_TRUE(torch::allclose(f.grad(), g.grad(), 1e-4, 1e-5));
    EXPECT_TRUE(f.grad().is_contiguous(format));
  }
}

TEST(GramMatrix, Bf16FeaturesGiveAFloat32GramCloseToFloat32) {
  torch::manual_seed(3);
  const auto f = torch::rand({1, 16, 32, 32}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto g16 = gram_matrix(f.to(torch::kBFloat16));
  EXPECT_EQ(g16.scalar_type(), torch::kFloat);
  const auto g32 = gram_matrix(f);
  EXPECT_TRUE(torch::allclose(g16, g32, 2e-2, 1e-3))
      << "largest difference " << (g16 - g32).abs().max().item<float>() << " of "
      << g32.abs().max().item<float>();
  // The gradient too: bf16 features get a bf16 gradient, in their own layout, close to float32's.
  const auto target = torch::rand({1, 16, 16});
  auto f16 = f.to(torch::kBFloat16).requires_grad_(true);
  (gram_matrix(f16) * target).sum().backward();
  auto f32 = f.clone().requires_grad_(true);
  (gram_matrix(f32) * target).sum().backward();
  EXPECT_EQ(f16.grad().scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(f16.grad().is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(f16.grad().to(torch::kFloat), f32.grad(), 2e-2, 1e-4));
}

TEST(ContentLoss, IsRelativeSquaredErrorAveragedOverLayers) {
  std::map<std::string, torch::Tensor> features{{"a", torch::full({1, 1, 2, 2}, 3.f)},
                                                {"b", torch::zeros({1, 1, 1, 1})}};
  std::map<std::string, torch::Tensor> targets{{"a", torch::full({1, 1, 2, 2}, 2.f)},
                                               {"b", torch::ones({1, 1, 1, 1})}};
  // a: 4*(1)^2 / (4*4) = 0.25 ; b: 1 / 1 = 1 ; mean 0.625
  EXPECT_FLOAT_EQ(content_loss(features, targets, {"a"}).item<float>(), 0.25f);
  EXPECT_FLOAT_EQ(content_loss(features, targets, {"a", "b"}).item<float>(), 0.625f);
  // Scale free: multiplying features and targets by the same factor changes nothing.
  features["a"] *= 58.f;
  targets["a"] *= 58.f;
  EXPECT_NEAR(content_loss(features, targets, {"a"}).item<float>(), 0.25f, 1e-6);
}

TEST(StyleLoss, WeightsAreNormalisedAndZeroAtTarget) {
  torch::manual_seed(2);
  std::map<std::string, torch::Tensor> features{{"x", torch::rand({1, 3, 4, 4})},
                                                {"y", torch::rand({1, 4, 2, 2})}};
  std::map<std::string, torch::Tensor> grams{{"x", gram_matrix(features["x"])},
                                             {"y", gram_matrix(features["y"]) * 2}};
  // x matches exactly; y's Gram is half the target: relative error (G - 2G)^2 / (2G)^2 = 1/4.
  EXPECT_NEAR(style_loss(features, grams, {"x"}, {}).item<float>(), 0.f, 1e-7);
  EXPECT_NEAR(style_loss(features, grams, {"y"}, {}).item<float>(), 0.25f, 1e-6);
  EXPECT_NEAR(style_loss(features, grams, {"x", "y"}, {}).item<float>(), 0.125f, 1e-6);
  EXPECT_NEAR(style_loss(features, grams, {"x", "y"}, {3, 1}).item<float>(), 0.0625f, 1e-6);
}

TEST(StyleLoss, BatchedFeaturesShareOneTarget) {
  torch::manual_seed(3);
  auto one = torch::rand({1, 3, 4, 4});
  std::map<std::string, torch::Tensor> batch{{"x", torch::cat({one, one})}};
  std::map<std::string, torch::Tensor> single{{"x", one}};
  std::map<std::string, torch::Tensor> target{{"x", gram_matrix(torch::rand({1, 3, 4, 4}))}};
  EXPECT_NEAR(style_loss(batch, target, {"x"}, {}).item<float>(),
              style_loss(single, target, {"x"}, {}).item<float>(), 1e-6);
}

TEST(TvLoss, MatchesHandComputedValue) {
  // One channel 2x3: rows [0 1 3] and [0 0 0].
  auto img = torch::tensor({0.f, 1.f, 3.f, 0.f, 0.f, 0.f}).reshape({1, 1, 2, 3});
  // horizontal diffs: 1, 2, 0, 0 -> mean of squares (1+4)/4 ; vertical: 0, -1, -3 -> (1+9)/3
  EXPECT_NEAR(tv_loss(img).item<float>(), 5.f / 4 + 10.f / 3, 1e-6);
  EXPECT_FLOAT_EQ(tv_loss(torch::full({1, 3, 5, 5}, 0.3f)).item<float>(), 0.f);
}

}  // namespace
}  // namespace pastiche
