#include "service/events.h"

#include <algorithm>

#include "service/ids.h"

namespace pastiche::service {

void JobChannel::add_waker(const std::shared_ptr<std::function<void()>>& wake) {
  std::lock_guard lock(mutex);
  wakers.erase(
      std::remove_if(wakers.begin(), wakers.end(), [](const auto& w) { return w.expired(); }),
      wakers.end());
  wakers.push_back(wake);
}

void JobChannel::wake_all() {
  std::vector<std::shared_ptr<std::function<void()>>> live;
  {
    std::lock_guard lock(mutex);
    for (const auto& w : wakers) {
      if (auto f = w.lock()) live.push_back(std::move(f));
    }
  }
  // Outside the lock: a woken stream reads this channel under the same mutex.
  for (const auto& f : live) (*f)();
}

std::shared_ptr<JobChannel> EventHub::channel(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  auto& ch = channels_[job_id];
  if (!ch) ch = std::make_shared<JobChannel>();
  return ch;
}

std::shared_ptr<JobChannel> EventHub::find(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  auto it = channels_.find(job_id);
  return it == channels_.end() ? nullptr : it->second;
}

std::vector<std::string> EventHub::job_ids() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, ch] : channels_) ids.push_back(id);
  return ids;
}

template <class F>
void EventHub::publish(const std::string& job_id, F&& f) {
  auto ch = channel(job_id);
  {
    std::lock_guard lock(ch->mutex);
    ++ch->seq;
    f(*ch);
  }
  ch->cv.notify_all();
  ch->wake_all();
}

void EventHub::publish_status(const std::string& id, const std::string& data) {
  publish(id, [&](JobChannel& c) {
    c.status_seq = c.seq;
    c.status_data = data;
  });
}

void EventHub::publish_progress(const std::string& id, const std::string& data) {
  publish(id, [&](JobChannel& c) {
    c.progress_seq = c.seq;
    c.progress_data = data;
  });
}

void EventHub::publish_preview(const std::string& id, const std::string& data) {
  publish(id, [&](JobChannel& c) {
    c.preview_seq = c.seq;
    c.preview_data = data;
  });
}

void EventHub::publish_final(const std::string& id, const std::string& event,
                             const std::string& data) {
  publish(id, [&](JobChannel& c) {
    c.final_event = event;
    c.final_data = data;
    c.finished_at_ms = now_ms();
  });
  std::lock_guard lock(mutex_);
  prune_locked();
}

void EventHub::prune_locked() {
  // Finished channels live a few minutes so late subscribers still see the final event in
  // order; after that the job store answers them.
  int64_t cutoff = now_ms() - 5 * 60 * 1000;
  for (auto it = channels_.begin(); it != channels_.end();) {
    bool old = false;
    {
      std::lock_guard lock(it->second->mutex);
      old = !it->second->final_event.empty() && it->second->finished_at_ms < cutoff;
    }
    it = old ? channels_.erase(it) : std::next(it);
  }
}

void EventHub::forget(const std::string& id) {
  std::shared_ptr<JobChannel> ch;
  {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(id);
    if (it == channels_.end()) return;
    ch = it->second;
    channels_.erase(it);
  }
  ch->cv.notify_all();
  ch->wake_all();
}

void EventHub::shutdown() {
  std::map<std::string, std::shared_ptr<JobChannel>> channels;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    channels = channels_;
  }
  for (auto& [id, ch] : channels) {
    {
      std::lock_guard lock(ch->mutex);
      ch->cv.notify_all();
    }
    ch->wake_all();
  }
}

bool EventHub::is_shut_down() const {
  return shut_down_.load();
}

size_t EventHub::size() {
  std::lock_guard lock(mutex_);
  return channels_.size();
}

std::string sse_event(const std::string& event, const std::string& data) {
  std::string out = "event: " + event + "\n";
  size_t start = 0;
  while (true) {  // data must not contain raw newlines
    size_t nl = data.find('\n', start);
    out += "data: " + data.substr(start, nl == std::string::npos ? nl : nl - start) + "\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out + "\n";
}

std::string next_events(EventHub& hub, JobChannel& c, Subscriber& sub,
                        std::chrono::milliseconds timeout, bool& finished) {
  std::unique_lock lock(c.mutex);
  auto fresh = [&] {
    return c.status_seq > sub.status_seen || c.progress_seq > sub.progress_seen ||
           c.preview_seq > sub.preview_seen || !c.final_event.empty();
  };
  c.cv.wait_for(lock, timeout, [&] { return fresh() || hub.is_shut_down(); });
  std::string out;
  if (c.status_seq > sub.status_seen) {
    out += sse_event("status", c.status_data);
    sub.status_seen = c.status_seq;
  }
  // progress and preview in the order they were published
  bool progress_new = c.progress_seq > sub.progress_seen;
  bool preview_new = c.preview_seq > sub.preview_seen;
  auto emit_progress = [&] {
    out += sse_event("progress", c.progress_data);
    sub.progress_seen = c.progress_seq;
  };
  auto emit_preview = [&] {
    out += sse_event("preview", c.preview_data);
    sub.preview_seen = c.preview_seq;
  };
  if (progress_new && preview_new && c.preview_seq < c.progress_seq) {
    emit_preview();
    emit_progress();
  } else {
    if (progress_new) emit_progress();
    if (preview_new) emit_preview();
  }
  if (!c.final_event.empty()) {
    out += sse_event(c.final_event, c.final_data);
    finished = true;
  } else if (hub.is_shut_down()) {
    finished = true;
  }
  return out;
}

}  // namespace pastiche::service
