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
#include "service/routes.h"
#include "store/disk_image_store.h"
#include "store/sqlite_job_store.h"

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

thread_local std::chrono::steady_clock::time_point request_start;

std::string client_key(const httplib::Request& req) {
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
  std::unique_ptr<SqliteJobStore> jobs;
  std::unique_ptr<DiskImageStore> images;
  Engines engines;
  std::unique_ptr<StyleCatalog> styles;
  EventHub events;
  Metrics metrics;
  std::unique_ptr<JobRunner> runner;
  std::unique_ptr<Context> ctx;
  RateLimiter client_limiter;
  RateLimiter ip_limiter;
  httplib::Server http;
  std::thread listen_thread;
  int port = -1;

  std::mutex state_mutex;
  std::condition_variable state_cv;
  bool stopped = false;
  bool stopping = false;

  explicit Impl(ServerConfig c)
      : config(std::move(c)),
        client_limiter(config.rate_limit, config.rate_burst),
        ip_limiter(config.rate_limit * 4, config.rate_burst * 4) {}
};

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  auto& m = *impl_;
  auto& cfg = m.config;
  fs::create_directories(cfg.data_dir);
  m.log = make_logger(cfg);
  configure_threads(cfg.threads);
  m.jobs = std::make_unique<SqliteJobStore>((fs::path(cfg.data_dir) / "jobs.db").string());
  m.images = std::make_unique<DiskImageStore>(fs::path(cfg.data_dir) / "images");

  m.engines.device = select_device(cfg.device);
  m.engines.fast = std::make_unique<StylizerPool>(m.engines.device);
  std::string vgg_path = cfg.vgg_path.empty() ? default_vgg_weights_path() : cfg.vgg_path;
  if (cfg.vgg_path == "none") {
    m.engines.gatys_unavailable_reason = "disabled with --vgg none";
  } else if (vgg_path.empty()) {
    m.engines.gatys_unavailable_reason =
        "no VGG weights found (run `pastiche weights` to install them, or set PASTICHE_VGG)";
  } else {
    try {
      m.engines.vgg = Vgg(vgg_path);
      m.engines.vgg->to(m.engines.device);
      m.engines.vgg->eval();
      m.log->info("VGG weights: {} ({} layers)", vgg_path, m.engines.vgg->info().available.size());
    } catch (const std::exception& e) {
      m.engines.vgg = Vgg(nullptr);
      m.engines.gatys_unavailable_reason =
          std::string("cannot load VGG weights '") + vgg_path + "': " + e.what();
    }
  }
  if (!m.engines.vgg)
    m.log->warn("Gatys method unavailable: {}", m.engines.gatys_unavailable_reason);

  auto models = cfg.model_dirs.empty() ? default_model_dirs() : cfg.model_dirs;
  fs::path src(PASTICHE_SOURCE_DIR);
  fs::path exe = executable_dir();
  std::string styles_dir = cfg.styles_dir.empty()
                               ? first_dir({src / "styles", exe / "styles", exe / "../styles"})
                               : cfg.styles_dir;
  m.styles = std::make_unique<StyleCatalog>(models, styles_dir, static_cast<bool>(m.engines.vgg),
                                            *m.jobs, *m.images);
  m.log->info("{} built-in style(s) from {} and {}", m.styles->builtin_count(),
              fmt::join(models, ", "), styles_dir.empty() ? "(no styles dir)" : styles_dir);

  RunnerConfig rc;
  rc.fast_workers = cfg.fast_workers;
  rc.idle_priority_workers = cfg.idle_priority_workers;
  rc.gatys_workers = cfg.gatys_workers;
  rc.max_queue = cfg.max_queue;
  rc.max_attempts = cfg.max_attempts;
  rc.preview_every = cfg.preview_every;
  rc.max_disk_bytes = cfg.max_disk_bytes;
  rc.limits.max_size = cfg.max_size;
  rc.limits.max_steps = cfg.max_steps;
  m.runner = std::make_unique<JobRunner>(rc, *m.jobs, *m.images, *m.styles, m.events, m.metrics,
                                         m.engines, m.log);

  m.ctx = std::unique_ptr<Context>(new Context{
      cfg, m.log, *m.jobs, *m.images, *m.styles, *m.runner, m.events, m.metrics, m.engines, {}});
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

