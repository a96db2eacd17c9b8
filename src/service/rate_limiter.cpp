#include "service/rate_limiter.h"

#include <algorithm>

namespace pastiche::service {

RateLimiter::RateLimiter(double rate, double burst)
    : rate_(rate), burst_(std::max(1.0, burst)), last_prune_(std::chrono::steady_clock::now()) {}

bool RateLimiter::allow(const std::string& key, double* retry_after) {
  return allow(key, std::chrono::steady_clock::now(), retry_after);
}

bool RateLimiter::allow(const std::string& key, std::chrono::steady_clock::time_point now,
                        double* retry_after) {
  if (rate_ <= 0) return true;
  std::lock_guard lock(mutex_);
  if (now - last_prune_ > std::chrono::minutes(1) && buckets_.size() > 1000) {
    // Buckets idle long enough to be full again carry no information.
    auto full_after = std::chrono::duration<double>(burst_ / rate_);
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = (now - it->second.last > full_after) ? buckets_.erase(it) : std::next(it);
    }
    last_prune_ = now;
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  if (retry_after) *retry_after = (1.0 - b.tokens) / rate_;
  return false;
}

bool RateLimiter::blocked(const std::string& key, double* retry_after) {
  if (rate_ <= 0) return false;
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return false;
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - it->second.last).count();
  double tokens = std::min(burst_, it->second.tokens + elapsed * rate_);
  if (tokens >= 1.0) return false;
  if (retry_after) *retry_after = (1.0 - tokens) / rate_;
  return true;
}

}  // namespace pastiche::service
