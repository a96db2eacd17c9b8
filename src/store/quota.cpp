#include "store/quota.h"

namespace pastiche {

std::vector<std::string> enforce_quota(JobStore& jobs, ImageStore& images, int64_t max_bytes,
                                       const std::function<void(const std::string&)>& on_delete) {
  std::vector<std::string> deleted;
  if (max_bytes <= 0) return deleted;
  while (images.total_bytes() > max_bytes) {
    auto oldest = jobs.list_finished_oldest_first(32);
    if (oldest.empty()) break;  // only live jobs left: never delete their files
    for (const auto& job : oldest) {
      if (images.total_bytes() <= max_bytes) break;
      if (on_delete) on_delete(job.id);
      images.remove_prefix(job_prefix(job.id));
      jobs.remove(job.id);
      deleted.push_back(job.id);
    }
  }
  return deleted;
}

}  // namespace pastiche
