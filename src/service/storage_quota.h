// The disk quota as the service applies it: after every job (the worker) and before accepting one
// that would not fit (the API). The rules themselves (what may expire) are store/quota.h's.
// With PostgreSQL the image store is shared, so the quota counts every node's images.
#pragma once
#include <spdlog/logger.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "store/image_store.h"
#include "store/job_store.h"

namespace pastiche::service {

// Thrown by StorageQuota::reserve() when the quota cannot fit another job (HTTP 507).
struct StorageFull : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class StorageQuota {
 public:
  // max_bytes <= 0: no quota. on_expire runs after each job that expired (forget its events).
  StorageQuota(JobStore& jobs, ImageStore& images, int64_t max_bytes, int keep_min_minutes,
               std::shared_ptr<spdlog::logger> log,
               std::function<void(const JobRecord&)> on_expire = {});

  // Expires the oldest finished jobs until the store fits, leaving `headroom` bytes free.
  void enforce(int64_t headroom = 0);
  // Makes room for a new job that will store about `bytes`, or throws StorageFull.
  void reserve(int64_t bytes);

 private:
  JobStore& jobs_;
  ImageStore& images_;
  int64_t max_bytes_;
  int keep_min_minutes_;
  std::shared_ptr<spdlog::logger> log_;
  std::function<void(const JobRecord&)> on_expire_;
  std::mutex mutex_;
};

}  // namespace pastiche::service
