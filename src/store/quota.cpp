#include "store/quota.h"

namespace pastiche {

std::vector<std::string> enforce_quota(JobStore& jobs, ImageStore& images, int64_t max_bytes,
                                       int64_t now_ms, int64_t keep_ms,
                                       const std::function<void(const JobRecord&)>& on_expire) {
  std::vector<std::string> expired;
  if (max_bytes <= 0) return expired;
  while (images.total_bytes() > max_bytes) {
    auto oldest = jobs.list_evictable(now_ms - keep_ms, 32);
    if (oldest.empty()) break;  // only protected jobs left: keep their files
    for (auto& job : oldest) {
      if (images.total_bytes() <= max_bytes) break;
      images.remove_prefix(job_prefix(job.id));
      job.status = JobStatus::expired;
      jobs.update(job);
      expired.push_back(job.id);
      if (on_expire) on_expire(job);
    }
  }
  return expired;
}

}  // namespace pastiche
