#include "service/job_runner.h"

#include "common/runtime.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>

#include "common/error.h"
#include "common/text.h"
#include "image/image_io.h"
#include "service/ids.h"
#include "store/quota.h"

namespace pastiche::service {

using nlohmann::json;

// ---- JobRunner -------------------------------------------------------------------------------

JobRunner::JobRunner(RunnerConfig config, JobStore& jobs, ImageStore& images, StyleCatalog& styles,
                     EventHub& events, Metrics& metrics, Engines& engines,
                     std::shared_ptr<spdlog::logger> log)
    : config_(config),
      jobs_(jobs),
      images_(images),
      styles_(styles),
      events_(events),
      metrics_(metrics),
      engines_(engines),
      log_(std::move(log)) {
  fast_lane_.name = "fast";
  gatys_lane_.name = "gatys";
}

JobRunner::~JobRunner() {
  stop();
}

JobRunner::Lane& JobRunner::lane_for(const std::string& method) {
  return method == "gatys" ? gatys_lane_ : fast_lane_;
}

void JobRunner::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  int64_t now = now_ms();
  for (auto& job : jobs_.list_by_status(JobStatus::running)) {
    if (job.attempts >= config_.max_attempts) {
      job.status = JobStatus::failed;
      job.error = "interrupted " + std::to_string(job.attempts) +
                  " times (the server stopped while it ran); giving up";
      job.finished_ms = now;
      log_->warn("job {} failed: {}", job.id, job.error);
    } else {
      job.status = JobStatus::queued;
      log_->info("job {} was running when the server stopped: queued again (attempt {} of {})",
                 job.id, job.attempts + 1, config_.max_attempts);
    }
    jobs_.update(job);
  }
  size_t recovered = 0;
  for (const auto& job : jobs_.list_by_status(JobStatus::queued)) {
    lane_for(job.method).queue.push_back(job.id);
    ++recovered;
  }
  if (recovered) log_->info("recovered {} queued job(s)", recovered);
  for (int i = 0; i < std::max(1, config_.fast_workers); ++i) {
    fast_lane_.threads.emplace_back([this] { worker(fast_lane_); });
  }
  for (int i = 0; i < std::max(1, config_.gatys_workers); ++i) {
    gatys_lane_.threads.emplace_back([this] { worker(gatys_lane_); });
  }
}

void JobRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!started_ || stopping_) {
      stopping_ = true;
      if (!started_) return;
    }
    stopping_ = true;
    for (auto& [id, live] : running_) live->cancel = true;
  }
  fast_lane_.cv.notify_all();
  gatys_lane_.cv.notify_all();
  for (Lane* lane : {&fast_lane_, &gatys_lane_}) {
    for (auto& t : lane->threads) {
      if (t.joinable()) t.join();
    }
    lane->threads.clear();
  }
}

int JobRunner::submit(JobRecord job) {
  int position = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw std::runtime_error("the server is shutting down");
    if (fast_lane_.queue.size() + gatys_lane_.queue.size() >=
        static_cast<size_t>(config_.max_queue)) {
      throw QueueFull();
    }
    job.status = JobStatus::queued;
    jobs_.insert(job);
    Lane& lane = lane_for(job.method);
    lane.queue.push_back(job.id);
    position = static_cast<int>(lane.queue.size());
  }
  lane_for(job.method).cv.notify_one();
  publish_status(job);
  return position;
}

void JobRunner::publish_status(const JobRecord& job) {
  events_.publish_status(job.id, safe_dump(job_json(job, position(job.id), live_progress(job.id))));
}

// Everything a job leaves behind: its event stream, its images and its row.
void JobRunner::purge(const std::string& id) {
  events_.forget(id);
  images_.remove_prefix(job_prefix(id));
  jobs_.remove(id);
}

