// Follows the job queue into the event streams: whenever the queue signals that a job changed
// (enqueued, claimed, progress, finished, cancelled, on any node of the cluster), the jobs that
// someone streams here are read back from the store and their new status, progress, preview and
// final events go to the EventHub. So `GET /api/jobs/{id}/events` on any API node follows a job
// whatever process runs it. One thread; signals for the same job coalesce while it reads.
#pragma once
#include <spdlog/logger.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "service/events.h"
#include "store/job_queue.h"
#include "store/job_store.h"

namespace pastiche::service {

class EventFeed {
 public:
  EventFeed(JobQueue& queue, JobStore& jobs, EventHub& events, std::shared_ptr<spdlog::logger> log);
  ~EventFeed();  // stop()
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  void start();  // subscribes to the queue and starts the thread
  void stop();   // unsubscribes and joins; idempotent

 private:
  // What this node's streams were last told about a job.
  struct Seen {
    int attempts = -1;
    std::string status;  // status/started
    std::string progress;
    int preview = 0;
  };
  void loop();
  void refresh(const std::string& id);

  JobQueue& queue_;
  JobStore& jobs_;
  EventHub& events_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::set<std::string> dirty_;
  bool everything_dirty_ = false, stop_ = false, started_ = false;
  int token_ = 0;
  std::thread thread_;
  std::map<std::string, Seen> seen_;  // the thread's own
};

}  // namespace pastiche::service
