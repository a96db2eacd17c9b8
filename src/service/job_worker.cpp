#include "service/job_worker.h"

#include <c10/util/Exception.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.h"
#include "common/runtime.h"
#include "common/secure_random.h"
#include "common/text.h"
#include "image/image_io.h"
#include "service/arbitrary_executor.h"
#include "service/fast_executor.h"
#include "service/gatys_executor.h"
#include "service/ids.h"
#include "service/progress_reporter.h"
#include "store/job_files.h"
#include "store/queue_signals.h"

namespace pastiche::service {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || !name[0]) return "localhost";
  return name;
}

int64_t steady_ms() {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// A job whose holder is gone, as expire_lease settled it.
void log_expired(spdlog::logger& log, const JobRecord& job, int max_attempts, const char* cause) {
  if (job.status == JobStatus::queued) {
    log.info("job {}: {}: queued again (attempt {} of {})", job.id, cause, job.attempts + 1,
             max_attempts);
  } else {
    log.warn("job {}: {}: {}{}{}", job.id, cause, to_string(job.status),
             job.error.empty() ? "" : ": ", job.error);
  }
}

}  // namespace

std::string new_worker_id() {
  return host_name() + "-" + std::to_string(getpid()) + "-" + secure_random_hex(3);
}

JobWorker::JobWorker(WorkerConfig config, JobStore& jobs, JobQueue& queue, ImageStore& images,
                     StyleCatalog& styles, const Engines& engines, Metrics* metrics,
                     StorageQuota* quota, std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)),
      jobs_(jobs),
      queue_(queue),
      images_(images),
      metrics_(metrics),
      quota_(quota),
      log_(std::move(log)) {
  if (config_.id.empty()) config_.id = new_worker_id();
  if (config_.host.empty()) config_.host = host_name();
  config_.lease_ms = std::max<int64_t>(config_.lease_ms, 200);
  // Cancels are seen within a heartbeat; a lease survives several missed ones.
  heartbeat_ms_ = std::clamp<int64_t>(config_.lease_ms / 4, 50, 250);
  idle_heartbeat_ms_ = std::max<int64_t>(heartbeat_ms_, 1000);
  reap_ms_ = std::clamp<int64_t>(config_.lease_ms / 2, 100, 5000);
  executors_[JobMethod::fast] = std::make_unique<FastExecutor>(styles, *engines.fast);
  executors_[JobMethod::gatys] =
      std::make_unique<GatysExecutor>(styles, engines, config_.preview_every);
  executors_[JobMethod::arbitrary] = std::make_unique<ArbitraryExecutor>(styles, engines);
}

JobWorker::~JobWorker() {
  stop();
}

size_t JobWorker::recover_interrupted(JobStore& jobs, JobQueue& queue, ImageStore& images,
                                      int max_attempts, spdlog::logger& log) {
  const int64_t now = now_ms();
  auto interrupted = jobs.list_by_status(JobStatus::running);
  for (auto& job : interrupted) {
    const std::string holder = job.worker_id;
    // The reaper's policy: the previous life of this process is a worker whose lease is over.
    expire_lease(job, max_attempts, now);
    log_expired(log, job, max_attempts, "was running when the server stopped");
    if (job.delete_requested && is_finished(job.status)) {
      images.remove_prefix(job_prefix(job.id));
      jobs.remove(job.id);
    } else if (holder.empty() || !queue.finish(job, holder)) {
      // Released as its holder would have (worker and lease cleared); a row without a holder
      // has neither to clear.
      jobs.update(job);
    }
  }
  auto queued = jobs.list_by_status(JobStatus::queued).size();
  if (queued) log.info("{} queued job(s) waiting", queued);
  return interrupted.size();
}

void JobWorker::start() {
  {
    std::lock_guard lock(mutex_);
    if (started_) return;
    started_ = true;
  }
  std::vector<std::string> lanes;
  for (const auto& [lane, threads] : config_.lanes) lanes.push_back(lane);
  queue_.register_worker({config_.id, config_.host, lanes, now_ms(), 0});
  reap();
  std::string names;
  for (const auto& lane : lanes) names += (names.empty() ? "" : ",") + lane;
  log_->info("worker {} on {}: lanes {}, lease {:.1f} s", config_.id, config_.host, names,
             config_.lease_ms / 1000.0);
  heartbeat_thread_ = std::thread([this] { heartbeat_loop(); });
  for (const auto& [lane, threads] : config_.lanes) {
    for (int i = 0; i < std::max(1, threads); ++i) {
      lanes_.emplace_back([this, lane = lane] { lane_loop(lane); });
    }
  }
}

