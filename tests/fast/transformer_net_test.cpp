#include "fast/transformer_net.h"

#include <gtest/gtest.h>

#include "fast_test_util.h"

namespace pastiche {
namespace {

TEST(TransformerNet, PaperNetworkHasTheReferenceParameterCount) {
  // pytorch/examples TransformerNet: 1,679,235 parameters with affine instance norm.
  TransformerNet net(TransformerNetOptions::paper());
  EXPECT_EQ(net->parameter_count(), 1679235);
}

TEST(TransformerNet, OutputMatchesInputSizeForOddSizes) {
  auto net = testing::random_net(4, 1, 1);
  torch::NoGradGuard no_grad;
  for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {3, 5}, {5, 7}, {17, 33}, {64, 64}, {101, 62}, {30, 9}}) {
    auto x = torch::rand({2, 3, h, w});
    auto y = net->forward(x);
    ASSERT_EQ(y.sizes(), x.sizes()) << h << "x" << w;
    EXPECT_GT(y.min().item<float>(), 0.0f);
    EXPECT_LT(y.max().item<float>(), 1.0f);
  }
}

TEST(TransformerNet, StridePaddingOnlyAddsAtTheBottomRight) {
  // A 62x62 input is padded to 64x64 at the bottom/right: the output's top-left corner, far from
  // the padding, equals the output of the same input padded by hand.
  auto net = testing::random_net(4, 1, 1);
  torch::NoGradGuard no_grad;
  auto x = torch::rand({1, 3, 62, 62});
  auto padded = torch::nn::functional::pad(
      x, torch::nn::functional::PadFuncOptions({0, 2, 0, 2}).mode(torch::kReflect));
  auto y = net->forward(x);
  auto y_ref = net->forward(padded).slice(2, 0, 62).slice(3, 0, 62);
  EXPECT_TRUE(torch::allclose(y, y_ref, 1e-5, 1e-6));
}

TEST(TransformerNet, ConditionalInstanceNormMatchesInstanceNormForOneStyle) {
  ConditionalInstanceNorm norm(6, 1);
  {
    torch::NoGradGuard no_grad;
    norm->gamma.uniform_(0.5, 2.0);
    norm->beta.uniform_(-1, 1);
  }
  auto x = torch::randn({2, 6, 9, 7}) * 3 + 1;
  auto y = norm->forward(x, torch::ones({1}));
  auto ref = torch::instance_norm(x, norm->gamma[0], norm->beta[0], {}, {}, true, 0.0, 1e-5, false);
  EXPECT_TRUE(torch::allclose(y, ref, 1e-4, 1e-5));
}

TEST(TransformerNet, ConditionalInstanceNormMixesGammaAndBetaLinearly) {
  ConditionalInstanceNorm norm(3, 2);
  {
    torch::NoGradGuard no_grad;
    norm->gamma.copy_(torch::tensor({{1.0f, 2.0f, 3.0f}, {3.0f, 2.0f, 1.0f}}));
    norm->beta.copy_(torch::tensor({{0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 1.0f}}));
  }
  auto x = torch::randn({1, 3, 5, 5});
  auto mixed = norm->forward(x, torch::tensor({0.25f, 0.75f}));
  auto normalised = torch::instance_norm(x, {}, {}, {}, {}, true, 0.0, 1e-5, false);
  auto g = torch::tensor({2.5f, 2.0f, 1.5f}).view({1, 3, 1, 1});
  auto b = torch::tensor({0.75f, 0.25f, 0.75f}).view({1, 3, 1, 1});
  EXPECT_TRUE(torch::allclose(mixed, normalised * g + b, 1e-4, 1e-5));
}

TEST(TransformerNet, PerItemStyleWeightsSelectPerItemStyles) {
  auto net = testing::random_net(4, 1, 2);
  torch::NoGradGuard no_grad;
  auto x = torch::rand({2, 3, 24, 24});
  auto both = net->forward(x, torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}}));
  auto first = net->forward(x.slice(0, 0, 1), net->style_vector(0));
  auto second = net->forward(x.slice(0, 1, 2), net->style_vector(1));
  EXPECT_TRUE(torch::allclose(both.slice(0, 0, 1), first, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(both.slice(0, 1, 2), second, 1e-5, 1e-6));
}

