#include "fast/train_data.h"

#include <spdlog/spdlog.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>

#include "common/error.h"
#include "image/image_io.h"
#include "image/tensor_convert.h"

namespace pastiche {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxCachedImages = 512;
constexpr int kMaxSide = 1024;  // larger photos are shrunk on load: crops are 256 px or so

bool is_dataset_image(const fs::path& p) {
  auto ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp" || ext == ".bmp";
}

cv::Mat load_shrunk(const std::string& path) {
  cv::Mat m = load_image(path);
  return std::max(m.cols, m.rows) > kMaxSide ? resize_longest(m, kMaxSide) : m;
}

// A random square crop (60-100 % of the shorter side), resized to size x size, flipped at random.
cv::Mat random_crop(const cv::Mat& image, int size, std::mt19937_64& rng) {
  const int shorter = std::min(image.cols, image.rows);
  std::uniform_real_distribution<double> scale(0.6, 1.0);
  const int side = std::max(1, static_cast<int>(std::lround(shorter * scale(rng))));
  std::uniform_int_distribution<int> ox(0, image.cols - side), oy(0, image.rows - side);
  const int x = ox(rng), y = oy(rng);
  cv::Mat crop;
  cv::resize(image(cv::Rect(x, y, side, side)), crop, cv::Size(size, size), 0, 0,
             side > size ? cv::INTER_AREA : cv::INTER_CUBIC);
  if (std::bernoulli_distribution(0.5)(rng)) cv::flip(crop, crop, 1);
  return crop;
}

}  // namespace

std::vector<std::string> list_images(const std::string& dir) {
  if (!fs::is_directory(dir))
    throw InputError("dataset '" + dir + "' is not a folder; give a folder of photos (--dataset)");
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && is_dataset_image(entry.path()))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty())
    throw InputError("dataset '" + dir + "' contains no images (.jpg, .png, .webp, .bmp)");
  return files;
}

PhotoDataset::PhotoDataset(std::vector<std::string> files) : files_(std::move(files)) {
  if (files_.size() > static_cast<size_t>(kMaxCachedImages)) return;
  std::vector<std::string> usable;
  for (const auto& f : files_) {
    try {
      cache_.push_back(load_shrunk(f));
      usable.push_back(f);
    } catch (const InputError& e) {
      spdlog::warn("skipping training image {}: {}", f, e.what());
    }
  }
  files_ = std::move(usable);
  if (files_.empty()) throw InputError("no readable images in the dataset");
}

cv::Mat PhotoDataset::image(size_t i) const {
  return cache_.empty() ? load_shrunk(files_[i]) : cache_[i];
}

torch::Tensor make_batch(const PhotoDataset& data, int size, int batch, uint64_t seed,
                         int iteration) {
  std::vector<torch::Tensor> items;
  const auto n = static_cast<int64_t>(data.size());
  for (int k = 0; k < batch; ++k) {
    const int64_t global = static_cast<int64_t>(iteration) * batch + k;
    const int64_t epoch = global / n, pos = global % n;
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuffle_rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(global) + 1);
    items.push_back(image_to_tensor(
        random_crop(data.image(static_cast<size_t>(order[static_cast<size_t>(pos)])), size, rng)));
  }
  return torch::cat(items, 0);
}

}  // namespace pastiche
