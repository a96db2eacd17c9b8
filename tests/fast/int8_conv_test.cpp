#include "fast/int8_conv.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "fast/tiled.h"
#include "fast/transformer_net.h"
#include "fast_test_util.h"

namespace pastiche {
namespace {

#define SKIP_WITHOUT_INT8()              \
  if (!int8_convolution_error().empty()) \
  GTEST_SKIP() << "no int8 convolutions here: " << int8_convolution_error()

torch::Tensor channels_last(const torch::Tensor& x) {
  return x.contiguous(torch::MemoryFormat::ChannelsLast);
}

TEST(Int8Conv, QuantizePaddedEqualsPadUpsampleThenQuantize) {
  SKIP_WITHOUT_INT8();
  torch::manual_seed(3);
  const auto x = torch::randn({1, 5, 7, 9}) * 2;
  const int levels = int8_levels().activation;
  ValueRange range;
  range.include(x);
  const auto q = affine_quant(range, levels);
  for (int64_t upsample : {1, 2}) {
    for (int64_t pad : {0, 1, 4}) {
      auto ref = upsample == 1 ? x : torch::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2});
      if (pad > 0) ref = torch::reflection_pad2d(ref, {pad, pad, pad, pad});
      const auto expected =
          (ref / q.scale + static_cast<double>(q.zero_point)).round().clamp(0, levels - 1);
      for (const auto& input : {x, channels_last(x)}) {
        const auto got = quantize_padded(input, pad, upsample, q);
        ASSERT_EQ(got.sizes(), ref.sizes());
        EXPECT_TRUE(got.is_contiguous(torch::MemoryFormat::ChannelsLast));
        EXPECT_DOUBLE_EQ(got.q_scale(), q.scale);
        // Rounding ties may go either way: at most one level apart.
        const auto diff = (got.int_repr().to(torch::kFloat) - expected).abs();
        EXPECT_LE(diff.max().item<float>(), 1.0f) << "upsample " << upsample << " pad " << pad;
        EXPECT_LT(diff.mean().item<float>(), 0.01f);
      }
    }
  }
}

TEST(Int8Conv, DequantizeMatchesLibTorch) {
  SKIP_WITHOUT_INT8();
  torch::manual_seed(4);
  const auto q = torch::quantize_per_tensor(channels_last(torch::randn({1, 6, 5, 4})), 0.03, 100,
                                            torch::kQUInt8);
  const auto got = dequantize_channels_last(q);
  EXPECT_TRUE(got.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(got, q.dequantize()));
  EXPECT_THROW(dequantize_channels_last(q.contiguous()), c10::Error);  // NCHW is refused
}

TEST(Int8Conv, RangesLeaveOutOnlyTheTails) {
  ValueRange range;
  auto x = torch::linspace(-1, 1, 100001);
  x[0] = -50;  // one outlier in 100001 values: past the 1e-4 tail, so left out
  range.include(x);
  EXPECT_NEAR(range.lo, -1, 0.01);
  EXPECT_NEAR(range.hi, 1, 0.01);
  range.include(torch::full({10}, 3.0f));  // a later pass widens the range
  EXPECT_NEAR(range.hi, 3, 0.01);
  const auto q = affine_quant(range, 256);
  EXPECT_NEAR(q.scale, 4.0 / 255, 1e-3);
  EXPECT_EQ(q.zero_point, 64);  // 0 maps to a level exactly
}

TEST(Int8Conv, ConvolutionIsCloseToFloatAndNeedsCalibration) {
  SKIP_WITHOUT_INT8();
  torch::manual_seed(5);
  for (int64_t stride : {1, 2}) {
    const auto w = torch::randn({8, 6, 3, 3}) * 0.2, b = torch::randn({8}) * 0.1;
    const auto x = torch::randn({1, 6, 20, 18});
    Int8Conv conv(w, b, stride, 1);
    EXPECT_THROW(conv.forward(x), std::logic_error);
    const auto ref = torch::conv2d(torch::reflection_pad2d(x, {1, 1, 1, 1}), w, b, stride);
    conv.observe(x, ref);
    const auto got = conv.forward(x);
    ASSERT_EQ(got.sizes(), ref.sizes());
    // Each side quantised to 8 bits (7 where the CPU saturates): a few per cent of the spread.
    const double err = (got - ref).abs().mean().item<double>() / ref.std().item<double>();
    EXPECT_LT(err, 0.05) << "stride " << stride;
    EXPECT_GT(torch::cosine_similarity(got.flatten(), ref.flatten(), 0).item<double>(), 0.99);
  }
}

