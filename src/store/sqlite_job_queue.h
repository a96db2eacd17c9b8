// JobQueue on the SQLite job store's own connection: the embedded default, for one process (its
// wake-ups and update signals are in-process). Every change is one IMMEDIATE transaction, so
// several connections on the same file (tests, a second tool) stay correct; they only wake each
// other through the polling fallback.
#pragma once
#include "store/job_queue.h"
#include "store/queue_signals.h"
#include "store/sqlite_job_store.h"

namespace pastiche {

class SqliteJobQueue : public JobQueue {
 public:
  explicit SqliteJobQueue(SqliteJobStore& store, Clock clock = system_clock_ms);

  using JobQueue::enqueue;
  EnqueueResult enqueue(const JobRecord& job, const EnqueueOptions& options) override;
  EnqueueResult enqueue_all(const std::vector<JobRecord>& jobs,
                            const std::vector<double>& estimated_seconds,
                            const EnqueueOptions& options) override;
  std::optional<JobRecord> claim(const std::string& lane, const std::string& worker_id,
                                 int64_t lease_ms) override;
  std::vector<std::string> heartbeat(const std::string& worker_id, int64_t lease_ms) override;
  void publish_progress(const std::string& id, const std::string& progress_json) override;
  bool finish(const JobRecord& job, const std::string& worker_id) override;
  std::optional<JobRecord> release(const std::string& id, const std::string& worker_id) override;
  std::vector<JobRecord> reap(int max_attempts) override;
  CancelOutcome request_cancel(const std::string& id, bool delete_after = false) override;
  QueuePlace place(const std::string& id) override;
  double soonest_finish_seconds() override;
  std::map<std::string, int64_t> queued_by_lane() override;
  bool wait_for_work(const std::string& lane, std::chrono::milliseconds timeout) override;
  void wake_waiters() override { work_.interrupt(); }
  int subscribe(UpdateCallback fn) override { return updates_.subscribe(std::move(fn)); }
  void unsubscribe(int token) override { updates_.unsubscribe(token); }
  void register_worker(const WorkerInfo& worker) override;
  std::vector<WorkerInfo> list_workers(int64_t max_age_ms) override;
  bool remove_worker(const std::string& id) override;

 private:
  SqliteJobStore& store_;
  Clock clock_;
  WorkSignal work_;
  UpdateHub updates_;
};

}  // namespace pastiche
