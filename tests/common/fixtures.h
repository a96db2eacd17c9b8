// Shared test fixtures: temporary directories, tiny synthetic VGG weights and synthetic images.
// Tests make their own inputs and never depend on downloaded files.
#pragma once
#include <opencv2/core.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "vgg/vgg.h"

namespace pastiche::testing {

// Unique temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path()/name as a string (the file is not created).
  std::string file(const std::string& name) const;

 private:
  std::filesystem::path path_;
};

// Writes deterministic random VGG19 weights (kaiming-normal convs, small random biases, seeded
// by `seed`) for the convolutions of the first `blocks` blocks (1-5), with the real channel
// counts, in the names and layout of `convention` (torchvision: features.N.weight OIHW; caffe:
// blockB_convC/kernel HWIO). Blocks 1-2 are ~1.1 MB. Returns `path`.
std::string write_synthetic_vgg(const std::string& path, WeightConvention convention,
                                int blocks = 2, uint64_t seed = 0);

// Synthetic test images (CV_8UC3, BGR), closed form as in the peers' README with
// u = (x + 0.5) / width, v = (y + 0.5) / height:
// content: RGB (u, v, 0.5) with a red disc and a blue rectangle;
// style: sinusoidal stripes R = .5+.5 sin(2π·8(u+v)), G = .5+.5 sin(2π·5u) cos(2π·5v),
// B = .5+.5 cos(2π·12v).
cv::Mat synthetic_content_image(int width, int height);
cv::Mat synthetic_style_image(int width, int height);

// The same images as float RGB in [0, 1] (CV_32FC3, RGB order, no 8-bit rounding), matching the
// peers' float images exactly.
cv::Mat synthetic_content_image_rgb_f32(int width, int height);
cv::Mat synthetic_style_image_rgb_f32(int width, int height);

// The message of the InputError that `fn` throws, or "" when it throws none.
std::string input_error_of(const std::function<void()>& fn);

// Mean absolute difference of two images of one size and type, averaged over their 3 channels.
double mean_abs_diff(const cv::Mat& a, const cv::Mat& b);

// Writes `bytes` to `path` (binary), replacing the file.
void write_file(const std::string& path, const std::string& bytes);

// Polls `condition` every `every` until it holds (true) or `timeout` has passed (false, after a
// last look): for what another thread or process makes true.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(20));

}  // namespace pastiche::testing
