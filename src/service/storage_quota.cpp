#include "service/storage_quota.h"

#include <algorithm>

#include "service/ids.h"
#include "store/quota.h"

namespace pastiche::service {

StorageQuota::StorageQuota(JobStore& jobs, ImageStore& images, int64_t max_bytes,
                           int keep_min_minutes, std::shared_ptr<spdlog::logger> log,
                           std::function<void(const JobRecord&)> on_expire)
    : jobs_(jobs),
      images_(images),
      max_bytes_(max_bytes),
      keep_min_minutes_(keep_min_minutes),
      log_(std::move(log)),
      on_expire_(std::move(on_expire)) {}

void StorageQuota::enforce(int64_t headroom) {
  if (max_bytes_ <= 0) return;
  std::lock_guard lock(mutex_);
  int64_t keep_ms = static_cast<int64_t>(keep_min_minutes_) * 60 * 1000;
  int64_t target = std::max<int64_t>(1, max_bytes_ - headroom);
  auto expired = pastiche::enforce_quota(jobs_, images_, target, now_ms(), keep_ms, on_expire_);
  if (!expired.empty()) {
    log_->info("disk quota: expired {} oldest finished job(s), store now {} bytes", expired.size(),
               images_.total_bytes());
  }
}

void StorageQuota::reserve(int64_t need) {
  if (max_bytes_ <= 0) return;
  if (images_.total_bytes() + need <= max_bytes_) return;
  enforce(need);
  if (images_.total_bytes() + need <= max_bytes_) return;
  throw StorageFull("storage full: the server keeps recent and not yet downloaded results for " +
                    std::to_string(keep_min_minutes_) +
                    " minutes and has no room for another job now; download your results or "
                    "try again later");
}

}  // namespace pastiche::service
