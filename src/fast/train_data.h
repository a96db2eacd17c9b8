// The training photos and the batches drawn from them: random square crops, flipped at random,
// in shuffled epochs. A batch depends only on (seed, iteration), so a resumed run sees the same
// photos as an uninterrupted one.
#pragma once
#include <torch/torch.h>
#include <opencv2/core.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pastiche {

// Image files under `dir` (recursively), sorted. InputError when it is not a folder or holds none.
std::vector<std::string> list_images(const std::string& dir);

// Decoded once and kept in memory for small datasets (up to 512 photos, each at most 1024 px),
// read per use otherwise. Unreadable photos of a cached dataset are skipped with a warning.
class PhotoDataset {
 public:
  explicit PhotoDataset(std::vector<std::string> files);
  size_t size() const { return files_.size(); }
  const std::string& file(size_t i) const { return files_[i]; }
  cv::Mat image(size_t i) const;

 private:
  std::vector<std::string> files_;
  std::vector<cv::Mat> cache_;
};

// Batch of `iteration`: [batch, 3, size, size], RGB 0-1, on the CPU.
torch::Tensor make_batch(const PhotoDataset& data, int size, int batch, uint64_t seed,
                         int iteration);

}  // namespace pastiche
