#include "store/queue_signals.h"

#include <utility>
#include <vector>

namespace pastiche {

int64_t system_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const char* to_string(JobQueue::CancelOutcome outcome) {
  switch (outcome) {
    case JobQueue::CancelOutcome::not_found:
      return "not_found";
    case JobQueue::CancelOutcome::finished:
      return "finished";
    case JobQueue::CancelOutcome::cancelled:
      return "cancelled";
    case JobQueue::CancelOutcome::cancelling:
      return "cancelling";
  }
  return "unknown";
}

uint64_t WorkSignal::generation_locked(const std::string& lane) const {
  auto it = lanes_.find(lane);
  return all_ + (it == lanes_.end() ? 0 : it->second);
}

uint64_t WorkSignal::generation(const std::string& lane) {
  std::lock_guard lock(mutex_);
  return generation_locked(lane);
}

void WorkSignal::notify(const std::string& lane) {
  {
    std::lock_guard lock(mutex_);
    ++lanes_[lane];
  }
  cv_.notify_all();
}

void WorkSignal::notify_all() {
  {
    std::lock_guard lock(mutex_);
    ++all_;
  }
  cv_.notify_all();
}

void WorkSignal::interrupt() {
  {
    std::lock_guard lock(mutex_);
    ++interrupts_;
  }
  cv_.notify_all();
}

bool WorkSignal::wait(const std::string& lane, uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const uint64_t interrupts = interrupts_;
  bool changed = cv_.wait_for(
      lock, timeout, [&] { return generation_locked(lane) != seen || interrupts_ != interrupts; });
  return changed && interrupts_ == interrupts;
}

void expire_lease(JobRecord& job, int max_attempts, int64_t now_ms) {
  if (job.cancel_requested) {
    job.status = JobStatus::cancelled;
    job.finished_ms = now_ms;
  } else if (job.attempts >= max_attempts) {
    job.status = JobStatus::failed;
    job.error = "interrupted " + std::to_string(job.attempts) + " time(s): its worker (last " +
                (job.worker_id.empty() ? std::string("this server") : job.worker_id) +
                ") stopped or lost its lease; giving up";
    job.finished_ms = now_ms;
  } else {
    job.status = JobStatus::queued;
  }
  job.worker_id.clear();
  job.lease_expires_ms = 0;
}

std::string join_lanes(const std::vector<std::string>& lanes) {
  std::string out;
  for (const auto& lane : lanes) out += (out.empty() ? "" : ",") + lane;
  return out;
}

std::vector<std::string> split_lanes(const std::string& lanes) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < lanes.size()) {
    size_t end = lanes.find(',', start);
    if (end == std::string::npos) end = lanes.size();
    if (end > start) out.push_back(lanes.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int UpdateHub::subscribe(JobQueue::UpdateCallback fn) {
  std::lock_guard lock(mutex_);
  int token = next_++;
  subscribers_.emplace(token, std::move(fn));
  return token;
}

void UpdateHub::unsubscribe(int token) {
  {
    std::lock_guard lock(mutex_);
    subscribers_.erase(token);
  }
  std::lock_guard wait_for_dispatch(dispatch_);
}

void UpdateHub::publish(const std::string& id) {
  std::lock_guard dispatch(dispatch_);
  std::vector<JobQueue::UpdateCallback> fns;
  {
    std::lock_guard lock(mutex_);
    if (subscribers_.empty()) return;
    for (const auto& [token, fn] : subscribers_) fns.push_back(fn);
  }
  for (const auto& fn : fns) {
    try {
      fn(id);
    } catch (...) {
      // A subscriber's failure is its own; the others still hear of the change.
    }
  }
}

JobRecord as_queued(const JobRecord& job) {
  JobRecord queued = job;
  queued.status = JobStatus::queued;
  queued.worker_id.clear();
  queued.lease_expires_ms = 0;
  queued.cancel_requested = queued.delete_requested = false;
  return queued;
}

EnqueueResult::Refusal client_cap_refusal(const EnqueueOptions& options, const EnqueueResult& r,
                                          int64_t all_jobs) {
  if (options.max_client_jobs > 0 && r.client_jobs >= options.max_client_jobs) {
    return EnqueueResult::Refusal::client_jobs;
  }
  if (options.max_client_seconds > 0 && all_jobs > 0 &&
      r.client_seconds + options.estimated_seconds > options.max_client_seconds) {
    return EnqueueResult::Refusal::client_seconds;
  }
  return EnqueueResult::Refusal::none;
}

}  // namespace pastiche
