#include "service/server.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "common/error.h"
#include "common/runtime.h"
#include "common/text.h"
#include "http/server.h"
#include "service/event_feed.h"
#include "service/routes.h"
#include "service/stores.h"
#include "service/web_security.h"
#include "store/data_dir_lock.h"

namespace pastiche::service {

namespace fs = std::filesystem;

namespace {

fs::path executable_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

// The first candidate directory that exists, or empty.
std::string first_dir(std::initializer_list<fs::path> candidates) {
  for (const auto& c : candidates) {
    std::error_code ec;
    if (!c.empty() && fs::is_directory(c, ec)) return c.string();
  }
  return {};
}

std::shared_ptr<spdlog::logger> make_logger(const ServerConfig& config) {
  std::vector<spdlog::sink_ptr> sinks;
  fs::create_directories(fs::path(config.data_dir) / "logs");
  auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
      (fs::path(config.data_dir) / "logs" / "pastiche.log").string(), 10 * 1024 * 1024, 5);
  file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  sinks.push_back(file);
  if (config.log_console) {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_pattern("%^%l%$: %v");
    sinks.push_back(console);
  }
  auto log = std::make_shared<spdlog::logger>("service", sinks.begin(), sinks.end());
  log->set_level(spdlog::level::from_str(config.log_level));
  log->flush_on(spdlog::level::info);
  return log;
}

std::string client_key(const http::Request& req) {
  if (req.has_header("X-Client-Token")) return "t:" + req.get_header_value("X-Client-Token");
  std::string cookie = req.get_header_value("Cookie");
  auto pos = cookie.find("pastiche_client=");
  if (pos != std::string::npos) return "c:" + cookie.substr(pos + 16, 32);
  return {};
}

}  // namespace

struct Server::Impl {
  ServerConfig config;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<DataDirLock> lock;
  Stores stores;
  Engines engines;
  std::unique_ptr<StyleCatalog> styles;
  EventHub events;
  Metrics metrics;
  std::unique_ptr<StorageQuota> quota;
  std::unique_ptr<JobWorker> worker;  // null on an API-only node
  std::unique_ptr<EventFeed> feed;
  std::unique_ptr<Context> ctx;
  RateLimiter client_limiter;
  RateLimiter ip_limiter;
  std::unique_ptr<http::Server> http;
  std::thread listen_thread;
  int port = -1;

  std::mutex state_mutex;
  std::condition_variable state_cv;
  bool stopped = false;
  bool stopping = false;

  void build_http();

