#include "image/tensor_convert.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "common/error.h"

namespace pastiche {
namespace {

// 16x16 image in which every channel takes every 8-bit value exactly once, in different orders.
cv::Mat all_values() {
  cv::Mat image(16, 16, CV_8UC3);
  for (int i = 0; i < 256; ++i) {
    image.at<cv::Vec3b>(i / 16, i % 16) =
        cv::Vec3b(static_cast<uint8_t>(i), static_cast<uint8_t>(255 - i),
                  static_cast<uint8_t>((i * 7) % 256));
  }
  return image;
}

TEST(TensorConvert, ShapeRangeAndChannelOrder) {
  cv::Mat image(2, 3, CV_8UC3, cv::Scalar(255, 0, 0));  // pure blue in BGR
  image.at<cv::Vec3b>(1, 2) = cv::Vec3b(0, 51, 255);    // orange-red
  const torch::Tensor t = image_to_tensor(image);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{1, 3, 2, 3}));
  EXPECT_EQ(t.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_FLOAT_EQ(t[0][2][0][0].item<float>(), 1.0f);  // blue is channel 2 in RGB
  EXPECT_FLOAT_EQ(t[0][0][0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(t[0][0][1][2].item<float>(), 1.0f);  // red
  EXPECT_FLOAT_EQ(t[0][1][1][2].item<float>(), 0.2f);  // 51 / 255
  EXPECT_FLOAT_EQ(t[0][2][1][2].item<float>(), 0.0f);
}

TEST(TensorConvert, RoundTripIsExactForEveryValue) {
  const cv::Mat image = all_values();
  const cv::Mat back = tensor_to_image(image_to_tensor(image));
  ASSERT_EQ(back.type(), CV_8UC3);
  ASSERT_EQ(back.size(), image.size());
  EXPECT_EQ(cv::norm(back, image, cv::NORM_INF), 0.0);
}

TEST(TensorConvert, DoesNotAliasTheImage) {
  cv::Mat image = all_values();
  const torch::Tensor t = image_to_tensor(image);
  image.setTo(cv::Scalar::all(0));
  EXPECT_GT(t.max().item<float>(), 0.9f);
}

TEST(TensorConvert, NonContinuousRoi) {
  const cv::Mat image = all_values();
  const cv::Mat roi = image(cv::Rect(3, 2, 5, 7));
  ASSERT_FALSE(roi.isContinuous());
  EXPECT_EQ(cv::norm(tensor_to_image(image_to_tensor(roi)), roi, cv::NORM_INF), 0.0);
}

TEST(TensorConvert, AcceptsUnbatchedAndChannelsLast) {
  const cv::Mat image = all_values();
  const torch::Tensor t = image_to_tensor(image);
  EXPECT_EQ(cv::norm(tensor_to_image(t[0]), image, cv::NORM_INF), 0.0);
  const torch::Tensor channels_last = t.contiguous(torch::MemoryFormat::ChannelsLast);
  ASSERT_FALSE(channels_last.is_contiguous());
  EXPECT_EQ(cv::norm(tensor_to_image(channels_last), image, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(tensor_to_image(t.to(torch::kDouble)), image, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(tensor_to_image(t.clone().requires_grad_()), image, cv::NORM_INF), 0.0);
}

TEST(TensorConvert, ClampsAndRounds) {
  torch::Tensor t = torch::zeros({1, 3, 1, 4});
  t[0][0][0][0] = -0.5f;                                    // below range -> 0
  t[0][0][0][1] = 1.7f;                                     // above range -> 255
  t[0][0][0][2] = 100.4f / 255.0f;                          // rounds down
  t[0][0][0][3] = 100.6f / 255.0f;                          // rounds up
  t[0][1][0][0] = std::numeric_limits<float>::quiet_NaN();  // NaN -> 0
  const cv::Mat image = tensor_to_image(t);
  EXPECT_EQ(image.at<cv::Vec3b>(0, 0)[2], 0);  // red is BGR index 2
  EXPECT_EQ(image.at<cv::Vec3b>(0, 1)[2], 255);
  EXPECT_EQ(image.at<cv::Vec3b>(0, 2)[2], 100);
  EXPECT_EQ(image.at<cv::Vec3b>(0, 3)[2], 101);
  EXPECT_EQ(image.at<cv::Vec3b>(0, 0)[1], 0);
}

TEST(TensorConvert, RejectsBadInputs) {
  EXPECT_THROW(image_to_tensor(cv::Mat()), InputError);
  EXPECT_THROW(image_to_tensor(cv::Mat(4, 4, CV_8UC1)), InputError);
  EXPECT_THROW(image_to_tensor(cv::Mat(4, 4, CV_32FC3)), InputError);
  EXPECT_THROW(tensor_to_image(torch::zeros({2, 3, 4, 4})), InputError);
  EXPECT_THROW(tensor_to_image(torch::zeros({1, 4, 4, 4})), InputError);
  EXPECT_THROW(tensor_to_image(torch::zeros({4, 4})), InputError);
  EXPECT_THROW(tensor_to_image(torch::zeros({3, 4, 4}, torch::kUInt8)), InputError);
}

TEST(TensorConvert, CudaRoundTrip) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const cv::Mat image = all_values();
  const torch::Tensor t = image_to_tensor(image, torch::kCUDA);
  EXPECT_TRUE(t.is_cuda());
  EXPECT_EQ(cv::norm(tensor_to_image(t), image, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(tensor_to_image(t.contiguous(torch::MemoryFormat::ChannelsLast)), image,
                     cv::NORM_INF),
            0.0);
}

}  // namespace
}  // namespace pastiche
