// Operations: /api/device, /healthz, /metrics, /api/openapi.json.
#include <filesystem>

#include "common/runtime.h"
#include "service/routes.h"

namespace pastiche::service {

using nlohmann::json;

void register_ops_routes(httplib::Server& http, Context& ctx) {
  http.Get("/api/device", wrap(ctx, [&ctx](Call& c) {
             DeviceInfo d = device_info();
             json vgg = nullptr;
             if (ctx.engines.vgg) {
               const auto& info = ctx.engines.vgg->info();
               vgg = {{"path", info.path},
                      {"arch", to_string(info.arch)},
                      {"convention", to_string(info.convention)},
                      {"layers", info.available}};
             }
             const auto& cfg = ctx.config;
             send_json(
                 c.res, 200,
                 {{"version", PASTICHE_VERSION},
                  {"device", ctx.engines.device.str()},
                  {"device_name", d.device_name},
                  {"threads", d.threads},
                  {"cores", d.cores},
                  {"cuda_available", d.cuda_available},
                  {"cuda_devices", d.cuda_devices},
                  {"torch_version", d.torch_version},
                  {"blas", d.blas},
                  {"allocator", d.allocator},
                  {"memory_total_bytes", d.memory_total_bytes},
                  {"memory_available_bytes", d.memory_available_bytes},
                  {"peak_rss_bytes", d.peak_rss_bytes},
                  {"methods", {{"fast", true}, {"gatys", static_cast<bool>(ctx.engines.vgg)}}},
                  {"gatys_unavailable_reason",
                   ctx.engines.vgg ? json(nullptr) : json(ctx.engines.gatys_unavailable_reason)},
                  {"vgg", vgg},
                  {"workers", {{"fast", cfg.fast_workers}, {"gatys", cfg.gatys_workers}}},
                  {"limits",
                   {{"max_upload_bytes", cfg.max_upload_bytes},
                    {"max_pixels", cfg.max_pixels},
                    {"max_size", cfg.max_size},
                    {"max_steps", cfg.max_steps},
                    {"max_queue", cfg.max_queue}}}});
           }));

  http.Get(
      "/healthz", wrap(ctx, [&ctx](Call& c) {
        json warnings = json::array();
        std::error_code ec;
        auto space = std::filesystem::space(ctx.config.data_dir, ec);
        int64_t free_bytes = ec ? -1 : static_cast<int64_t>(space.available);
        int64_t used = ctx.images.total_bytes();
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
        size_t queued = ctx.runner.queued();
        int max = ctx.runner.max_queue();
        if (queued * 10 > static_cast<size_t>(max) * 9) {
          warnings.push_back("queue: above 90% full");
        }
        send_json(
            c.res, 200,
            {{"status", warnings.empty() ? "ok" : "warning"},
             {"warnings", warnings},
             {"disk", {{"free_bytes", free_bytes}, {"used_bytes", used}, {"quota_bytes", quota}}},
             {"memory",
              {{"available_bytes", d.memory_available_bytes},
               {"total_bytes", d.memory_total_bytes},
               {"rss_bytes", d.peak_rss_bytes}}},
             {"queue", {{"queued", queued}, {"running", ctx.runner.running()}, {"max", max}}}});
      }));

  http.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    MetricsSnapshot s;
    for (const auto& [state, n] : ctx.jobs.count_by_status()) s.jobs_by_state[to_string(state)] = n;
    s.queue_by_lane["fast"] = static_cast<int64_t>(ctx.runner.queued("fast"));
    s.queue_by_lane["gatys"] = static_cast<int64_t>(ctx.runner.queued("gatys"));
    s.running = static_cast<int64_t>(ctx.runner.running());
    s.disk_used_bytes = ctx.images.total_bytes();
    s.rss_bytes = peak_rss_bytes();
    res.set_content(ctx.metrics.render(s), "text/plain; version=0.0.4");
  });

  http.Get("/api/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(openapi_document(), "application/json");
  });
}

}  // namespace pastiche::service
