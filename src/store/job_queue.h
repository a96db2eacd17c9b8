// The durable job queue: the rows of the JobStore seen as a queue that several worker processes
// share. Lanes are job methods ("fast", "gatys"): a worker claims the oldest queued job of a lane
// and holds it under a lease that its heartbeat extends; a job whose lease runs out goes back to
// the queue (at-least-once), and fails after max_attempts starts. Cancel is a row flag the holder
// sees on its next heartbeat. Progress and status changes are signalled to subscribers in every
// process (an API node can follow a job that a worker elsewhere runs).
//
// Fair share: claim() takes turns between clients (JobRecord::owner) within a lane. Each job gets
// a turn number when it is queued: one past its owner's latest queued or running job of the lane,
// and never below the lane's current turn (the newest turn running, else the oldest queued), so a
// client that arrives behind another's backlog has its first job claimed after at most one more
// of the other's (the one already next), then alternates with it. Jobs of one client keep their
// order. A released or reaped job keeps its turn (it runs again first).
//
// Backends: SqliteJobQueue (one process, the embedded default) and PgJobQueue (PostgreSQL, any
// number of processes: SELECT ... FOR UPDATE SKIP LOCKED, LISTEN/NOTIFY).
//
// Times are Unix epoch milliseconds from the queue's clock (system_clock_ms unless a test steps
// its own); processes sharing a database need synchronised clocks (leases are seconds long).
// Every call throws std::runtime_error when the database fails.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/job_store.h"

namespace pastiche {

using Clock = std::function<int64_t()>;
int64_t system_clock_ms();

struct WorkerInfo {
  std::string id;  // unique per worker process
  std::string host;
  std::vector<std::string> lanes;
  int64_t started_ms = 0;
  int64_t last_seen_ms = 0;  // set by register_worker and heartbeat
};

// What enqueue() checks, atomically with the insert. Caps <= 0 are off.
struct EnqueueOptions {
  int max_queued = 0;  // queued jobs of every client and lane together
  // Queued + running jobs of the job's owner in the job's lane, this one included.
  int max_client_jobs = 0;
  // The owner's estimated seconds of queued + running work, every lane, this job included; a
  // client with nothing queued or running may always queue one job, however long.
  double max_client_seconds = 0;
  double estimated_seconds = 0;  // this job's, stored with it (a rough figure of the caller's)
};

struct EnqueueResult {
  enum class Refusal { none, queue_full, client_jobs, client_seconds };
  Refusal refused = Refusal::none;
  // The owner's queued + running jobs before this one (filled when a client cap is set): their
  // number in the job's lane, their estimated seconds in that lane and in every lane.
  int64_t client_jobs = 0;
  double client_lane_seconds = 0;
  double client_seconds = 0;
  int refused_index = -1;  // enqueue_all: the job that met the cap (0-based)
  bool ok() const { return refused == Refusal::none; }
};
inline const char* to_string(EnqueueResult::Refusal refusal) {
  switch (refusal) {
    case EnqueueResult::Refusal::queue_full:
      return "queue_full";
    case EnqueueResult::Refusal::client_jobs:
      return "client_jobs";
    case EnqueueResult::Refusal::client_seconds:
      return "client_seconds";
    case EnqueueResult::Refusal::none:
      break;
  }
  return "none";
}

// A queued job's place in its lane. The seconds are the enqueue-time estimates
// (EnqueueOptions::estimated_seconds); a running job's part is what its estimate leaves after the
// time it has run (at least a second).
struct QueuePlace {
  int position = 0;           // 1 = next; 0 = not queued
  double queued_ahead_s = 0;  // the queued jobs claimed before it
  double running_left_s = 0;  // the lane's running jobs, all together
};

class JobQueue {
 public:
  enum class CancelOutcome {
    not_found,   // no such job
    finished,    // it had already finished: nothing changed
    cancelled,   // it was queued: now cancelled (finished_ms set)
    cancelling,  // it is running: flagged; its worker stops it after its next heartbeat
  };
  using UpdateCallback = std::function<void(const std::string& job_id)>;

  virtual ~JobQueue() = default;

