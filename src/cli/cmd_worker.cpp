// `pastiche worker`: runs jobs from a cluster's PostgreSQL queue, without HTTP. Any number of
// them, on any machines, beside `pastiche serve --database ... [--no-workers]` API nodes.
// SIGINT/SIGTERM drain it: running jobs may finish within --drain-seconds, then go back to the
// queue (their attempt not counted); nothing is lost.
#include <map>
#include <thread>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/stop_signal.h"
#include "common/option_catalog.h"
#include "service/worker_process.h"

namespace pastiche::cli {

namespace {

void run_worker(const service::WorkerProcessConfig& config) {
  install_stop_signal_handlers();
  service::WorkerProcess worker(config);
  worker.start();
  wait_for_stop_signal();
  worker.stop();
}

const bool worker_registered = register_command(65, [](CLI::App& app) {
  auto config = std::make_shared<service::WorkerProcessConfig>();
  auto lanes = std::make_shared<std::string>("fast,gatys");
  auto fast_workers = std::make_shared<int>(1);
  auto gatys_workers = std::make_shared<int>(1);
  auto lease_seconds = std::make_shared<double>(config->worker.lease_ms / 1000.0);
  auto max_disk_mb = std::make_shared<int64_t>(config->max_disk_bytes / (1024 * 1024));
  config->worker.drain_seconds = 20;
  auto* cmd = app.add_subcommand(
      "worker", "Run jobs from a cluster's PostgreSQL queue (no HTTP; see `serve --database`)");
  cmd->add_option("--database", config->database,
                  "The cluster's database, postgresql://... (as given to `serve --database`)")
      ->envname("PASTICHE_DATABASE")
      ->required();
  add_images_dir_option(cmd, config->images_dir);
  cmd->add_option("--lanes", *lanes,
                  "Lanes to take jobs from: fast, gatys, arbitrary (comma-separated)")
      ->capture_default_str();
  cmd->add_option("--fast-workers", *fast_workers, "Concurrent fast jobs")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--gatys-workers", *gatys_workers, "Concurrent Gatys jobs")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--threads", config->threads, "LibTorch threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--models-dir", config->model_dirs,
                  "Fast model directories (default: $PASTICHE_MODELS_DIR, models/)");
  cmd->add_option("--styles-dir", config->styles_dir,
                  "Painting images (+ JSON sidecars) for the Gatys method (default: styles/)");
  cmd->add_option("--vgg", config->vgg_path,
                  "VGG weights for the gatys lane (default: found automatically)");
  cmd->add_option("--device", config->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_option("--lease-seconds", *lease_seconds,
                  "A job this worker stops heartbeating goes back to the queue after this")
      ->check(CLI::Range(0.5, 3600.0))
      ->capture_default_str();
  cmd->add_option("--max-attempts", config->worker.max_attempts,
                  "Starts of a job interrupted by crashes before it is failed")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option("--drain-seconds", config->worker.drain_seconds,
                  "On SIGTERM, running jobs may finish this long before they go back to the queue")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--preview-every", config->worker.preview_every,
                  "Gatys iterations between previews")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--max-disk-mb", *max_disk_mb,
                  "Shared image store quota, MiB, applied after each job (0 = none; use the API "
                  "nodes' value)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--keep-min-minutes", config->keep_min_minutes,
                  "The quota never removes a job finished less than this long ago")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  cmd->add_flag("!--normal-priority-workers", config->worker.idle_priority,
                "Run jobs at normal CPU priority (default: idle priority)");
  cmd->add_option("--id", config->worker.id,
                  "This worker's id in the registry (default: host-pid-random)");
  cmd->add_option("--log-level", config->log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  cmd->callback([config, lanes, fast_workers, gatys_workers, lease_seconds, max_disk_mb] {
    config->worker.lanes.clear();
    for (const auto& lane : split_list(*lanes)) {
      config->worker.lanes[lane] = lane == "gatys" ? *gatys_workers : *fast_workers;  // arbitrary
      // jobs are one pass, like fast ones
    }
    config->worker.lease_ms = static_cast<int64_t>(*lease_seconds * 1000);
    config->max_disk_bytes = *max_disk_mb * 1024 * 1024;
    run_worker(*config);
  });
});

}  // namespace

}  // namespace pastiche::cli
