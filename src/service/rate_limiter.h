// Token buckets keyed by client (token or IP address).
#pragma once
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pastiche::service {

class RateLimiter {
 public:
  // rate <= 0 disables limiting.
  RateLimiter(double rate_per_second, double burst);
  // Takes one token; false (and the seconds until one is available) when the bucket is empty.
  bool allow(const std::string& key, double* retry_after_seconds = nullptr);
  // The same at a given time (tests step the clock instead of sleeping).
  bool allow(const std::string& key, std::chrono::steady_clock::time_point now,
             double* retry_after_seconds = nullptr);
  // True (and the seconds until a token is back) when `key`'s bucket is empty; takes nothing.
  // For buckets that count failures: refuse while blocked, take a token on each failure.
  bool blocked(const std::string& key, double* retry_after_seconds = nullptr);
  bool enabled() const { return rate_ > 0; }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_, burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::chrono::steady_clock::time_point last_prune_;
};

}  // namespace pastiche::service
