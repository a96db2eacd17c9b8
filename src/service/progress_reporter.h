// A job's progress on its way to the queue, and so to the event streams of every API node.
#pragma once
#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "service/job_executor.h"
#include "store/job_queue.h"

namespace pastiche::service {

// Every report is kept, at most one in `every_ms` is published (the first one always; the last one
// reaches the store with the job's outcome), and the preview's iteration rides along so that event
// streams on any node know a new preview image is in the store.
class ProgressReporter {
 public:
  ProgressReporter(JobQueue& queue, std::string id, int64_t every_ms, spdlog::logger& log)
      : queue_(queue), id_(std::move(id)), every_(every_ms), log_(log) {}

  void report(const JobProgress& p);
  void preview(int iteration);
  std::string text() const;  // the last report as JSON text; empty before the first

 private:
  void publish(std::chrono::steady_clock::time_point now);

  JobQueue& queue_;
  std::string id_;
  std::chrono::milliseconds every_;
  spdlog::logger& log_;
  nlohmann::json last_;
  int preview_ = 0;
  bool published_once_ = false;
  std::chrono::steady_clock::time_point published_{};
};

}  // namespace pastiche::service
