// What both JobQueue backends share: per-lane wake-ups for workers waiting for work, the update
// subscribers (the PostgreSQL queue feeds both from LISTEN/NOTIFY, the SQLite queue directly),
// and the rules for a job whose lease expired.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "store/job_queue.h"

namespace pastiche {

class WorkSignal {
 public:
  // Changes whenever notify(lane) or notify_all() runs: read it before looking for work.
  uint64_t generation(const std::string& lane);
  void notify(const std::string& lane);
  void notify_all();
  void interrupt();  // ends the waits in progress (they return false)
  // True once the lane's generation differs from `seen`; false after `timeout` or interrupt().
  bool wait(const std::string& lane, uint64_t seen, std::chrono::milliseconds timeout);

 private:
  uint64_t generation_locked(const std::string& lane) const;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, uint64_t> lanes_;
  uint64_t all_ = 0, interrupts_ = 0;
};

class UpdateHub {
 public:
  int subscribe(JobQueue::UpdateCallback fn);
  void unsubscribe(int token);          // waits for a dispatch in progress
  void publish(const std::string& id);  // calls every subscriber, one dispatch at a time

 private:
  std::mutex mutex_, dispatch_;
  std::map<int, JobQueue::UpdateCallback> subscribers_;
  int next_ = 1;
};

// A running job whose lease expired: cancelled if a cancel was requested, failed with a reason
// once it has started `max_attempts` times, queued again otherwise; released in every case.
void expire_lease(JobRecord& job, int max_attempts, int64_t now_ms);

std::string join_lanes(const std::vector<std::string>& lanes);  // "fast,gatys"
std::vector<std::string> split_lanes(const std::string& lanes);

// The job as enqueue() inserts it: queued, no worker, no lease, no cancel or delete request.
JobRecord as_queued(const JobRecord& job);

// The per-client caps of EnqueueOptions applied to what the owner already has (r's counts, and
// `all_jobs`, its queued + running jobs in every lane): the refusal, or none.
EnqueueResult::Refusal client_cap_refusal(const EnqueueOptions& options, const EnqueueResult& r,
                                          int64_t all_jobs);

}  // namespace pastiche