TEST(Int8Conv, NarrowChannelsKeepTheirPrecision) {
  SKIP_WITHOUT_INT8();
  // Output channels 1000x apart and inputs 100x apart: with one scale per tensor the narrow ones
  // would get a level or two; equalised, every channel is within a few per cent of its spread.
  torch::manual_seed(8);
  auto w = torch::randn({4, 3, 3, 3}) * 0.3;
  w[0] *= 1000;
  auto x = torch::randn({1, 3, 24, 24});
  x.select(1, 2) *= 100;
  x.select(1, 1) += 5;  // an offset, as a ReLU output has
  const auto b = torch::zeros({4});
  Int8Conv conv(w, b, 1, 1);
  const auto ref = torch::conv2d(torch::reflection_pad2d(x, {1, 1, 1, 1}), w, b);
  conv.observe(x, ref);
  const auto got = conv.forward(x);
  for (int64_t c = 0; c < 4; ++c) {
    const auto r = ref.select(1, c), g = got.select(1, c);
    const double err = (g - r).abs().mean().item<double>() / r.std().item<double>();
    EXPECT_LT(err, 0.05) << "channel " << c;
  }
}

TEST(Int8Conv, LevelsAreOneOfTheExactChoices) {
  SKIP_WITHOUT_INT8();
  const auto& l = int8_levels();
  EXPECT_TRUE((l.activation == 256 && (l.weight == 127 || l.weight == 63)) ||
              (l.activation == 128 && l.weight == 127))
      << l.activation << " / " << l.weight;
}

TEST(Int8Conv, NetworkInInt8AgreesWithFloat32AndSwitchesBack) {
  SKIP_WITHOUT_INT8();
  auto net = testing::random_net(8, 1, 2);
  prepare_for_inference(net, ComputeFormat{});
  c10::InferenceMode guard;
  torch::manual_seed(6);
  const auto x = torch::rand({1, 3, 48, 40});
  const auto style = net->style_vector(1);
  const auto reference = net->forward(x, style);

  net->set_int8(true);
  EXPECT_TRUE(torch::equal(net->forward(x, style), reference)) << "float until calibrated";
  calibrate_int8(net, x, style);
  const auto int8 = net->forward(x, style);
  ASSERT_EQ(int8.sizes(), reference.sizes());
  EXPECT_LT((int8 - reference).abs().mean().item<double>(), 0.02);
  EXPECT_GT(torch::cosine_similarity((int8 - 0.5).flatten(), (reference - 0.5).flatten(), 0)
                .item<double>(),
            0.98);
  EXPECT_FALSE(torch::equal(int8, reference)) << "the int8 pass did not run";

  net->set_int8(false);
  EXPECT_TRUE(torch::equal(net->forward(x, style), reference));
}

TEST(Int8Conv, TiledInt8IsAsCloseToFloatAsUntiledInt8) {
  SKIP_WITHOUT_INT8();
  auto net = testing::random_net(8, 1, 1);
  prepare_for_inference(net, ComputeFormat{});
  c10::InferenceMode guard;
  cv::Mat image(96, 128, CV_8UC3);
  cv::randu(image, 0, 255);
  cv::GaussianBlur(image, image, cv::Size(9, 9), 3);
  const auto style = net->style_vector(0);
  const auto reference = run_network(net, image, style, ComputeFormat{});
  net->set_int8(true);
  const auto whole = run_network(net, image, style, ComputeFormat{});
  TileSettings tiles;
  tiles.tile = 64;
  tiles.overlap = 24;
  tiles.margin = 4;
  const auto tiled = run_network_tiled(net, image, style, tiles, ComputeFormat{});
  auto mean_diff = [](const cv::Mat& a, const cv::Mat& b) {
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    return cv::mean(diff.reshape(1))[0];
  };
  const double whole_error = mean_diff(whole, reference);
  EXPECT_GT(whole_error, 0.0) << "the int8 pass did not run";
  // Tiles replay the whole picture's statistics, taken in int8, so they are no further from float
  // than the untiled int8 pass; a seam, a tile calibrated apart or float statistics would be.
  EXPECT_LT(mean_diff(tiled, reference), 1.5 * whole_error + 1.0);
}

}  // namespace
}  // namespace pastiche
