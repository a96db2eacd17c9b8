// `pastiche worker`: a process that only runs jobs, from the shared PostgreSQL queue of a
// cluster. It loads the fast models and the VGG weights, registers itself, heartbeats and, when
// stopped, lets its running jobs finish within the drain time or hands them back. No HTTP.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "service/job_worker.h"

namespace pastiche::service {

struct WorkerProcessConfig {
  std::string database;                 // postgresql://... (required)
  std::string images_dir;               // the cluster's shared image directory, if it uses one
  std::vector<std::string> model_dirs;  // fast models; empty = default_model_dirs()
  std::string styles_dir;               // Gatys paintings; empty = default_styles_dir()
  std::string vgg_path;                 // empty = default_vgg_weights_path(); "none" = off
  std::string device = "auto";
  int threads = 0;      // LibTorch intra-op threads; 0 = all cores
  WorkerConfig worker;  // lanes (threads each), lease, attempts, previews, drain, priority
  int64_t max_disk_bytes = 2048LL * 1024 * 1024;  // the shared image store's quota; 0 = none
  int keep_min_minutes = 30;
  std::string log_level = "info";
};

class WorkerProcess {
 public:
  // Connects, loads the engines and the styles; throws (a message saying what to do) when the
  // database is not PostgreSQL or a lane cannot run here (gatys without VGG weights).
  explicit WorkerProcess(WorkerProcessConfig config);
  ~WorkerProcess();
  void start();
  void stop();  // drains; idempotent
  const std::string& id() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pastiche::service