void JobWorker::stop() {
  {
    std::unique_lock lock(mutex_);
    if (!started_ || stopping_) {
      stopping_ = true;
      if (!started_) return;
      changed_.wait(lock, [&] { return stopped_; });
      return;
    }
    stopping_ = true;
  }
  changed_.notify_all();  // ends the pauses for the database
  queue_.wake_waiters();
  {
    std::unique_lock lock(mutex_);
    if (config_.drain_seconds > 0 && !running_.empty()) {
      log_->info("worker {} draining: {} running job(s) may finish within {:.0f} s", config_.id,
                 running_.size(), config_.drain_seconds);
      changed_.wait_for(lock, std::chrono::duration<double>(config_.drain_seconds),
                        [&] { return running_.empty(); });
    }
    for (auto& [id, live] : running_) {
      live->draining = true;
      live->cancel = true;
    }
  }
  for (auto& t : lanes_) {
    if (t.joinable()) t.join();
  }
  lanes_.clear();
  {
    std::lock_guard lock(mutex_);
    heartbeat_stop_ = true;
  }
  changed_.notify_all();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
  try {
    queue_.remove_worker(config_.id);
  } catch (const std::exception& e) {
    log_->warn("worker {}: cannot unregister: {}", config_.id, e.what());
  }
  log_->info("worker {} stopped", config_.id);
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  changed_.notify_all();
}

size_t JobWorker::running() {
  std::lock_guard lock(mutex_);
  return running_.size();
}

void JobWorker::lane_loop(const std::string& lane) {
  // Before the first LibTorch call, so its OpenMP threads inherit the priority.
  if (config_.idle_priority && !set_thread_idle_priority())
    log_->warn("could not lower the job worker's CPU priority; requests may slow under load");
  bool ran = false;
  int64_t database_pause_ms = 100;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    std::optional<JobRecord> job;
    try {
      // Woken by an enqueue or release on any node; the timeout is the polling fallback.
      queue_.wait_for_work(lane, milliseconds(500));
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
      }
      job = queue_.claim(lane, config_.id, config_.lease_ms);
      note_database_up();
      database_pause_ms = 100;
    } catch (const DatabaseUnavailable& e) {
      // Claims pause while the database is down (logged once), and resume when it answers.
      note_database_down("claim", e);
      pause_for_database(database_pause_ms);
      continue;
    } catch (const std::exception& e) {
      log_->error("worker {}: cannot claim a {} job: {}", config_.id, lane, e.what());
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      continue;
    }
    if (!job) {
      // Freed buffers stay with the allocator for the next job's reuse; an idle lane hands them
      // back.
      if (ran) release_free_memory();
      ran = false;
      continue;
    }
    ran = true;
    std::string id = job->id;
    try {
      execute(std::move(*job));
    } catch (const DatabaseUnavailable& e) {
      // Stopping while the database is down: the job stays held until its lease expires, and
      // then the reaper queues it again.
      log_->warn("job {}: left to its lease: {}", id, e.what());
    } catch (const std::exception& e) {
      // The store failed outside the job's own error handling: the job must still end with a
      // reason, and the worker must live on.
      log_->error("job {}: {}", id, e.what());
      abandon(id, std::string("internal error: ") + e.what());
    } catch (...) {
      log_->error("job {}: unknown exception", id);
      abandon(id, "internal error");
    }
    {
      std::lock_guard lock(mutex_);
      running_.erase(id);
    }
    changed_.notify_all();
  }
}

void JobWorker::heartbeat_loop() {
  auto last_beat = steady_clock::now();
  auto last_reap = last_beat;
  while (true) {
    bool busy;
    {
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, milliseconds(heartbeat_ms_), [&] { return heartbeat_stop_; });
      if (heartbeat_stop_) return;
      busy = !running_.empty();
    }
    auto now = steady_clock::now();
    if (busy || now - last_beat >= milliseconds(idle_heartbeat_ms_)) {
      heartbeat();
      last_beat = now;
    }
    if (now - last_reap >= milliseconds(reap_ms_)) {
      reap();
      last_reap = now;
    }
  }
}

