// The job queue and its workers. Two lanes (fast, gatys) with their own worker threads so a fast
// job never waits behind a long optimisation. Jobs are rows in the JobStore; this class holds only
// what is in flight (queue order, cancel flags, live progress) and rebuilds it from the store on
// start: queued jobs are re-enqueued, jobs that were running when the process died are re-queued
// (or failed after max_attempts).
#pragma once
#include <spdlog/logger.h>
#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "service/engines.h"
#include "service/events.h"
#include "service/job_request.h"
#include "service/job_view.h"
#include "service/metrics.h"
#include "service/style_catalog.h"
#include "store/image_store.h"
#include "store/job_files.h"
#include "store/job_store.h"

namespace pastiche::service {

struct RunnerConfig {
  int fast_workers = 1;
  int gatys_workers = 1;
  int max_queue = 64;          // queued jobs, both lanes together
  int max_attempts = 3;        // starts before a repeatedly interrupted job is failed
  int preview_every = 10;      // Gatys iterations between preview images
  int64_t max_disk_bytes = 0;  // image store quota; 0 = none
  int keep_min_minutes = 30;   // the quota keeps jobs finished more recently than this
  // Workers at idle CPU priority (see set_thread_idle_priority): HTTP requests stay fast while
  // jobs saturate the cores. Turn off when other busy programs share the machine, which would
  // then starve the jobs.
  bool idle_priority_workers = true;
  RequestLimits limits;
};

// Thrown by submit() when the queue is full.
struct QueueFull : std::runtime_error {
  QueueFull() : std::runtime_error("the job queue is full; try again shortly") {}
};

// Thrown by reserve_storage() when the disk quota cannot fit another job (HTTP 507).
struct StorageFull : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class JobRunner {
 public:
  JobRunner(RunnerConfig config, JobStore& jobs, ImageStore& images, StyleCatalog& styles,
            EventHub& events, Metrics& metrics, Engines& engines,
            std::shared_ptr<spdlog::logger> log);
  ~JobRunner();

  void start();  // recovers jobs from the store and starts the workers
  void stop();   // running jobs are interrupted and re-queued (they run again on next start)

  // Inserts the job (status queued) and enqueues it; QueueFull when full. Returns the position.
  int submit(JobRecord job);

  enum class CancelResult { not_found, finished, cancelled, cancelling };
  // delete_after: remove the job and its files once it has stopped.
  CancelResult cancel(const std::string& id, bool delete_after = false);

  int position(const std::string& id);  // 1-based; 0 = not queued
  std::optional<nlohmann::json> live_progress(const std::string& id);
  size_t queued();
  size_t queued(const std::string& lane);
  size_t running();
  int max_queue() const { return config_.max_queue; }
  double retry_after_seconds();

  // Runs the quota now (also after every job), leaving `headroom` bytes free under it.
  void enforce_quota(int64_t headroom = 0);
  // Makes room for a new job that will store about `bytes`, or throws StorageFull.
  void reserve_storage(int64_t bytes);

 private:
  struct Live {
    std::atomic<bool> cancel{false};
    bool user_cancelled = false;  // by its owner (not by shutdown)
    bool delete_after = false;
    std::mutex mutex;
    nlohmann::json progress;  // null until the first report
  };
  struct Lane {
    std::string name;
    std::deque<std::string> queue;
    std::condition_variable cv;
    std::vector<std::thread> threads;
  };

  Lane& lane_for(const std::string& method);
  void worker(Lane& lane);
  void start_job(const std::string& id, Live& live);
  void run_job(JobRecord& job, Live& live);
  // Fails a job whose run broke outside its own error handling; never throws.
  void abandon(const std::string& id, const std::string& reason);
  void finish(JobRecord& job, Live& live);
  void publish_status(const JobRecord& job);
  void purge(const std::string& id);

  RunnerConfig config_;
  JobStore& jobs_;
  ImageStore& images_;
  StyleCatalog& styles_;
  EventHub& events_;
  Metrics& metrics_;
  Engines& engines_;
  std::shared_ptr<spdlog::logger> log_;

  std::mutex mutex_;
  bool stopping_ = false;
  bool started_ = false;
  Lane fast_lane_, gatys_lane_;
  std::map<std::string, std::shared_ptr<Live>> running_;
  std::mutex quota_mutex_;
};

}  // namespace pastiche::service
