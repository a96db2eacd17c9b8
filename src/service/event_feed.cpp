#include "service/event_feed.h"

#include <chrono>
#include <vector>

#include "common/text.h"
#include "service/job_view.h"

namespace pastiche::service {

using nlohmann::json;

namespace {
// Followed jobs are read back this often even without a signal (a safety net: notifications
// between processes can be lost while the listener reconnects, which it reports, but a missed
// report must not leave a stream waiting for good).
constexpr auto kResync = std::chrono::seconds(2);
}  // namespace

EventFeed::EventFeed(JobQueue& queue, JobStore& jobs, EventHub& events,
                     std::shared_ptr<spdlog::logger> log)
    : queue_(queue), jobs_(jobs), events_(events), log_(std::move(log)) {}

EventFeed::~EventFeed() {
  stop();
}

void EventFeed::start() {
  {
    std::lock_guard lock(mutex_);
    if (started_) return;
    started_ = true;
  }
  token_ = queue_.subscribe([this](const std::string& id) {
    {
      std::lock_guard lock(mutex_);
      if (id.empty()) {
        everything_dirty_ = true;
      } else {
        dirty_.insert(id);
      }
    }
    cv_.notify_one();
  });
  thread_ = std::thread([this] { loop(); });
}

void EventFeed::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!started_ || stop_) return;
    stop_ = true;
  }
  queue_.unsubscribe(token_);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventFeed::loop() {
  auto last_resync = std::chrono::steady_clock::now();
  while (true) {
    std::set<std::string> ids;
    bool everything = false;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, kResync, [&] { return stop_ || everything_dirty_ || !dirty_.empty(); });
      if (stop_) return;
      ids.swap(dirty_);
      everything = everything_dirty_;
      everything_dirty_ = false;
    }
    auto now = std::chrono::steady_clock::now();
    if (everything || now - last_resync >= kResync) {
      for (const auto& id : events_.job_ids()) ids.insert(id);
      last_resync = now;
    }
    for (const auto& id : ids) {
      try {
        refresh(id);
      } catch (const std::exception& e) {
        log_->warn("event feed: cannot read job {}: {}", id, e.what());
      }
    }
    // Forget what was told about jobs nobody follows any more.
    for (auto it = seen_.begin(); it != seen_.end();) {
      it = events_.find(it->first) ? std::next(it) : seen_.erase(it);
    }
  }
}

void EventFeed::refresh(const std::string& id) {
  auto channel = events_.find(id);
  if (!channel) return;
  {
    std::lock_guard lock(channel->mutex);
    if (!channel->final_event.empty()) return;
  }
  auto job = jobs_.get(id);
  if (!job) {
    events_.forget(id);  // deleted
    seen_.erase(id);
    return;
  }
  Seen& seen = seen_[id];
  const bool finished = is_finished(job->status);
  if (job->attempts != seen.attempts) {
    seen.attempts = job->attempts;
    seen.preview = 0;  // a new attempt starts its previews again
  }
  std::string status = std::string(to_string(job->status)) + "/" + std::to_string(job->started_ms);
  if (status != seen.status) {
    seen.status = status;
    if (!finished) {
      int position = job->status == JobStatus::queued ? queue_.position(id) : 0;
      events_.publish_status(id, safe_dump(job_json(*job, position)));
    }
  }
  // Progress and preview before the final event, so that a job that finished between two reads
  // still shows its last progress and preview.
  if (!job->progress.empty() && job->progress != seen.progress) {
    seen.progress = job->progress;
    json p = json::parse(job->progress, nullptr, false);
    int preview = 0;
    if (p.is_object() && p.contains("preview_iteration") && p["preview_iteration"].is_number()) {
      preview = p["preview_iteration"].get<int>();
    }
    if (preview > seen.preview) {
      seen.preview = preview;
      events_.publish_preview(
          id, json{{"url", "/api/jobs/" + id + "/preview?i=" + std::to_string(preview)},
                   {"iteration", preview}}
                  .dump());
    }
    events_.publish_progress(id, job->progress);
  }
  if (finished) {
    events_.publish_final(id, to_string(job->status), safe_dump(job_json(*job, 0)));
    seen_.erase(id);
  }
}

}  // namespace pastiche::service