void JobWorker::heartbeat() {
  std::vector<std::string> cancelled;
  try {
    cancelled = queue_.heartbeat(config_.id, config_.lease_ms);
    note_database_up();
  } catch (const DatabaseUnavailable& e) {
    note_database_down("heartbeat", e);
    return;
  } catch (const std::exception& e) {
    log_->warn("worker {}: heartbeat failed: {}", config_.id, e.what());
    return;
  }
  std::lock_guard lock(mutex_);
  for (const auto& id : cancelled) {
    auto it = running_.find(id);
    if (it == running_.end()) continue;
    it->second->user_cancelled = true;
    it->second->cancel = true;
  }
}

void JobWorker::reap() {
  if (database_down_ || steady_ms() < reap_after_ms_) return;
  std::vector<JobRecord> reaped;
  try {
    reaped = queue_.reap(config_.max_attempts);
  } catch (const DatabaseUnavailable& e) {
    note_database_down("reap", e);
    return;
  } catch (const std::exception& e) {
    log_->warn("worker {}: cannot reap expired leases: {}", config_.id, e.what());
    return;
  }
  for (const auto& job : reaped) {
    log_expired(*log_, job, config_.max_attempts, "its worker's lease expired");
    if (job.status == JobStatus::queued) continue;
    if (metrics_) metrics_->job_finished(job.method, to_string(job.status), 0);
    if (job.delete_requested) purge(job.id);
  }
}

JobExecutor& JobWorker::executor_for(JobMethod method) {
  return *executors_.at(method);
}

void JobWorker::execute(JobRecord job) {
  auto live = std::make_shared<Live>();
  {
    std::lock_guard lock(mutex_);
    running_[job.id] = live;
    if (stopping_) {
      live->draining = true;  // claimed as the worker stopped: straight back
      live->cancel = true;
    }
  }
  log_->info("job {} started ({} {}, attempt {}, worker {})", job.id, job.method, job.style,
             job.attempts, config_.id);
  if (!live->cancel) run_job(job, *live);
  if (live->cancel && job.status != JobStatus::done) job.status = JobStatus::cancelled;
  complete(job, *live);
}

void JobWorker::run_job(JobRecord& job, Live& live) {
  auto t0 = steady_clock::now();
  ProgressReporter progress(queue_, job.id, config_.progress_ms, *log_);
  job.progress.clear();
  job.error.clear();
  try {
    JobSpec spec = job_spec_of(job);
    auto content_bytes = images_.get(content_key(job.id));
    if (!content_bytes) throw InputError("the uploaded photo of this job is missing");
    cv::Mat init;  // a Gatys job's starting picture (init_job), copied into the job at submit
    if (spec.method == JobMethod::gatys && spec.gatys.init == InitKind::image) {
      auto init_bytes = images_.get(init_key(job.id));
      if (!init_bytes) throw InputError("the picture this job starts from (init_job) is missing");
      init = decode_image(*init_bytes, {}, "init image");
    }
    JobRun run{job.id,
               job.owner,
               spec,
               decode_image(*content_bytes, {}, "content image"),
               &live.cancel,
               [&](const JobProgress& p) { progress.report(p); },
               [&](const cv::Mat& preview, int iteration) {
                 auto jpeg = encode_image(preview, "jpeg", 85);
                 try {
                   images_.put(
                       preview_key(job.id),
                       std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()));
                 } catch (const DatabaseUnavailable& e) {
                   // A preview is advisory: the run goes on, a later one tries again.
                   note_database_down("preview", e);
                   return;
                 }
                 progress.preview(iteration);
               },
               init};
    cv::Mat output = executor_for(spec.method).run(run);
    if (live.cancel) throw Cancelled();
    auto png = encode_image(output, "png");
    auto thumb = make_thumbnail(output);
    // The work is done: its result waits for the database rather than being thrown away.
    with_database("result", [&] {
      images_.put(result_key(job.id),
                  std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
      images_.put(thumb_key(job.id), thumb);
    });
    job.width = output.cols;
    job.height = output.rows;
    job.status = JobStatus::done;
  } catch (const Cancelled&) {
    job.status = JobStatus::cancelled;
  } catch (const DatabaseUnavailable& e) {
    // Not the job's fault: it goes back to the queue (complete), its attempt not counted.
    live.database_lost = true;
    note_database_down("run", e);
  } catch (const InputError& e) {
    job.status = JobStatus::failed;
    job.error = e.what();
  } catch (const NotFoundError& e) {
    job.status = JobStatus::failed;
    job.error = e.what();
  } catch (const c10::Error& e) {
    job.status = JobStatus::failed;
    job.error = std::string("internal error: ") + e.what_without_backtrace();
    log_->error("job {}: {}", job.id, job.error);
  } catch (const std::exception& e) {
    job.status = JobStatus::failed;
    job.error = std::string("internal error: ") + e.what();
    log_->error("job {}: {}", job.id, job.error);
  }
  job.seconds = std::chrono::duration<double>(steady_clock::now() - t0).count();
  job.progress = progress.text();
}