  explicit Impl(ServerConfig c)
      : config(std::move(c)),
        client_limiter(config.rate_limit, config.rate_burst),
        ip_limiter(config.rate_limit * 4, config.rate_burst * 4) {}
};

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  auto& m = *impl_;
  auto& cfg = m.config;
  if (cfg.max_batch < 1 || cfg.max_batch > 100) {
    throw InputError("--max-batch: must be between 1 and 100 (photos in one batch)");
  }
  fs::create_directories(cfg.data_dir);
  m.log = make_logger(cfg);
  configure_threads(cfg.threads);
  m.lock = std::make_unique<DataDirLock>(cfg.data_dir,
                                         "stop it first, or give this server another --data-dir");
  if (cfg.database.empty()) {
    if (!cfg.workers) {
      throw std::runtime_error(
          "--no-workers needs --database postgresql://...: with the embedded SQLite database "
          "this process is the only one that can run jobs");
    }
    if (!cfg.images_dir.empty()) {
      throw InputError(
          "--images-dir needs --database postgresql://...: with the embedded SQLite "
          "database images live in " +
          (fs::path(cfg.data_dir) / "images").string());
    }
    m.stores = open_sqlite_stores(cfg.data_dir, cfg.init);
  } else if (is_postgres_url(cfg.database)) {
    int lanes = cfg.workers ? cfg.fast_workers + cfg.gatys_workers + cfg.arbitrary_workers : 0;
    m.stores = open_postgres_stores(cfg.database, 6 + lanes, cfg.images_dir);
  } else {
    throw InputError("--database: expected a postgresql:// URL (without it, jobs live in " +
                     (fs::path(cfg.data_dir) / "jobs.db").string() + ")");
  }
  m.log->info("job store: {}", m.stores.description);

  m.engines = load_engines(cfg.device, cfg.vgg_path, /*load_vgg=*/cfg.workers, *m.log);

  auto models = cfg.model_dirs.empty() ? default_model_dirs() : cfg.model_dirs;
  fs::path src(PASTICHE_SOURCE_DIR);
  fs::path exe = executable_dir();
  std::string styles_dir = cfg.styles_dir.empty() ? default_styles_dir() : cfg.styles_dir;
  m.styles = std::make_unique<StyleCatalog>(models, styles_dir, m.engines.gatys_available(),
                                            *m.stores.jobs, *m.stores.images);
  m.log->info("{} built-in style(s) from {} and {}", m.styles->builtin_count(),
              fmt::join(models, ", "), styles_dir.empty() ? "(no styles dir)" : styles_dir);

  m.quota = std::make_unique<StorageQuota>(
      *m.stores.jobs, *m.stores.images, cfg.max_disk_bytes, cfg.keep_min_minutes, m.log,
      [&m](const JobRecord& job) {
        m.events.forget(job.id);
        m.metrics.job_expired();
      },
      m.stores.reservations.get());
  if (cfg.workers) {
    WorkerConfig wc;
    wc.id = new_worker_id();
    wc.lanes = {{"fast", cfg.fast_workers}, {"gatys", cfg.gatys_workers}};
    if (m.engines.arbitrary_available()) wc.lanes["arbitrary"] = cfg.arbitrary_workers;
    wc.max_attempts = cfg.max_attempts;
    wc.lease_ms = static_cast<int64_t>(cfg.lease_seconds * 1000);
    wc.preview_every = cfg.preview_every;
    wc.idle_priority = cfg.idle_priority_workers;
    m.worker = std::make_unique<JobWorker>(wc, *m.stores.jobs, *m.stores.queue, *m.stores.images,
                                           *m.styles, m.engines, &m.metrics, m.quota.get(), m.log);
  }
  m.feed = std::make_unique<EventFeed>(*m.stores.queue, *m.stores.jobs, m.events, m.log);

  m.ctx = std::make_unique<Context>(cfg, m.log, *m.stores.jobs, *m.stores.queue, *m.stores.images,
                                    *m.styles, *m.quota, m.events, m.metrics, m.engines,
                                    *m.stores.shares);
  m.ctx->worker = m.worker.get();
  std::string web_dir = cfg.web_dir.empty()
                            ? first_dir({src / "web" / "dist", exe / "web" / "dist",
                                         exe / "../web/dist", exe / "../share/pastiche/web"})
                            : cfg.web_dir;
  std::error_code ec;
  if (!web_dir.empty() && !fs::is_regular_file(fs::path(web_dir) / "index.html", ec)) {
    m.log->warn("web UI directory {} has no index.html: serving the placeholder page", web_dir);
    web_dir.clear();
  }
  m.ctx->web_dir = web_dir;
  m.build_http();
}

Server::~Server() {
  stop();
}

const ServerConfig& Server::config() const {
  return impl_->config;
}
int Server::port() const {
  return impl_->port;
}

