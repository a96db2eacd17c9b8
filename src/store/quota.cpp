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

int64_t MemoryQuotaReservations::drop_stale_locked(int64_t now_ms) {
  int64_t total = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    bool stale = false;
    if (it->second.for_job) {
      auto job = jobs_.get(it->first);
      stale = !job || is_finished(job->status);
    } else {
      stale = it->second.created_ms < now_ms - kPendingReservationMs;
    }
    if (stale) {
      it = entries_.erase(it);
    } else {
      total += it->second.bytes;
      ++it;
    }
  }
  return total;
}

bool MemoryQuotaReservations::try_reserve(const std::string& id, int64_t bytes, int64_t max_bytes,
                                          int64_t now_ms) {
  std::lock_guard lock(mutex_);
  // Every put of this store follows a reservation taken here, so under this lock the stored
  // bytes only grow by what is reserved already.
  const int64_t reserved = drop_stale_locked(now_ms);
  if (images_.total_bytes() + reserved + bytes > max_bytes) return false;
  entries_[id] = Entry{bytes, now_ms, false};
  return true;
}

void MemoryQuotaReservations::hold_for_job(const std::string& id, int64_t bytes) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second.bytes = bytes;
  it->second.for_job = true;
}

void MemoryQuotaReservations::release(const std::string& id) {
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

int64_t MemoryQuotaReservations::reserved_bytes(int64_t now_ms) {
  std::lock_guard lock(mutex_);
  return drop_stale_locked(now_ms);
}

}  // namespace pastiche