void Server::start() {
  auto& m = *impl_;
  auto& http = m.http;
  auto& ctx = *m.ctx;
  int threads = std::max(4, m.config.http_threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // Multipart overhead on top of the largest accepted file.
  http.set_payload_max_length(static_cast<size_t>(m.config.max_upload_bytes) + 1024 * 1024);
  http.set_read_timeout(30);
  http.set_write_timeout(30);
  http.set_keep_alive_timeout(10);
  http.set_keep_alive_max_count(1000);
  http.set_tcp_nodelay(true);  // small JSON replies must not wait for delayed ACKs (40 ms)

  http.set_pre_routing_handler([&m](const httplib::Request& req, httplib::Response& res) {
    request_start = std::chrono::steady_clock::now();
    if (req.path == "/healthz" || req.path == "/metrics")
      return httplib::Server::HandlerResponse::Unhandled;
    double retry = 0;
    std::string key = client_key(req);
    std::string ip = req.remote_addr;
    if (m.config.trust_proxy && req.has_header("X-Forwarded-For")) {
      // nginx appends the address it saw: the last entry is the one to trust.
      std::string fwd = req.get_header_value("X-Forwarded-For");
      auto comma = fwd.rfind(',');
      ip = fwd.substr(comma == std::string::npos ? 0 : comma + 1);
      ip.erase(0, ip.find_first_not_of(' '));
    }
    bool ok = m.ip_limiter.allow("ip:" + ip, &retry) &&
              (key.empty() || m.client_limiter.allow(key, &retry));
    if (!ok) {
      m.metrics.rate_limited();
      send_error(res, 429, "rate limit: too many requests; slow down", std::max(1.0, retry));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string msg;
        switch (res.status) {
          case 413:
            msg = "the request is too large";
            break;
          case 404:
            msg = "no such endpoint: " + req.method + " " + req.path.substr(0, 100);
            break;
          case 400:
            msg = "malformed request";
            break;
          default:
            msg = "request failed (HTTP " + std::to_string(res.status) + ")";
        }
        send_json(res, res.status, {{"error", msg}});
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler(
      [&m](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          m.log->error("{} {}: {}", req.method, req.path, e.what());
        } catch (...) {
        }
        send_error(res, 500, "internal error");
      });
  http.set_logger([&m](const httplib::Request& req, const httplib::Response& res) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - request_start).count();
    m.metrics.http_request(route_of(req.method, req.path), res.status, seconds);
    if (req.path == "/metrics" || req.path == "/healthz") return;
    m.log->log(res.status >= 500 ? spdlog::level::err : spdlog::level::debug,
               "{} {} {} {} {:.1f}ms {}B", req.remote_addr, req.method, req.path.substr(0, 200),
               res.status, seconds * 1e3, res.body.size());
  });

  register_style_routes(http, ctx);
  register_job_routes(http, ctx);
  register_ops_routes(http, ctx);
  register_static_routes(http, ctx);

  if (m.config.port == 0) {
    m.port = http.bind_to_any_port(m.config.host);
  } else {
    m.port = http.bind_to_port(m.config.host, m.config.port) ? m.config.port : -1;
  }
  if (m.port < 0) {
    throw std::runtime_error("cannot listen on " + m.config.host + ":" +
                             std::to_string(m.config.port) + " (in use? try --port)");
  }
  m.runner->start();
  m.listen_thread = std::thread([&http] { http.listen_after_bind(); });
  m.log->info("listening on http://{}:{} (data dir {}, web UI {})", m.config.host, m.port,
              m.config.data_dir, ctx.web_dir.empty() ? "not built" : ctx.web_dir);
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
  m.events.shutdown();  // event streams end so their threads are free
  m.http.stop();
  if (m.listen_thread.joinable()) m.listen_thread.join();
  m.runner->stop();
  m.log->info("stopped");
  m.log->flush();
  {
    std::lock_guard lock(m.state_mutex);
    m.stopped = true;
  }
  m.state_cv.notify_all();
}

void Server::wait() {
  auto& m = *impl_;
  std::unique_lock lock(m.state_mutex);
  m.state_cv.wait(lock, [&] { return m.stopped; });
}

}  // namespace pastiche::service
