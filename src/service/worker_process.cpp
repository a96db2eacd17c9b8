#include "service/worker_process.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/runtime.h"
#include "fast/fast_stylizer.h"
#include "service/engines.h"
#include "service/storage_quota.h"
#include "service/stores.h"
#include "service/style_catalog.h"

namespace pastiche::service {

struct WorkerProcess::Impl {
  WorkerProcessConfig config;
  std::shared_ptr<spdlog::logger> log;
  Stores stores;
  Engines engines;
  std::unique_ptr<StyleCatalog> styles;
  std::unique_ptr<StorageQuota> quota;
  std::unique_ptr<JobWorker> worker;
};

WorkerProcess::WorkerProcess(WorkerProcessConfig config) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.config = std::move(config);
  auto& cfg = m.config;
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  m.log = std::make_shared<spdlog::logger>("worker", console);
  m.log->set_level(spdlog::level::from_str(cfg.log_level));
  m.log->flush_on(spdlog::level::info);
  if (!is_postgres_url(cfg.database)) {
    throw InputError(
        "--database: a worker needs the cluster's PostgreSQL database (postgresql://...); with "
        "the embedded SQLite database `pastiche serve` runs the jobs itself");
  }
  if (cfg.worker.lanes.empty())
    throw InputError("--lanes: give at least one of fast, gatys, arbitrary");
  for (const auto& [lane, threads] : cfg.worker.lanes) {
    if (lane != "fast" && lane != "gatys" && lane != "arbitrary") {
      throw InputError("--lanes: '" + lane + "' is not a lane (fast, gatys, arbitrary)");
    }
  }
  configure_threads(cfg.threads);
  int threads = 0;
  for (const auto& [lane, n] : cfg.worker.lanes) threads += n;
  m.stores = open_postgres_stores(cfg.database, 2 + threads, cfg.images_dir);
  m.log->info("job store: {}", m.stores.description);
  bool gatys = cfg.worker.lanes.count("gatys") > 0;
  bool arbitrary = cfg.worker.lanes.count("arbitrary") > 0;
  bool vgg = gatys || arbitrary;  // the arbitrary method's encoder is the VGG too
  m.engines = load_engines(cfg.device, vgg ? cfg.vgg_path : "none", vgg, *m.log);
  if (vgg && !m.engines.vgg) {
    throw InputError(std::string("--lanes ") + (gatys ? "gatys" : "arbitrary") + ": " +
                     m.engines.gatys_unavailable_reason +
                     " (give --vgg FILE, or run this worker with --lanes fast)");
  }
  if (arbitrary && !m.engines.arbitrary) {
    throw InputError("--lanes arbitrary: " + m.engines.arbitrary_unavailable_reason);
  }
  auto models = cfg.model_dirs.empty() ? default_model_dirs() : cfg.model_dirs;
  std::string styles_dir = cfg.styles_dir.empty() ? default_styles_dir() : cfg.styles_dir;
  m.styles = std::make_unique<StyleCatalog>(models, styles_dir, m.engines.gatys_available(),
                                            *m.stores.jobs, *m.stores.images);
  m.log->info("{} built-in style(s)", m.styles->builtin_count());
  m.quota = std::make_unique<StorageQuota>(*m.stores.jobs, *m.stores.images, cfg.max_disk_bytes,
                                           cfg.keep_min_minutes, m.log, nullptr,
                                           m.stores.reservations.get());
  if (cfg.worker.id.empty()) cfg.worker.id = new_worker_id();
  m.worker =
      std::make_unique<JobWorker>(cfg.worker, *m.stores.jobs, *m.stores.queue, *m.stores.images,
                                  *m.styles, m.engines, nullptr, m.quota.get(), m.log);
}

WorkerProcess::~WorkerProcess() {
  stop();
}

void WorkerProcess::start() {
  impl_->worker->start();
}

void WorkerProcess::stop() {
  if (impl_ && impl_->worker) impl_->worker->stop();
}

const std::string& WorkerProcess::id() const {
  return impl_->worker->config().id;
}

}  // namespace pastiche::service