JobRunner::CancelResult JobRunner::cancel(const std::string& id, bool delete_after) {
  std::unique_lock lock(mutex_);
  for (Lane* lane : {&fast_lane_, &gatys_lane_}) {
    auto it = std::find(lane->queue.begin(), lane->queue.end(), id);
    if (it == lane->queue.end()) continue;
    lane->queue.erase(it);
    lock.unlock();
    auto job = jobs_.get(id);
    if (!job) return CancelResult::not_found;
    if (delete_after) {
      purge(id);
      return CancelResult::cancelled;
    }
    job->status = JobStatus::cancelled;
    job->finished_ms = now_ms();
    jobs_.update(*job);
    metrics_.job_finished(job->method, "cancelled", 0);
    events_.publish_final(id, "cancelled", safe_dump(job_json(*job, 0, std::nullopt)));
    return CancelResult::cancelled;
  }
  auto running = running_.find(id);
  if (running != running_.end()) {
    std::lock_guard live_lock(running->second->mutex);
    running->second->delete_after = running->second->delete_after || delete_after;
    running->second->user_cancelled = true;
    running->second->cancel = true;
    return CancelResult::cancelling;
  }
  lock.unlock();
  auto job = jobs_.get(id);
  if (!job) return CancelResult::not_found;
  if (delete_after) purge(id);
  return CancelResult::finished;
}

int JobRunner::position(const std::string& id) {
  std::lock_guard lock(mutex_);
  for (Lane* lane : {&fast_lane_, &gatys_lane_}) {
    auto it = std::find(lane->queue.begin(), lane->queue.end(), id);
    if (it != lane->queue.end()) return static_cast<int>(it - lane->queue.begin()) + 1;
  }
  return 0;
}

std::optional<json> JobRunner::live_progress(const std::string& id) {
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mutex_);
    auto it = running_.find(id);
    if (it == running_.end()) return std::nullopt;
    live = it->second;
  }
  std::lock_guard lock(live->mutex);
  if (live->progress.is_null()) return std::nullopt;
  return live->progress;
}

size_t JobRunner::queued() {
  std::lock_guard lock(mutex_);
  return fast_lane_.queue.size() + gatys_lane_.queue.size();
}

size_t JobRunner::queued(const std::string& lane) {
  std::lock_guard lock(mutex_);
  return lane_for(lane).queue.size();
}

size_t JobRunner::running() {
  std::lock_guard lock(mutex_);
  return running_.size();
}

double JobRunner::retry_after_seconds() {
  size_t q = queued();
  int workers = std::max(1, config_.fast_workers + config_.gatys_workers);
  return std::clamp(static_cast<double>(q) / workers * 2.0, 1.0, 60.0);
}

void JobRunner::enforce_quota(int64_t headroom) {
  if (config_.max_disk_bytes <= 0) return;
  std::lock_guard lock(quota_mutex_);
  int64_t keep_ms = static_cast<int64_t>(config_.keep_min_minutes) * 60 * 1000;
  int64_t target = std::max<int64_t>(1, config_.max_disk_bytes - headroom);
  auto expired = pastiche::enforce_quota(jobs_, images_, target, now_ms(), keep_ms,
                                         [this](const JobRecord& job) {
                                           events_.forget(job.id);
                                           metrics_.job_expired();
                                         });
  if (!expired.empty()) {
    log_->info("disk quota: expired {} oldest finished job(s), store now {} bytes", expired.size(),
               images_.total_bytes());
  }
}

void JobRunner::reserve_storage(int64_t need) {
  if (config_.max_disk_bytes <= 0) return;
  if (images_.total_bytes() + need <= config_.max_disk_bytes) return;
  enforce_quota(need);
  if (images_.total_bytes() + need <= config_.max_disk_bytes) return;
  throw StorageFull("storage full: the server keeps recent and not yet downloaded results for " +
                    std::to_string(config_.keep_min_minutes) +
                    " minutes and has no room for another job now; download your results or "
                    "try again later");
}

