#include "arbitrary/wct.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace pastiche {
namespace {

// Correlated random features [1, C, H, W] with a given scale and offset.
torch::Tensor features(int64_t c, int64_t hw, double scale, double offset, uint64_t seed) {
  torch::manual_seed(seed);
  const auto mix = torch::randn({c, c});
  return (mix.matmul(torch::randn({c, hw})) * scale + offset).view({1, c, hw, 1});
}

FeatureMoments moments_of(const torch::Tensor& f) {
  FeatureMoments m;
  m.add(f);
  return m;
}

TEST(Wct, MomentsSummedOverPiecesEqualTheWhole) {
  const auto f = features(6, 400, 1.0, 0.5, 1);
  FeatureMoments pieces;
  pieces.add(f.slice(2, 0, 150));
  pieces.add(f.slice(2, 150, 400));
  const auto whole = moments_of(f);
  EXPECT_EQ(pieces.count(), 400);
  // float32 per map, float64 across them: equal to float32 rounding.
  EXPECT_TRUE(torch::allclose(pieces.mean(), whole.mean(), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(pieces.covariance(), whole.covariance(), 1e-5, 1e-4));
  const auto flat = f.view({6, 400}).to(torch::kDouble);
  EXPECT_TRUE(torch::allclose(whole.mean(), flat.mean(1), 1e-5, 1e-5));
}

TEST(Wct, ColouredFeaturesCarryThePaintingsMeanAndCovariance) {
  const auto content = features(8, 3000, 1.0, 0.2, 2);
  const auto painting = features(8, 2000, 3.0, -1.0, 3);
  const auto style = style_statistics(moments_of(painting));
  const auto transform = wct_transform(moments_of(content), {{&style, 1.0}}, 1.0);
  const auto out = moments_of(transform.apply(content));
  const auto target = moments_of(painting);
  EXPECT_TRUE(torch::allclose(out.mean(), target.mean(), 1e-3, 1e-3));
  const double rel = (out.covariance() - target.covariance()).norm().item<double>() /
                     target.covariance().norm().item<double>();
  EXPECT_LT(rel, 1e-3);
}

TEST(Wct, StrengthZeroIsTheIdentityAndStrengthIsLinear) {
  const auto content = features(5, 500, 1.0, 0.0, 4);
  const auto style = style_statistics(moments_of(features(5, 500, 2.0, 1.0, 5)));
  const auto c = moments_of(content);
  const auto none = wct_transform(c, {{&style, 1.0}}, 0.0).apply(content);
  EXPECT_TRUE(torch::allclose(none, content, 1e-4, 1e-5));
  const auto full = wct_transform(c, {{&style, 1.0}}, 1.0).apply(content);
  const auto half = wct_transform(c, {{&style, 1.0}}, 0.5).apply(content);
  EXPECT_TRUE(torch::allclose(half, 0.5 * (full + content), 1e-3, 1e-4));
}

TEST(Wct, InterpolationWeightOneIsTheSingleStyleAndWeightsAreNormalised) {
  const auto content = features(5, 500, 1.0, 0.0, 6);
  const auto a = style_statistics(moments_of(features(5, 500, 2.0, 1.0, 7)));
  const auto b = style_statistics(moments_of(features(5, 500, 0.5, -2.0, 8)));
  const auto c = moments_of(content);
  const auto only_a = wct_transform(c, {{&a, 1.0}}, 1.0).apply(content);
  EXPECT_TRUE(torch::allclose(wct_transform(c, {{&a, 1.0}, {&b, 0.0}}, 1.0).apply(content), only_a,
                              1e-4, 1e-4));
  EXPECT_TRUE(
      torch::allclose(wct_transform(c, {{&a, 3.0}}, 1.0).apply(content), only_a, 1e-4, 1e-4));
  const auto mixed = wct_transform(c, {{&a, 1.0}, {&b, 1.0}}, 1.0).apply(content);
  const auto only_b = wct_transform(c, {{&b, 1.0}}, 1.0).apply(content);
  EXPECT_TRUE(torch::allclose(mixed, 0.5 * (only_a + only_b), 1e-3, 1e-3));
}

TEST(Wct, BadWeightsAndStrengthAreRefusedByName) {
  const auto content = moments_of(features(4, 100, 1.0, 0.0, 9));
  const auto s = style_statistics(moments_of(features(4, 100, 1.0, 0.0, 10)));
  auto message = [&](auto&& call) {
    try {
      call();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([&] { wct_transform(content, {}, 1.0); }).rfind("style:", 0), 0u);
  EXPECT_EQ(message([&] {
              wct_transform(content, {{&s, 0.0}}, 1.0);
            }).rfind("style_blend:", 0),
            0u);
  EXPECT_EQ(message([&] { wct_transform(content, {{&s, 1.0}}, 1.5); }).rfind("strength:", 0), 0u);
}

}  // namespace
}  // namespace pastiche
