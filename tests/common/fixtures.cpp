#include "common/fixtures.h"

#include <ATen/CPUGeneratorImpl.h>
#include <stdlib.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <map>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "common/error.h"
#include "common/safetensors.h"

namespace pastiche::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "pastiche-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name) const {
  return (path_ / name).string();
}

std::string write_synthetic_vgg(const std::string& path, WeightConvention convention, int blocks,
                                uint64_t seed) {
  if (blocks < 1 || blocks > 5) throw std::invalid_argument("write_synthetic_vgg: blocks 1-5");
  const int convs_per_block[5] = {2, 2, 4, 4, 4};  // VGG19
  const int64_t widths[5] = {64, 128, 256, 512, 512};
  auto gen = at::detail::createCPUGenerator(seed);
  std::map<std::string, torch::Tensor> tensors;
  int64_t in = 3;
  int index = 0;  // position in torchvision's features Sequential
  for (int b = 0; b < blocks; ++b) {
    for (int c = 0; c < convs_per_block[b]; ++c) {
      const int64_t out = widths[b];
      // kaiming normal, fan_out mode (torchvision's VGG init), plus small non-zero biases.
      const double std = std::sqrt(2.0 / static_cast<double>(out * 9));
      torch::Tensor weight = torch::randn({out, in, 3, 3}, gen) * std;
      torch::Tensor bias = torch::randn({out}, gen) * 0.05;
      if (convention == WeightConvention::torchvision) {
        const std::string prefix = "features." + std::to_string(index);
        tensors[prefix + ".weight"] = weight;
        tensors[prefix + ".bias"] = bias;
      } else {
        const std::string prefix =
            "block" + std::to_string(b + 1) + "_conv" + std::to_string(c + 1);
        tensors[prefix + "/kernel"] = weight.permute({2, 3, 1, 0}).contiguous();  // HWIO
        tensors[prefix + "/bias"] = bias;
      }
      in = out;
      index += 2;  // conv, relu
    }
    index += 1;  // pool
  }
  write_safetensors(path, tensors,
                    {{"format", "pt"}, {"source", "pastiche synthetic test weights"}});
  return path;
}

namespace {

struct Rgb {
  double r, g, b;
};

template <typename Fn>
cv::Mat render_rgb_f32(int width, int height, Fn fn) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("synthetic image: empty size");
  cv::Mat image(height, width, CV_32FC3);
  for (int y = 0; y < height; ++y) {
    auto* row = image.ptr<cv::Vec3f>(y);
    for (int x = 0; x < width; ++x) {
      const double u = (x + 0.5) / width;
      const double v = (y + 0.5) / height;
      const Rgb p = fn(u, v);
      row[x] = cv::Vec3f(static_cast<float>(p.r), static_cast<float>(p.g), static_cast<float>(p.b));
    }
  }
  return image;
}

cv::Mat to_bgr8(const cv::Mat& rgb) {
  cv::Mat bgr8(rgb.rows, rgb.cols, CV_8UC3);
  for (int y = 0; y < rgb.rows; ++y) {
    const auto* in = rgb.ptr<cv::Vec3f>(y);
    auto* out = bgr8.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      for (int c = 0; c < 3; ++c) out[x][2 - c] = cv::saturate_cast<uchar>(in[x][c] * 255.0f);
    }
  }
  return bgr8;
}

}  // namespace

cv::Mat synthetic_content_image_rgb_f32(int width, int height) {
  return render_rgb_f32(width, height, [](double u, double v) {
    Rgb p{u, v, 0.5};
    if ((u - 0.4) * (u - 0.4) + (v - 0.45) * (v - 0.45) < 0.25 * 0.25) p = {0.9, 0.2, 0.2};
    if (0.6 < u && u < 0.9 && 0.55 < v && v < 0.85) p = {0.1, 0.3, 0.8};
    return p;
  });
}

cv::Mat synthetic_style_image_rgb_f32(int width, int height) {
  return render_rgb_f32(width, height, [](double u, double v) {
    const double two_pi = 2.0 * M_PI;
    return Rgb{0.5 + 0.5 * std::sin(two_pi * 8.0 * (u + v)),
               0.5 + 0.5 * std::sin(two_pi * 5.0 * u) * std::cos(two_pi * 5.0 * v),
               0.5 + 0.5 * std::cos(two_pi * 12.0 * v)};
  });
}

cv::Mat synthetic_content_image(int width, int height) {
  return to_bgr8(synthetic_content_image_rgb_f32(width, height));
}

cv::Mat synthetic_style_image(int width, int height) {
  return to_bgr8(synthetic_style_image_rgb_f32(width, height));
}

std::string input_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  const cv::Scalar m = cv::mean(diff);
  return (m[0] + m[1] + m[2]) / 3.0;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(every);
  }
  return condition();
}

}  // namespace pastiche::testing