void JobRunner::worker(Lane& lane) {
  // Before the first LibTorch call, so its OpenMP threads inherit the priority.
  if (config_.idle_priority_workers && !set_thread_idle_priority())
    log_->warn("could not lower the job worker's CPU priority; requests may slow under load");
  while (true) {
    std::string id;
    std::shared_ptr<Live> live;
    {
      std::unique_lock lock(mutex_);
      lane.cv.wait(lock, [&] { return stopping_ || !lane.queue.empty(); });
      if (stopping_) return;
      id = lane.queue.front();
      lane.queue.pop_front();
      live = std::make_shared<Live>();
      running_[id] = live;
    }
    try {
      start_job(id, *live);
    } catch (const std::exception& e) {
      // The store or the event hub failed outside the job's own error handling: the job must
      // still end with a reason, and the worker must live on.
      log_->error("job {}: {}", id, e.what());
      abandon(id, std::string("internal error: ") + e.what());
    } catch (...) {
      log_->error("job {}: unknown exception", id);
      abandon(id, "internal error");
    }
    bool idle;
    {
      std::lock_guard lock(mutex_);
      idle = lane.queue.empty();
    }
    // Freed buffers stay with the allocator for the next job's reuse; an idle lane hands them back.
    if (idle) release_free_memory();
  }
}

void JobRunner::start_job(const std::string& id, Live& live) {
  auto job = jobs_.get(id);
  if (!job || job->status != JobStatus::queued) {
    std::lock_guard lock(mutex_);
    running_.erase(id);
    return;
  }
  job->status = JobStatus::running;
  job->attempts += 1;
  job->started_ms = now_ms();
  job->progress.clear();
  job->error.clear();
  jobs_.update(*job);
  publish_status(*job);
  log_->info("job {} started ({} {}, attempt {})", id, job->method, job->style, job->attempts);
  run_job(*job, live);
  finish(*job, live);
}

void JobRunner::abandon(const std::string& id, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    running_.erase(id);
  }
  try {
    auto job = jobs_.get(id);
    if (!job || is_finished(job->status)) return;
    job->status = JobStatus::failed;
    job->error = reason;
    job->finished_ms = now_ms();
    jobs_.update(*job);
    metrics_.job_finished(job->method, "failed", 0);
    events_.publish_final(id, "failed", safe_dump(job_json(*job, 0, std::nullopt)));
  } catch (const std::exception& e) {
    log_->error("job {}: cannot record the failure: {}", id, e.what());
  }
}