void JobWorker::complete(JobRecord& job, Live& live) {
  // Stopped by this worker's shutdown, not by its owner, or cut off from the database while it
  // ran: back to the queue, to run again.
  if (live.database_lost ||
      (job.status == JobStatus::cancelled && live.draining && !live.user_cancelled)) {
    std::optional<JobRecord> now;
    with_database("release", [&] { now = queue_.release(job.id, config_.id); });
    const char* cause =
        live.database_lost ? "lost the database while it ran" : "interrupted by shutdown";
    if (!now) {
      log_->warn("job {}: lost its lease before it could be handed back", job.id);
    } else if (now->status == JobStatus::queued) {
      log_->info("job {} {}: queued again", job.id, cause);
    } else {
      log_->info("job {} {}: {}", job.id, cause, to_string(now->status));
      if (now->delete_requested) purge(job.id);
    }
    return;
  }
  job.finished_ms = now_ms();
  bool finished = false;
  with_database("finish", [&] { finished = queue_.finish(job, config_.id); });
  if (!finished) {
    log_->warn(
        "job {}: lost its lease (reaped or removed while it ran); its outcome ({}) is "
        "dropped",
        job.id, to_string(job.status));
    return;
  }
  if (metrics_) metrics_->job_finished(job.method, to_string(job.status), job.seconds);
  if (job.status == JobStatus::done) {
    log_->info("job {} done in {:.2f} s ({}x{})", job.id, job.seconds, job.width, job.height);
  } else {
    log_->info("job {} {}{}{}", job.id, to_string(job.status), job.error.empty() ? "" : ": ",
               job.error);
  }
  try {
    // Deleting a running job flags it; whoever finishes it removes it.
    auto row = jobs_.get(job.id);
    if (row && row->delete_requested) purge(job.id);
    if (quota_) quota_->enforce();
  } catch (const std::exception& e) {
    log_->warn("job {}: after it finished: {}", job.id, e.what());
  }
}

void JobWorker::abandon(const std::string& id, const std::string& reason) {
  try {
    auto row = jobs_.get(id);
    if (!row) return;
    JobRecord& job = *row;
    if (is_finished(job.status) || job.worker_id != config_.id) return;
    job.status = JobStatus::failed;
    job.error = reason;
    job.finished_ms = now_ms();
    if (queue_.finish(job, config_.id) && metrics_) metrics_->job_finished(job.method, "failed", 0);
  } catch (const std::exception& e) {
    log_->error("job {}: cannot record the failure: {}", id, e.what());
  }
}

// Everything a job leaves behind: its images and its row.
void JobWorker::purge(const std::string& id) {
  try {
    images_.remove_prefix(job_prefix(id));
    jobs_.remove(id);
    log_->info("job {} deleted", id);
  } catch (const std::exception& e) {
    log_->error("job {}: cannot delete: {}", id, e.what());
  }
}

void JobWorker::note_database_down(const char* what, const std::exception& e) {
  if (!database_down_.exchange(true)) {
    log_->warn("worker {}: the database is unavailable ({}: {}); claims paused until it is back",
               config_.id, what, e.what());
  }
}

void JobWorker::note_database_up() {
  if (database_down_.exchange(false)) {
    reap_after_ms_ = steady_ms() + config_.lease_ms;
    log_->info("worker {}: the database is back; claiming again", config_.id);
  }
}

void JobWorker::pause_for_database(int64_t& pause_ms) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, milliseconds(pause_ms), [&] { return stopping_; });
  pause_ms = std::min<int64_t>(pause_ms * 2, 2000);
}

void JobWorker::with_database(const char* what, const std::function<void()>& fn) {
  int64_t pause_ms = 100;
  while (true) {
    try {
      fn();
      note_database_up();
      return;
    } catch (const DatabaseUnavailable& e) {
      note_database_down(what, e);
      {
        std::lock_guard lock(mutex_);
        if (stopping_) throw;
      }
      pause_for_database(pause_ms);
    }
  }
}

}  // namespace pastiche::service
