// Operations: /api/device, /api/workers, /healthz, /metrics, /api/openapi.json.
#include <filesystem>

#include "common/runtime.h"
#include "service/ids.h"
#include "service/job_request.h"
#include "service/openapi.h"
#include "service/routes.h"

namespace pastiche::service {

using nlohmann::json;

namespace {

// A worker that has not been seen this long is not listed (it heartbeats every second or more
// often while it lives).
constexpr int64_t kLiveWorkerMs = 15'000;

// Paths, memory and the BLAS build help an attacker more than a user: only with the admin key
// (or serve --public-metrics).
bool may_see_details(const Context& ctx, const Call& c) {
  return c.admin || ctx.config.public_metrics;
}

json device_json(Context& ctx, bool details) {
  DeviceInfo d = device_info();
  const auto& cfg = ctx.config;
  // For anyone: what a client needs to build its form (methods, limits, queue). The machine
  // (processor, memory, library versions, paths) is for operators.
  json out = {{"version", PASTICHE_VERSION},
              {"details", details},
              {"device", ctx.engines.device.is_cuda() ? "cuda" : "cpu"},
              {"methods",
               {{"fast", true},
                {"gatys", ctx.engines.gatys_available()},
                {"arbitrary", ctx.engines.arbitrary_available()}}},
              {"arbitrary_unavailable_reason",
               ctx.engines.arbitrary_available()
                   ? json(nullptr)
                   : json(details ? ctx.engines.arbitrary_unavailable_reason
                                  : std::string("not configured on this server"))},
              {"gatys_unavailable_reason",
               ctx.engines.gatys_available()
                   ? json(nullptr)
                   : json(details ? ctx.engines.gatys_unavailable_reason
                                  : std::string("not configured on this server"))},
              {"workers",
               {{"fast", ctx.worker ? cfg.fast_workers : 0},
                {"gatys", ctx.worker ? cfg.gatys_workers : 0},
                {"arbitrary",
                 ctx.worker && ctx.engines.arbitrary_available() ? cfg.arbitrary_workers : 0}}},
              {"queue", queued_by_lane(ctx)},
              {"limits",
               {{"max_upload_bytes", cfg.max_upload_bytes},
                {"max_pixels", cfg.max_pixels},
                {"max_size", cfg.max_size},
                {"max_steps", cfg.max_steps},
                {"max_queue", cfg.max_queue},
                {"max_batch", cfg.max_batch},
                {"max_aspect_ratio", kMaxAspectRatio},
                {"min_side", kMinImageSide},
                {"max_style_upload_bytes", cfg.max_upload_bytes},
                {"max_caption", 140}}}};
  if (!details) return out;
  out["device"] = ctx.engines.device.str();
  out["device_name"] = d.device_name;
  out["threads"] = d.threads;
  out["cores"] = d.cores;
  out["cuda_available"] = d.cuda_available;
  out["cuda_devices"] = d.cuda_devices;
  out["torch_version"] = d.torch_version;
  json vgg = nullptr;
  if (ctx.engines.vgg_info) {
    const auto& info = *ctx.engines.vgg_info;
    vgg = {{"path", info.path},
           {"arch", to_string(info.arch)},
           {"convention", to_string(info.convention)},
           {"layers", info.available}};
  }
  out["blas"] = d.blas;
  out["allocator"] = d.allocator;
  out["memory_total_bytes"] = d.memory_total_bytes;
  out["memory_available_bytes"] = d.memory_available_bytes;
  out["peak_rss_bytes"] = d.peak_rss_bytes;
  // Why jobs compute in what they do: the CPU probe's choice and figures (null on CUDA).
  out["compute"] = ctx.engines.device.is_cpu() ? d.compute.report() : json(nullptr);
  out["vgg"] = vgg;
  return out;
}

std::string database_problem(Context& ctx) {
  std::lock_guard lock(ctx.health_mutex);
  auto now = std::chrono::steady_clock::now();
  if (now - ctx.health_checked >= std::chrono::seconds(1)) {
    ctx.health_problem = ctx.jobs.health_check();
    ctx.health_checked = now;
  }
  return ctx.health_problem;
}

void handle_healthz(Context& ctx, Call& c) {
  std::string db_problem = database_problem(ctx);
  json warnings = json::array();
  std::error_code ec;
  auto space = std::filesystem::space(ctx.config.data_dir, ec);
  int64_t free_bytes = ec ? -1 : static_cast<int64_t>(space.available);
  int64_t used = -1;  // unknown while a shared image store does not answer
  try {
    used = ctx.images.total_bytes();
  } catch (const std::exception& e) {
    if (db_problem.empty()) db_problem = e.what();
  }
  int64_t quota = ctx.config.max_disk_bytes;
  if (free_bytes >= 0 && free_bytes < 512LL * 1024 * 1024) {
    warnings.push_back("disk: less than 512 MiB free in the data directory");
  }
  if (quota > 0 && used > quota * 9 / 10) {
    warnings.push_back("disk: image store above 90% of --max-disk-mb");
  }
  DeviceInfo d = device_info();
  if (d.memory_available_bytes > 0 && d.memory_available_bytes < 256LL * 1024 * 1024) {
    warnings.push_back("memory: less than 256 MiB available");
  }
  // The queue of the whole cluster, from the store: only while the store answers.
  int64_t queued = 0, running = 0;
  if (db_problem.empty()) {
    try {
      auto counts = ctx.jobs.count_by_status();
      queued = counts[JobStatus::queued];
      running = counts[JobStatus::running];
    } catch (const std::exception& e) {
      db_problem = e.what();
    }
  }
  int max = ctx.config.max_queue;
  if (queued * 10 > static_cast<int64_t>(max) * 9) warnings.push_back("queue: above 90% full");
  bool draining = ctx.stopping;
  // The database unreachable (refused, lost, locked) is a degraded service, not a broken one:
  // requests that need it answer 503 + Retry-After until it is back.
  std::string status = !db_problem.empty() ? "degraded: database"
                       : draining          ? "draining"
                       : warnings.empty()  ? "ok"
                                           : "warning";
  // Anyone sees the status (what a load balancer needs); the database's error text names its
  // host, port and user, so the rest needs the admin key.
  json body = {{"status", status}};
  if (may_see_details(ctx, c)) {
    body["warnings"] = warnings;
    body["database"] = db_problem.empty() ? json("ok") : json(db_problem);
    body["queue"] = {{"queued", queued}, {"running", running}, {"max", max}};
    body["disk"] = {{"free_bytes", free_bytes}, {"used_bytes", used}, {"quota_bytes", quota}};
    body["memory"] = {{"available_bytes", d.memory_available_bytes},
                      {"total_bytes", d.memory_total_bytes},
                      {"rss_bytes", d.peak_rss_bytes}};
  }
  // Load balancers take 503 as "send no traffic here".
  int code = db_problem.empty() && !draining ? 200 : 503;
  if (code == 503) c.res.set_header("Retry-After", "10");
  send_json(c.res, code, body);
}

void handle_metrics(Context& ctx, Call& c) {
  if (!may_see_details(ctx, c)) {
    throw HttpError(403, "metrics: needs X-Admin-Key (or serve --public-metrics)");
  }
  MetricsSnapshot s;
  auto counts = ctx.jobs.count_by_status();
  for (const auto& [state, n] : counts) s.jobs_by_state[to_string(state)] = n;
  s.queue_by_lane = queued_by_lane(ctx);
  s.running = counts[JobStatus::running];
  s.workers = static_cast<int64_t>(ctx.queue.list_workers(kLiveWorkerMs).size());
  s.disk_used_bytes = ctx.images.total_bytes();
  s.rss_bytes = peak_rss_bytes();
  if (ctx.http) {
    auto h = ctx.http->stats();
    s.connections = h.connections;
    s.streams = h.streams;
    s.waiting_requests = h.waiting_requests;
    s.cut_slow = h.cut_slow;
    s.reclaimed_idle = h.reclaimed_idle;
    s.refused_busy = h.refused_busy;
  }
  c.res.status = 200;
  c.res.set_content(ctx.metrics.render(s), "text/plain; version=0.0.4");
}

// The workers of the cluster seen recently, with the jobs each holds now.
void handle_workers(Context& ctx, Call& c) {
  if (!c.admin) throw HttpError(403, "workers: needs X-Admin-Key");
  std::map<std::string, std::vector<std::string>> jobs_of;
  for (const auto& job : ctx.jobs.list_by_status(JobStatus::running)) {
    if (!job.worker_id.empty()) jobs_of[job.worker_id].push_back(job.id);
  }
  json workers = json::array();
  for (const auto& w : ctx.queue.list_workers(kLiveWorkerMs)) {
    workers.push_back({{"id", w.id},
                       {"host", w.host},
                       {"lanes", w.lanes},
                       {"started_at", iso8601(w.started_ms)},
                       {"last_seen_at", iso8601(w.last_seen_ms)},
                       {"jobs", jobs_of[w.id]}});
  }
  send_json(c.res, 200, {{"workers", workers}, {"queue", queued_by_lane(ctx)}});
}

}  // namespace

void register_ops_routes(http::Router& http, Context& ctx) {
  http.Get("/api/device", wrap(ctx, [&ctx](Call& c) {
             send_json(c.res, 200, device_json(ctx, may_see_details(ctx, c)));
           }));
  http.Get("/api/workers", wrap(ctx, [&ctx](Call& c) { handle_workers(ctx, c); }));
  http.Get("/healthz", wrap(ctx, [&ctx](Call& c) { handle_healthz(ctx, c); }));
  http.Get("/metrics", wrap(ctx, [&ctx](Call& c) { handle_metrics(ctx, c); }));
  http.Get("/api/openapi.json", [](const http::Request&, http::Response& res) {
    res.set_content(openapi_document(), "application/json");
  });
}

}  // namespace pastiche::service
