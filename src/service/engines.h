// The loaded engines the job workers and the synchronous route share: the VGG loss network (or
// why there is none) and a pool of fast models, each loaded once and reused.
#pragma once
#include <torch/types.h>

#include <spdlog/logger.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "arbitrary/arbitrary_stylizer.h"
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
  Vgg vgg{nullptr};  // loaded where Gatys jobs run; null otherwise
  // The weights' description: known wherever the Gatys method is offered, also on an API node
  // that runs no jobs (only the file's header is read there).
  std::optional<VggWeightsInfo> vgg_info;
  std::string gatys_unavailable_reason;  // when vgg_info is empty
  std::unique_ptr<StylizerPool> fast;
  // Arbitrary-style transfer: the decoder's file wherever the method is offered (also on an API
  // node), the loaded stylizer where its jobs run (one, shared: its forward passes only read).
  std::string arbitrary_model;
  std::string arbitrary_unavailable_reason;  // when arbitrary_model is empty
  std::shared_ptr<ArbitraryStylizer> arbitrary;
  bool gatys_available() const { return vgg_info.has_value(); }
  bool arbitrary_available() const { return !arbitrary_model.empty(); }
};

// `vgg_path`: empty = default_vgg_weights_path(), "none" = Gatys and arbitrary off. `load_vgg`
// false: only the header is read (an API node without workers). A file that cannot be used makes
// Gatys unavailable with the reason, not an error.
Engines load_engines(const std::string& device, const std::string& vgg_path, bool load_vgg,
                     spdlog::logger& log);

}  // namespace pastiche::service
