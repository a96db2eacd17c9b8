// JobQueue on PostgreSQL, shared by any number of API and worker processes: claims with
// SELECT ... FOR UPDATE SKIP LOCKED (no two workers get the same job, none waits for another),
// the queue bound and a client's caps and turn checked under advisory locks, and NOTIFY in the same
// transaction as each change (delivered on commit). A listener connection of its own
// (pg_listener.h) turns the notifications into wake-ups for wait_for_work and calls for
// subscribers.
#pragma once
#include <memory>

#include "store/job_queue.h"
#include "store/queue_signals.h"

namespace pastiche {

class PgDatabase;
class PgListener;

class PgJobQueue : public JobQueue {
 public:
  explicit PgJobQueue(PgDatabase& db, Clock clock = system_clock_ms);
  ~PgJobQueue() override;

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

  // The listening connection's server process, 0 while it reconnects (for tests).
  int listener_backend_pid() const;

 private:
  PgDatabase& db_;
  Clock clock_;
  WorkSignal work_;
  UpdateHub updates_;
  std::unique_ptr<PgListener> listener_;  // last: stopped before the signals go
};

}  // namespace pastiche
