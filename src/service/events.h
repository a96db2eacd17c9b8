// Per-job event channels for Server-Sent Events. A channel keeps only the latest event of each
// kind (status, progress, preview) plus the final one, so a slow subscriber skips intermediate
// progress instead of buffering it: memory stays bounded and order is preserved. Channels exist
// for the jobs someone follows; the EventFeed (event_feed.h) fills them from the job queue.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pastiche::service {

struct JobChannel {
  std::mutex mutex;
  std::condition_variable cv;
  uint64_t seq = 0;  // bumped on every publish
  uint64_t status_seq = 0, progress_seq = 0, preview_seq = 0;
  std::string status_data, progress_data, preview_data;
  std::string final_event, final_data;  // set once: done | failed | cancelled
  int64_t finished_at_ms = 0;
  // Event streams waiting without a thread: called (outside the lock) after every publish.
  std::vector<std::weak_ptr<std::function<void()>>> wakers;

  void add_waker(const std::shared_ptr<std::function<void()>>& wake);
  void wake_all();  // takes the lock itself
};

class EventHub {
 public:
  std::shared_ptr<JobChannel> channel(const std::string& job_id);  // created on demand
  std::shared_ptr<JobChannel> find(const std::string& job_id);     // null when there is none
  std::vector<std::string> job_ids();                              // of every channel
  void publish_status(const std::string& job_id, const std::string& data);
  void publish_progress(const std::string& job_id, const std::string& data);
  void publish_preview(const std::string& job_id, const std::string& data);
  void publish_final(const std::string& job_id, const std::string& event, const std::string& data);
  void forget(const std::string& job_id);
  // Wakes every subscriber; they end their streams.
  void shutdown();
  bool is_shut_down() const;
  size_t size();

 private:
  template <class F>
  void publish(const std::string& job_id, F&& f);
  void prune_locked();

  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<JobChannel>> channels_;
  std::atomic<bool> shut_down_{false};
};

// One subscriber's position in a channel.
struct Subscriber {
  uint64_t status_seen = 0, progress_seen = 0, preview_seen = 0;
};

// Waits up to `timeout` for something new and returns it formatted as SSE text (possibly
// several events, final last). Sets `finished` when the final event is included or the hub shut
// down. Empty text means a timeout (send a keep-alive).
std::string next_events(EventHub& hub, JobChannel& channel, Subscriber& sub,
                        std::chrono::milliseconds timeout, bool& finished);

std::string sse_event(const std::string& event, const std::string& data);

}  // namespace pastiche::service
