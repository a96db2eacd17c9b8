// Running one job of a method: one executor per method (fast_executor.h, gatys_executor.h)
// behind this interface, all reporting the same progress type. An executor knows the engine; the
// worker (job_worker.h) knows the queue, the store and the job's files.
#pragma once
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <atomic>
#include <functional>
#include <string>

#include "service/job_spec.h"

namespace pastiche::service {

// How far a job is: the "progress" object of the API (fast jobs report tiles as iterations).
struct JobProgress {
  int iteration = 0, total = 0;  // Gatys: loss evaluations, all scales; fast: tiles
  int scale = 0, scales = 1;     // 0-based level of the coarse-to-fine schedule
  double content_loss = 0, style_loss = 0, tv_loss = 0;
  double elapsed_seconds = 0, eta_seconds = 0;
  bool finished() const { return iteration >= total; }
  nlohmann::json to_json() const;
};

// One execution: the job, its photo and where to report.
struct JobRun {
  std::string job_id;
  std::string owner;  // uploaded styles are found for their owner
  const JobSpec& spec;
  cv::Mat content;                  // 8-bit BGR
  const std::atomic<bool>* cancel;  // set: stop soon and throw Cancelled
  std::function<void(const JobProgress&)> on_progress;
  std::function<void(const cv::Mat& preview, int iteration)> on_preview;  // Gatys only
  cv::Mat init;  // Gatys with init image: the picture to start from (8-bit BGR)
};

// Progress of a one-pass job (fast, arbitrary) as the tiles done of the total, with the elapsed
// time since this call and an estimate of what is left.
std::function<void(int, int)> tile_progress(const JobRun& run);

class JobExecutor {
 public:
  virtual ~JobExecutor() = default;
  // The output image (8-bit BGR). Throws Cancelled, InputError / NotFoundError (the job's inputs
  // are wrong: it fails with that message), or anything else (an internal error).
  virtual cv::Mat run(const JobRun& run) = 0;
};

}  // namespace pastiche::service
