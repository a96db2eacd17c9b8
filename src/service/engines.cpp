#include "service/engines.h"

namespace pastiche::service {

StylizerPool::Lease::~Lease() {
  if (!stylizer_) return;
  std::lock_guard lock(pool_->mutex_);
  pool_->idle_[path_].push_back(std::move(stylizer_));
}

StylizerPool::Lease StylizerPool::acquire(const std::string& model_path) {
  {
    std::lock_guard lock(mutex_);
    auto& idle = idle_[model_path];
    if (!idle.empty()) {
      auto s = std::move(idle.back());
      idle.pop_back();
      return Lease(this, model_path, std::move(s));
    }
  }
  // Loading happens outside the lock: other models stay available meanwhile.
  return Lease(this, model_path, std::make_unique<FastStylizer>(model_path, device_));
}

}  // namespace pastiche::service