TEST(TransformerNet, ChannelsLastGivesTheSameResult) {
  auto net = testing::random_net(8, 2, 1);
  torch::NoGradGuard no_grad;
  auto x = torch::rand({1, 3, 40, 52});
  auto plain = net->forward(x);
  for (auto& p : net->parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  auto cl = net->forward(x.contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(plain, cl, 1e-4, 1e-5));
}

TEST(TransformerNet, ReflectionPadMatchesLibTorchsForBothLayouts) {
  auto x = torch::rand({2, 3, 9, 11});
  namespace F = torch::nn::functional;
  const auto expected = F::pad(x, F::PadFuncOptions({4, 4, 4, 4}).mode(torch::kReflect));
  EXPECT_TRUE(torch::equal(reflection_pad(x, 4), expected));
  const auto cl = reflection_pad(x.contiguous(torch::MemoryFormat::ChannelsLast), 4);
  EXPECT_TRUE(cl.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(cl, expected));
  EXPECT_TRUE(torch::equal(
      reflection_pad(x.to(torch::kBFloat16), 1),
      F::pad(x, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReflect)).to(torch::kBFloat16)));
}

TEST(TransformerNet, ReflectionPadGradientMatchesLibTorchs) {
  namespace F = torch::nn::functional;
  torch::manual_seed(4);
  for (int64_t p : {1, 4}) {
    for (auto format : {torch::MemoryFormat::Contiguous, torch::MemoryFormat::ChannelsLast}) {
      auto x = torch::rand({2, 3, 9, 11}).contiguous(format).requires_grad_();
      auto upstream = torch::randn({2, 3, 9 + 2 * p, 11 + 2 * p}).contiguous(format);
      auto ref_x = x.detach().clone().requires_grad_();
      F::pad(ref_x, F::PadFuncOptions({p, p, p, p}).mode(torch::kReflect)).backward(upstream);
      reflection_pad(x, p).backward(upstream);
      EXPECT_TRUE(torch::allclose(x.grad(), ref_x.grad(), 1e-5, 1e-6)) << p;
      EXPECT_EQ(x.grad().sizes(), x.sizes());

      auto xb = x.detach().to(torch::kBFloat16).requires_grad_();
      reflection_pad(xb, p).backward(upstream.to(torch::kBFloat16));
      EXPECT_EQ(xb.grad().scalar_type(), torch::kBFloat16);
      EXPECT_TRUE(torch::allclose(xb.grad().to(torch::kFloat), ref_x.grad(), 0.02, 0.05)) << p;
    }
  }
}

TEST(TransformerNet, Bf16ForwardAndBackwardTrackFloat32) {
  // Mixed precision: float32 parameters, bf16 activations. The output must stay within a few
  // 8-bit levels of the float32 network and the parameters must receive float32 gradients.
  auto net = testing::random_net(8, 2, 1);
  auto x = torch::rand({2, 3, 36, 44});
  const auto reference = net->forward(x);
  const auto y = net->forward(x.to(torch::kBFloat16).contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  EXPECT_LT((y.to(torch::kFloat) - reference).abs().max().item<float>(), 4.0f / 255.0f);
  y.to(torch::kFloat).mean().backward();
  for (const auto& p : net->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().scalar_type(), torch::kFloat);
  }
}

TEST(TransformerNet, RejectsBadShapes) {
  EXPECT_THROW(TransformerNet(TransformerNetOptions{0, 5, 1}), std::invalid_argument);
  EXPECT_THROW(TransformerNet(TransformerNetOptions{16, -1, 1}), std::invalid_argument);
  auto net = testing::random_net(4, 0, 1);
  EXPECT_THROW(net->forward(torch::rand({1, 1, 8, 8})), c10::Error);
  EXPECT_THROW(net->forward(torch::rand({1, 3, 8, 8}), torch::ones({2})), c10::Error);
}

}  // namespace
}  // namespace pastiche