void JobRunner::run_job(JobRecord& job, Live& live) {
  auto t0 = std::chrono::steady_clock::now();
  auto last_publish = t0 - std::chrono::seconds(1);
  auto last_persist = t0;
  auto report = [&](json progress, bool force) {
    {
      std::lock_guard lock(live.mutex);
      live.progress = progress;
    }
    auto now = std::chrono::steady_clock::now();
    if (force || now - last_publish >= std::chrono::milliseconds(100)) {
      events_.publish_progress(job.id, safe_dump(progress));
      last_publish = now;
    }
    if (now - last_persist >= std::chrono::seconds(2)) {
      jobs_.update_progress(job.id, safe_dump(progress));
      last_persist = now;
    }
  };
  try {
    auto content_bytes = images_.get(content_key(job.id));
    if (!content_bytes) throw InputError("the uploaded photo of this job is missing");
    cv::Mat content = decode_image(*content_bytes, {}, "content image");

    FormFields fields = fields_from_json(job.params);
    fields["method"] = job.method;
    fields["style"] = job.style;
    JobRequest request = parse_job_request(fields, config_.limits);

    cv::Mat output;
    if (request.method == "fast") {
      auto style = styles_.find(request.styles.front(), job.owner, true);
      if (!style || !style->fast) {
        throw InputError("style: '" + request.styles.front() + "' is not a fast model");
      }
      auto stylizer = engines_.fast->acquire(style->model_path);
      auto on_tiles = [&](int done, int total) {
        double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double eta = done > 0 ? elapsed / done * (total - done) : 0;
        report({{"iteration", done},
                {"total", total},
                {"scale", 0},
                {"scales", 1},
                {"content_loss", 0},
                {"style_loss", 0},
                {"tv_loss", 0},
                {"elapsed_seconds", elapsed},
                {"eta_seconds", eta}},
               done == total);
      };
      on_tiles(0, 1);
      output = stylizer->stylize(content, request.fast, on_tiles, &live.cancel);
      if (live.cancel) throw Cancelled();
      on_tiles(1, 1);
    } else {
      if (!engines_.vgg) {
        throw InputError("method: gatys is not available: " + engines_.gatys_unavailable_reason);
      }
      std::vector<cv::Mat> style_images;
      for (const auto& id : request.styles) {
        auto style = styles_.find(id, job.owner, true);
        if (!style) throw NotFoundError("style: '" + id + "' no longer exists");
        style_images.push_back(styles_.style_image(*style));
      }
      std::vector<cv::Size> style_sizes;
      for (const auto& image : style_images) style_sizes.push_back(image.size());
      fit_to_images(request, content.size(), style_sizes, config_.limits);
      request.gatys.preview_every = config_.preview_every;
      GatysEngine engine(engines_.vgg, engines_.device);
      GatysCallbacks callbacks;
      callbacks.cancel = &live.cancel;
      callbacks.on_progress = [&](const GatysProgress& p) {
        report({{"iteration", p.iteration},
                {"total", p.total},
                {"scale", p.scale},
                {"scales", p.scales},
                {"content_loss", p.content_loss},
                {"style_loss", p.style_loss},
                {"tv_loss", p.tv_loss},
                {"elapsed_seconds", p.elapsed_seconds},
                {"eta_seconds", p.eta_seconds}},
               p.iteration == p.total);
      };
      callbacks.on_preview = [&](const cv::Mat& preview, int iteration) {
        auto jpeg = encode_image(preview, "jpeg", 85);
        images_.put(preview_key(job.id),
                    std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()));
        events_.publish_preview(
            job.id, json{{"url", "/api/jobs/" + job.id + "/preview?i=" + std::to_string(iteration)},
                         {"iteration", iteration}}
                        .dump());
      };
      auto result = engine.run(content, style_images, request.gatys, callbacks);
      output = result.image;
    }
    auto png = encode_image(output, "png");
    images_.put(result_key(job.id),
                std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
    images_.put(thumb_key(job.id), make_thumbnail(output));
    job.width = output.cols;
    job.height = output.rows;
    job.status = JobStatus::done;
  } catch (const Cancelled&) {
    job.status = JobStatus::cancelled;
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
  job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::lock_guard lock(live.mutex);
  if (!live.progress.is_null()) job.progress = safe_dump(live.progress);
}

void JobRunner::finish(JobRecord& job, Live& live) {
  bool interrupted_by_stop = false;
  bool delete_after = false;
  {
    std::lock_guard lock(mutex_);
    std::lock_guard live_lock(live.mutex);
    delete_after = live.delete_after;
    // A job stopped by shutdown (not by its owner) runs again on the next start.
    interrupted_by_stop =
        stopping_ && job.status == JobStatus::cancelled && !delete_after && !live.user_cancelled;
    running_.erase(job.id);
  }
  if (interrupted_by_stop) {
    job.status = JobStatus::queued;
    job.attempts = std::max(0, job.attempts - 1);
    job.started_ms = 0;
    job.progress.clear();
    jobs_.update(job);
    log_->info("job {} interrupted by shutdown: queued for the next start", job.id);
    return;
  }
  job.finished_ms = now_ms();
  jobs_.update(job);
  metrics_.job_finished(job.method, to_string(job.status), job.seconds);
  if (job.status == JobStatus::done) {
    log_->info("job {} done in {:.2f} s ({}x{})", job.id, job.seconds, job.width, job.height);
  } else {
    log_->info("job {} {}{}{}", job.id, to_string(job.status), job.error.empty() ? "" : ": ",
               job.error);
  }
  events_.publish_final(job.id, to_string(job.status), safe_dump(job_json(job, 0, std::nullopt)));
  if (delete_after) purge(job.id);
  enforce_quota();
}

}  // namespace pastiche::service
