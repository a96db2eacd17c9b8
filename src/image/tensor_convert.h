// The one place where images become tensors and back.
// Tensor convention everywhere: float32, NCHW, RGB, values in [0, 1].
#pragma once
#include <torch/types.h>

#include <opencv2/core.hpp>

namespace pastiche {

// CV_8UC3 BGR -> [1, 3, H, W] float RGB in [0, 1] on `device`.
torch::Tensor image_to_tensor(const cv::Mat& bgr, torch::Device device = torch::kCPU);

// [1, 3, H, W] or [3, H, W] float RGB (any device) -> CV_8UC3 BGR, clamped to [0, 1] and rounded.
cv::Mat tensor_to_image(const torch::Tensor& rgb);

}  // namespace pastiche
