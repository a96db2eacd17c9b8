#include "image/tensor_convert.h"

#include <torch/torch.h>

#include <cstring>
#include <string>

#include "common/error.h"

namespace pastiche {

torch::Tensor image_to_tensor(const cv::Mat& bgr, torch::Device device) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    throw InputError(
        "image_to_tensor: expected a non-empty 8-bit BGR image (CV_8UC3), got " +
        std::string(bgr.empty() ? "an empty image" : "type " + std::to_string(bgr.type())));
  }
  const cv::Mat pixels = bgr.isContinuous() ? bgr : bgr.clone();
  // from_blob borrows the Mat's memory; the dtype conversion below always copies out of it.
  torch::Tensor hwc = torch::from_blob(pixels.data, {pixels.rows, pixels.cols, 3}, torch::kUInt8);
  hwc = hwc.to(device);  // move the 8-bit data: 4x less to copy than float
  return hwc
      .flip({2})  // BGR -> RGB
      .permute({2, 0, 1})
      .contiguous()
      .to(torch::kFloat32)
      .div_(255.0f)
      .unsqueeze(0);
}

cv::Mat tensor_to_image(const torch::Tensor& rgb) {
  torch::Tensor t = rgb.detach();
  if (t.dim() == 4 && t.size(0) == 1) t = t.squeeze(0);
  if (t.dim() != 3 || t.size(0) != 3 || t.size(1) < 1 || t.size(2) < 1) {
    throw InputError("tensor_to_image: expected a [1, 3, H, W] or [3, H, W] tensor, got " +
                     std::string(c10::str(rgb.sizes())));
  }
  if (!t.is_floating_point()) {
    throw InputError(
        "tensor_to_image: expected a floating point tensor with values in [0, 1], "
        "got " +
        std::string(c10::toString(t.scalar_type())));
  }
  const torch::Tensor hwc = t.to(torch::kFloat32)
                                .nan_to_num(0.0)
                                .clamp(0.0, 1.0)
                                .mul(255.0)
                                .round()
                                .to(torch::kUInt8)
                                .flip({0})  // RGB -> BGR
                                .permute({1, 2, 0})
                                .contiguous()  // transpose on the tensor's device
                                .to(torch::kCPU);
  cv::Mat image(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3);
  std::memcpy(image.data, hwc.data_ptr<uint8_t>(), static_cast<size_t>(hwc.numel()));
  return image;
}

}  // namespace pastiche
