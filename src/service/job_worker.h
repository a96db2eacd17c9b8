// The job worker: threads that take jobs from the JobQueue and run them. One set of threads per
// lane (fast, gatys), so a fast job never waits behind a long optimisation. Each job is claimed
// under a lease that a heartbeat thread extends; the same heartbeat picks up cancels requested
// on any API node (within a quarter second) and reaps the jobs of workers that died. A job whose
// worker stops (SIGTERM, `serve` shutting down) finishes within the drain time or goes back to
// the queue, its attempt not counted: never lost.
//
// `pastiche serve` runs one in its own process (SQLite or PostgreSQL); `pastiche worker` runs one
// alone against PostgreSQL. Progress goes to the queue (and so to every API node's event
// streams), previews and results to the image store.
#pragma once
#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "service/engines.h"
#include "service/job_executor.h"
#include "service/metrics.h"
#include "service/storage_quota.h"
#include "service/style_catalog.h"
#include "store/image_store.h"
#include "store/job_queue.h"
#include "store/job_store.h"

namespace pastiche::service {

struct WorkerConfig {
  std::string id;    // unique per process: new_worker_id()
  std::string host;  // for the registry; empty = this machine's name
  std::map<std::string, int> lanes = {{"fast", 1}, {"gatys", 1}};  // lane -> job threads
  int max_attempts = 3;       // starts before a repeatedly interrupted job is failed
  int64_t lease_ms = 30'000;  // a job whose worker stops heartbeating goes back after this
  int preview_every = 10;     // Gatys iterations between preview images
  int64_t progress_ms = 100;  // least time between two progress reports of a job
  double drain_seconds = 0;   // stop(): running jobs may finish this long, then go back
  // Job threads at idle CPU priority (see set_thread_idle_priority): HTTP requests stay fast
  // while jobs saturate the cores. Turn off when other busy programs share the machine.
  bool idle_priority = true;
};

// "<host>-<pid>-<random>".
std::string new_worker_id();

class JobWorker {
 public:
  // `metrics` and `quota` may be null (no metrics kept; no quota applied after jobs).
  JobWorker(WorkerConfig config, JobStore& jobs, JobQueue& queue, ImageStore& images,
            StyleCatalog& styles, const Engines& engines, Metrics* metrics, StorageQuota* quota,
            std::shared_ptr<spdlog::logger> log);
  ~JobWorker();  // stop()
  JobWorker(const JobWorker&) = delete;
  JobWorker& operator=(const JobWorker&) = delete;

  // Registers the worker, reaps expired leases, starts the lane and heartbeat threads.
  void start();
  // Stops claiming; running jobs get drain_seconds to finish, then are interrupted and handed
  // back to the queue (cancelled instead when a cancel was requested); unregisters. Idempotent.
  void stop();

  const WorkerConfig& config() const { return config_; }
  size_t running();  // jobs this worker runs now

  // For a process that owns its database alone (`serve` on SQLite, under the data-dir lock):
  // jobs left running by a previous life of the process are treated as the reaper treats an
  // expired lease (expire_lease, store/queue_signals.h: queued again, failed after max_attempts
  // starts, cancelled when that was requested) and released through the queue, their worker
  // and lease cleared; deleted ones are removed. Returns how many were found.
  static size_t recover_interrupted(JobStore& jobs, JobQueue& queue, ImageStore& images,
                                    int max_attempts, spdlog::logger& log);

 private:
  struct Live {
    std::atomic<bool> cancel{false};
    std::atomic<bool> user_cancelled{false};  // requested through the queue (not a shutdown)
    std::atomic<bool> draining{false};        // this worker is stopping
    std::atomic<bool> database_lost{false};   // the run needed the database while it was down
  };

  void lane_loop(const std::string& lane);
  void heartbeat_loop();
  void heartbeat();
  void reap();
  void execute(JobRecord job);
  void run_job(JobRecord& job, Live& live);
  void complete(JobRecord& job, Live& live);
  // Fails a job whose run broke outside its own error handling (while this worker still holds
  // it); never throws.
  void abandon(const std::string& id, const std::string& reason);
  void purge(const std::string& id);
  // Runs fn until it does not throw DatabaseUnavailable, pausing in between (100 ms, doubling to
  // 2 s); once the worker is stopping, the next failure is thrown. Other exceptions pass.
  void with_database(const char* what, const std::function<void()>& fn);
  // The database failed with DatabaseUnavailable / answered again (logged once per outage).
  void note_database_down(const char* what, const std::exception& e);
  void note_database_up();
  // Waits `pause_ms` or until the worker stops; doubles pause_ms up to 2 s.
  void pause_for_database(int64_t& pause_ms);
  JobExecutor& executor_for(JobMethod method);

  WorkerConfig config_;
  JobStore& jobs_;
  JobQueue& queue_;
  ImageStore& images_;
  Metrics* metrics_;
  StorageQuota* quota_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<JobMethod, std::unique_ptr<JobExecutor>> executors_;
  int64_t heartbeat_ms_, idle_heartbeat_ms_, reap_ms_;

  std::mutex mutex_;
  std::condition_variable changed_;  // running_ emptied, or stopping
  bool started_ = false, stopping_ = false, stopped_ = false;
  std::map<std::string, std::shared_ptr<Live>> running_;
  std::vector<std::thread> lanes_;
  std::thread heartbeat_thread_;
  bool heartbeat_stop_ = false;
  // While the database is unavailable (DatabaseUnavailable from the stores) the lanes pause
  // claiming; nobody reaps then, nor for one lease after it is back, so that the holders of
  // running jobs renew their leases before anyone takes their jobs.
  std::atomic<bool> database_down_{false};
  std::atomic<int64_t> reap_after_ms_{0};  // steady-clock milliseconds
};

}  // namespace pastiche::service