  // Inserts the job as queued (worker, lease and flags cleared) with its fair-share turn, unless
  // a cap of `options` is reached (nothing inserted; the refusal says which). The caps are checked
  // atomically with the insert, against every process sharing the database. Wakes the lane's
  // waiting workers.
  virtual EnqueueResult enqueue(const JobRecord& job, const EnqueueOptions& options) = 0;
  // A batch (jobs of one owner and lane): all of them or none. In one transaction, each job is
  // checked against the caps as if those before it were queued already; on a refusal nothing is
  // inserted and refused_index names the job that met the cap. `estimated_seconds[i]` is
  // jobs[i]'s (options.estimated_seconds is not used). Wakes the lane's waiting workers.
  virtual EnqueueResult enqueue_all(const std::vector<JobRecord>& jobs,
                                    const std::vector<double>& estimated_seconds,
                                    const EnqueueOptions& options) = 0;
  // The queue bound only (max_queued <= 0: none); false when refused.
  bool enqueue(const JobRecord& job, int max_queued) {
    EnqueueOptions options;
    options.max_queued = max_queued;
    return enqueue(job, options).ok();
  }

  // The next queued job of `lane` in fair-share order (its turn, then created_ms, then insertion
  // order), now running: attempts+1, started_ms = now, held by `worker_id` until now + lease_ms.
  // nullopt when the lane is empty.
  virtual std::optional<JobRecord> claim(const std::string& lane, const std::string& worker_id,
                                         int64_t lease_ms) = 0;

  // Extends the lease of every job `worker_id` holds to now + lease_ms and records the worker as
  // seen now. Returns the ids among its jobs whose cancel was requested (stop them, then finish
  // them as cancelled).
  virtual std::vector<std::string> heartbeat(const std::string& worker_id, int64_t lease_ms) = 0;

  // Stores the job's progress (JobStore::update_progress) and signals subscribers.
  virtual void publish_progress(const std::string& id, const std::string& progress_json) = 0;

  // Writes the job's final record (every column JobStore::update writes; done, failed,
  // cancelled...) and releases it, only while `worker_id` still holds it (running, its lease not
  // reaped). false: the lease was lost (the job was reaped, cancelled by expiry or removed) and
  // nothing was written.
  virtual bool finish(const JobRecord& job, const std::string& worker_id) = 0;

  // A held job goes back to the queue, its attempt not counted (a draining worker), or, when its
  // cancel was requested, becomes cancelled. Returns the job as it is now; nullopt when
  // `worker_id` does not hold it.
  virtual std::optional<JobRecord> release(const std::string& id, const std::string& worker_id) = 0;

  // Running jobs whose lease has expired (their worker died or hangs): queued again, or failed
  // with a reason once they have started `max_attempts` times, or cancelled when a cancel was
  // requested. Returns them as they are now (delete_requested ones are for the caller to remove).
  virtual std::vector<JobRecord> reap(int max_attempts) = 0;

  // Cancels a queued job at once, or flags a running one; delete_after also sets
  // delete_requested (the stopped job is then removed with its files by whoever sees it).
  virtual CancelOutcome request_cancel(const std::string& id, bool delete_after = false) = 0;

  // 1-based within its lane, in claim order as the queue stands (a client arriving later may take
  // one turn ahead of it); 0 = not queued.
  int position(const std::string& id) { return place(id).position; }
  // Where a queued job stands, with the estimated work before it (position 0: not queued).
  virtual QueuePlace place(const std::string& id) = 0;
  // Estimated seconds until the first running job (any lane) ends, at least 1; 0 when none runs.
  virtual double soonest_finish_seconds() = 0;
  virtual std::map<std::string, int64_t> queued_by_lane() = 0;  // lanes with queued jobs only

  // Returns true as soon as `lane` may have work (a job is queued there now, or one was
  // enqueued or released while waiting), false after `timeout` or wake_waiters(). Notifications
  // can be missed, so callers claim after either answer (the timeout is the polling fallback).
  virtual bool wait_for_work(const std::string& lane, std::chrono::milliseconds timeout) = 0;
  // Ends every wait_for_work now (shutdown).
  virtual void wake_waiters() = 0;

  // `fn(job_id)` runs after any job's status or progress changed through any queue on the same
  // database (enqueue, claim, progress, finish, release, reap, cancel), on a thread of the
  // queue's (PostgreSQL: its listener; SQLite: the caller's, after the change). An empty id:
  // notifications may have been lost (the listener reconnected): re-read what you follow.
  // Callbacks must not block for long nor call unsubscribe. Returns a token for unsubscribe.
  virtual int subscribe(UpdateCallback fn) = 0;
  virtual void unsubscribe(int token) = 0;  // the callback is not running when this returns

  // The worker registry: a worker registers on start (last_seen = now), heartbeats while it
  // runs and removes itself when it stops. list_workers: those seen within max_age_ms (<= 0:
  // all), oldest first.
  virtual void register_worker(const WorkerInfo& worker) = 0;
  virtual std::vector<WorkerInfo> list_workers(int64_t max_age_ms) = 0;
  virtual bool remove_worker(const std::string& id) = 0;
};

const char* to_string(JobQueue::CancelOutcome outcome);

}  // namespace pastiche
