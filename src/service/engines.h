// The loaded engines the job workers and the synchronous route share: the VGG loss network (or
// why there is none) and a pool of fast models, each loaded once and reused.
#pragma once
#include <torch/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fast/fast_stylizer.h"
#include "gatys/gatys_engine.h"

namespace pastiche::service {

// Fast models loaded once and reused: a stylizer is checked out for one stylize() at a time.
class StylizerPool {
 public:
  explicit StylizerPool(torch::Device device) : device_(device) {}
  struct Lease {
    Lease(StylizerPool* pool, std::string path, std::unique_ptr<FastStylizer> s)
        : pool_(pool), path_(std::move(path)), stylizer_(std::move(s)) {}
    Lease(Lease&&) = default;
    ~Lease();
    FastStylizer& operator*() { return *stylizer_; }
    FastStylizer* operator->() { return stylizer_.get(); }

   private:
    StylizerPool* pool_;
    std::string path_;
    std::unique_ptr<FastStylizer> stylizer_;
  };
  Lease acquire(const std::string& model_path);

 private:
  torch::Device device_;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::unique_ptr<FastStylizer>>> idle_;
};

// Loaded engines shared by the workers.
struct Engines {
  torch::Device device = torch::kCPU;
  Vgg vgg{nullptr};  // null when no weights: Gatys unavailable
  std::string gatys_unavailable_reason;
  std::unique_ptr<StylizerPool> fast;
};

}  // namespace pastiche::service
