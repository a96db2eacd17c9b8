// `pastiche serve`: the HTTP service (API + web UI), and by default the job workers too.
// SIGINT/SIGTERM stop it gracefully: new requests are refused, running jobs are interrupted and
// queued again. With --database postgresql://... several of these (and `pastiche worker`
// processes) share one job store; --no-workers makes an API-only node.
#include <thread>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/stop_signal.h"
#include "service/server.h"

namespace pastiche::cli {

namespace {

void run_serve(const service::ServerConfig& config) {
  install_stop_signal_handlers();
  service::Server server(config);
  server.start();
  std::thread waiter([&] {
    wait_for_stop_signal();
    server.stop();
  });
  server.wait();
  request_stop();  // wakes the waiter if the server stopped for another reason
  waiter.join();
}

const bool serve_registered = register_command(60, [](CLI::App& app) {
  auto config = std::make_shared<service::ServerConfig>();
  auto max_upload_mb = std::make_shared<double>(config->max_upload_bytes / (1024.0 * 1024.0));
  auto max_disk_mb = std::make_shared<int64_t>(config->max_disk_bytes / (1024 * 1024));
  auto max_style_mb = std::make_shared<int64_t>(config->max_style_bytes_per_client / (1024 * 1024));
  auto max_inflight_mb = std::make_shared<int64_t>(config->max_inflight_bytes / (1024 * 1024));
  auto* cmd = app.add_subcommand("serve", "Run the HTTP service: API, job queue and web UI");
  cmd->add_option("--host", config->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", config->port, "Port (0 = any free port)")->capture_default_str();
  cmd->add_option("--data-dir", config->data_dir,
                  "Jobs database and images (without --database), logs")
      ->capture_default_str();
  cmd->add_option("--database", config->database,
                  "postgresql://... : the job store, queue and images shared by every API and "
                  "worker process (default: SQLite in --data-dir, one process)")
      ->envname("PASTICHE_DATABASE");
  add_images_dir_option(cmd, config->images_dir);
  cmd->add_flag("!--no-workers", config->workers,
                "API only: run no jobs here (`pastiche worker` processes run them; needs "
                "--database)");
  cmd->add_option("--lease-seconds", config->lease_seconds,
                  "A running job whose worker stops heartbeating goes back to the queue after this")
      ->check(CLI::Range(0.5, 3600.0))
      ->capture_default_str();
  cmd->add_option("--web-dir", config->web_dir,
                  "Built web UI (default: web/dist beside the sources or the executable)");
  cmd->add_option("--styles-dir", config->styles_dir,
                  "Painting images (+ JSON sidecars) for the Gatys method (default: styles/)");
  cmd->add_option("--models-dir", config->model_dirs,
                  "Fast model directories (default: $PASTICHE_MODELS_DIR, models/)");
  cmd->add_option("--vgg", config->vgg_path,
                  "VGG weights for the Gatys method (default: found automatically; 'none' = off)");
  cmd->add_option("--device", config->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_option("--threads", config->threads, "LibTorch threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--fast-workers", config->fast_workers, "Concurrent fast jobs")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--gatys-workers", config->gatys_workers, "Concurrent Gatys jobs")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--arbitrary-workers", config->arbitrary_workers,
                  "Concurrent arbitrary-style jobs (when the decoder is installed)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_flag("!--normal-priority-workers", config->idle_priority_workers,
                "Run jobs at normal CPU priority (default: idle priority, so requests stay fast "
                "while jobs use every core; use this when other busy programs share the machine)");
  cmd->add_option("--http-threads", config->http_threads,
                  "Threads running request handlers (connections and event streams hold none)")
      ->check(CLI::Range(2, 1024))
      ->capture_default_str();
  cmd->add_option("--max-connections", config->max_connections, "Open connections in all")
      ->check(CLI::Range(16, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-connections-per-ip", config->max_connections_per_ip,
                  "Open connections from one address (not applied with --trust-proxy)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-streams-per-client", config->max_streams_per_client,
                  "Open event streams of one client")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--max-streams-per-ip", config->max_streams_per_ip,
                  "Open event streams from one address")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--header-timeout", config->header_timeout_s,
                  "Seconds to receive a whole request head, however steadily it trickles")
      ->check(CLI::Range(0.5, 600.0))
      ->capture_default_str();
  cmd->add_option("--max-inflight-mb", *max_inflight_mb,
                  "MiB of request bodies being received and responses not yet sent, all requests "
                  "together (a quarter per address unless --trust-proxy); beyond: 503")
      ->check(CLI::Range(int64_t{64}, int64_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--body-timeout", config->body_timeout_s,
                  "Seconds to receive a whole request body")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--max-queue", config->max_queue, "Queued jobs before 429")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--max-batch", config->max_batch,
                  "Photos in one batch (POST /api/batches); its body may be this many uploads")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option_function<std::vector<std::string>>(
         "--max-jobs-per-client",
         [config](const std::vector<std::string>& caps) {
           for (const auto& cap : caps) {  // LANE=N, checked below
             const auto eq = cap.find('=');
             config->max_jobs_per_client[cap.substr(0, eq)] = std::stoi(cap.substr(eq + 1));
           }
         },
         "Queued + running jobs one client may have in a lane, as LANE=N (fast, gatys, "
         "arbitrary; 0 = no cap), repeatable or comma-separated; a lane not named keeps its "
         "default (fast=8, gatys=4, arbitrary=8). 429 beyond")
      ->delimiter(',')
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            const auto eq = v.find('=');
            const std::string lane = v.substr(0, eq);
            if (eq == std::string::npos ||
                (lane != "fast" && lane != "gatys" && lane != "arbitrary")) {
              return "expected LANE=N with LANE fast, gatys or arbitrary, got '" + v + "'";
            }
            const std::string n = v.substr(eq + 1);
            if (n.empty() || n.size() > 6 ||
                n.find_first_not_of("0123456789") != std::string::npos) {
              return "expected a count from 0 to 999999 after '" + lane + "=', got '" + n + "'";
            }
            return "";
          },
          "LANE=N"));
  cmd->add_option("--max-work-per-client", config->max_work_per_client_s,
                  "Estimated seconds of queued + running work one client may have (0 = no cap; "
                  "a client with nothing queued may always queue one job). 429 beyond")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--max-attempts", config->max_attempts,
                  "Starts of a job interrupted by crashes before it is failed")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option("--max-upload-mb", *max_upload_mb, "Largest accepted upload, MiB")
      ->check(CLI::Range(0.01, 1024.0))
      ->capture_default_str();
  cmd->add_option("--max-pixels", config->max_pixels, "Largest accepted image, pixels")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 32))
      ->capture_default_str();
  cmd->add_option("--max-size", config->max_size, "Largest output side, px")
      ->check(CLI::Range(64, 8192))
      ->capture_default_str();
  cmd->add_option("--max-steps", config->max_steps, "Most Gatys iterations per job")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--max-disk-mb", *max_disk_mb,
                  "Image store quota, MiB; beyond it the oldest finished jobs expire (images "
                  "removed) (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--keep-min-minutes", config->keep_min_minutes,
                  "The quota never removes a job finished less than this long ago, nor a result "
                  "not yet downloaded; when nothing else can go, submits get 507")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  cmd->add_option("--max-styles-per-client", config->max_styles_per_client,
                  "Uploaded paintings one client may keep")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-style-mb-per-client", *max_style_mb,
                  "MiB of uploaded paintings one client may keep; they count in --max-disk-mb "
                  "too (0 = no cap of its own)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--rate-limit", config->rate_limit, "Requests per second per client (0 = off)")
      ->capture_default_str();
  cmd->add_option("--rate-burst", config->rate_burst, "Burst size of the rate limit")
      ->capture_default_str();
  cmd->add_option("--admin-key", config->admin_key,
                  "Secret for the X-Admin-Key header (default: $PASTICHE_ADMIN_KEY; none = off)")
      ->envname("PASTICHE_ADMIN_KEY");
  cmd->add_flag("--trust-proxy", config->trust_proxy,
                "Rate-limit by X-Forwarded-For (only behind a reverse proxy you run)");
  cmd->add_option("--allowed-origin", config->allowed_origins,
                  "Another origin (scheme://host[:port]) whose pages may POST and DELETE here; "
                  "repeatable (default: only the server's own)");
  cmd->add_option("--allowed-host", config->allowed_hosts,
                  "A host name requests may address besides localhost, this machine's name and IP "
                  "addresses (the public name behind a proxy); repeatable. Others get 421, "
                  "against DNS rebinding");
  cmd->add_option("--public-url", config->public_url,
                  "The address the public reaches this server at (https://pastiche.example), "
                  "for absolute links in share pages' previews (default: http://<Host header>)");
  cmd->add_flag("--public-metrics", config->public_metrics,
                "Serve /metrics and the detailed /api/device without the admin key");
  cmd->add_flag("--init", config->init,
                "Start with a new, empty job database even though job images are stored");
  cmd->add_option("--preview-every", config->preview_every, "Gatys iterations between previews")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--log-level", config->log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  cmd->callback([config, max_upload_mb, max_disk_mb, max_style_mb, max_inflight_mb] {
    config->max_inflight_bytes = *max_inflight_mb * 1024 * 1024;
    config->max_upload_bytes = static_cast<int64_t>(*max_upload_mb * 1024 * 1024);
    config->max_disk_bytes = *max_disk_mb * 1024 * 1024;
    config->max_style_bytes_per_client = *max_style_mb * 1024 * 1024;
    run_serve(*config);
  });
});

}  // namespace

}  // namespace pastiche::cli