// The HTTP server with every route; it listens only once start() is called.
void Server::Impl::build_http() {
  auto& m = *this;
  auto& ctx = *m.ctx;
  const auto& cfg = m.config;
  http::ServerOptions o;
  o.host = cfg.host;
  o.port = cfg.port;
  o.handler_threads = std::max(2, cfg.http_threads);
  o.max_connections = cfg.max_connections;
  // Behind a proxy every connection comes from the proxy: it enforces its own per-address caps.
  o.max_connections_per_ip = cfg.trust_proxy ? 0 : cfg.max_connections_per_ip;
  // Multipart overhead on top of the largest accepted file.
  o.max_body_bytes = cfg.max_upload_bytes + 1024 * 1024;
  // A batch is several uploads in one body. Its parts spill to disk as they arrive like any
  // upload's; the in-flight budgets below stay those of single uploads, so a batch takes no
  // more memory than that many submits at once would (a large one may wait for room: 503).
  o.max_body_bytes_by_path["/api/batches"] = cfg.max_batch * cfg.max_upload_bytes + 1024 * 1024;
  // Event streams send a heartbeat every 2 s when idle (a page hears a dead server within 5 s).
  o.stream_wake_s = 1;
  o.header_timeout_s = cfg.header_timeout_s;
  o.body_timeout_s = cfg.body_timeout_s;
  o.max_inflight_bytes = std::max(cfg.max_inflight_bytes, 2 * o.max_body_bytes);
  // Behind a proxy every request comes from the proxy's address: only the total applies.
  // An address may always hold two of the largest uploads.
  o.max_inflight_bytes_per_ip =
      cfg.trust_proxy ? 0 : std::max(cfg.max_inflight_bytes / 4, 2 * o.max_body_bytes);
  // Uploads arrive into unnamed files in the data directory: disk, not memory, while they trickle.
  o.spill_dir = (fs::path(cfg.data_dir) / "tmp").string();
  fs::create_directories(o.spill_dir);
  o.release_memory = [] { release_free_memory(); };
  m.http = std::make_unique<http::Server>(o);
  auto& server = *m.http;

  server.set_default_headers(security_headers());
  server.set_pre_routing(
      [&m, served = served_host_names(cfg.host, cfg.allowed_hosts, cfg.allowed_origins)](
          const http::Request& req, http::Response& res) {
        if (std::string refused = host_refusal(req, served); !refused.empty()) {
          send_error(res, 421, refused);
          return true;
        }
        if (req.path == "/healthz" || req.path == "/metrics") return false;
        if (req.method == "POST" || req.method == "DELETE" || req.method == "PUT" ||
            req.method == "PATCH") {
          std::string refused = cross_origin_refusal(req, m.config.allowed_origins);
          if (!refused.empty()) {
            send_error(res, 403, refused);
            return true;
          }
        }
        double retry = 0;
        std::string key = client_key(req);
        std::string ip = client_ip(req, m.config.trust_proxy);
        bool ok = m.ip_limiter.allow("ip:" + ip, &retry) &&
                  (key.empty() || m.client_limiter.allow(key, &retry));
        if (!ok) {
          m.metrics.rate_limited();
          send_error(res, 429, "rate limit: too many requests; slow down", std::max(1.0, retry));
          return true;
        }
        return false;
      });
  server.set_not_found_handler([](const http::Request& req, http::Response& res) {
    send_error(res, 404,
               "no such endpoint: " + printable(req.method, 10) + " " + printable(req.path, 100));
  });
  server.set_exception_handler(
      [&m](const http::Request& req, http::Response& res, std::exception_ptr ep) {
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          m.log->error("{} {}: {}", printable(req.method, 10), printable(req.path, 200), e.what());
        } catch (...) {
        }
        send_error(res, 500, "internal error");
      });
  server.set_draining_handler([](const http::Request& req, http::Response& res) {
    if (req.path == "/healthz") return false;  // answers 503 "draining" itself
    send_error(res, 503, "the server is shutting down; try again shortly", 5);
    return true;
  });
  server.set_logger([&m](const http::Request& req, const http::Response& res, double seconds) {
    m.metrics.http_request(route_of(req.method, req.path), res.status, seconds);
    if (req.path == "/metrics" || req.path == "/healthz") return;
    m.log->log(res.status >= 500 ? spdlog::level::err : spdlog::level::debug,
               "{} {} {} {} {:.1f}ms {}B", req.remote_addr, printable(req.method, 10),
               printable(req.path, 200), res.status, seconds * 1e3, res.body.size());
  });

  register_style_routes(server.routes(), ctx);
  register_job_routes(server.routes(), ctx);
  register_batch_routes(server.routes(), ctx);
  register_share_routes(server.routes(), ctx);
  register_gallery_routes(server.routes(), ctx);
  register_ops_routes(server.routes(), ctx);
  register_static_routes(server.routes(), ctx);
  ctx.http = m.http.get();
}

void Server::start() {
  auto& m = *impl_;
  auto& ctx = *m.ctx;
  const auto& cfg = m.config;

  // Alone on its database (SQLite under the data-dir lock), the process knows that jobs left
  // running were its own, before it died: they run again now, not after their lease.
  if (!m.stores.shared && m.worker) {
    JobWorker::recover_interrupted(*m.stores.jobs, *m.stores.queue, *m.stores.images,
                                   cfg.max_attempts, *m.log);
  }
  m.feed->start();
  if (m.worker) m.worker->start();
  try {
    m.port = m.http->start();
  } catch (...) {
    if (m.worker) m.worker->stop();
    m.feed->stop();
    throw;
  }
  m.log->info("listening on http://{}:{} (data dir {}, web UI {}{})", cfg.host, m.port,
              cfg.data_dir, ctx.web_dir.empty() ? "not built" : ctx.web_dir,
              m.worker ? "" : "; API only, jobs run by `pastiche worker` processes");
}

void Server::stop() {
  auto& m = *impl_;
  {
    std::unique_lock lock(m.state_mutex);
    if (m.stopping) {
      m.state_cv.wait(lock, [&] { return m.stopped; });
      return;
    }
    m.stopping = true;
  }
  m.ctx->stopping = true;
  // New requests get 503 + Retry-After and open event streams a last "shutdown" event while the
  // running jobs are interrupted; then the connections close.
  if (m.http) m.http->drain();
  m.feed->stop();
  if (m.worker) m.worker->stop();
  m.events.shutdown();
  if (m.http) m.http->stop();
  m.log->info("stopped");
  m.log->flush();
  {
    std::lock_guard lock(m.state_mutex);
    m.stopped = true;
  }
  m.state_cv.notify_all();
}

http::Response Server::handle(http::Request request) {
  return impl_->http->handle(std::move(request));
}

void Server::wait() {
  auto& m = *impl_;
  std::unique_lock lock(m.state_mutex);
  m.state_cv.wait(lock, [&] { return m.stopped; });
}

}  // namespace pastiche::service
