// The HTTP service: `pastiche serve`. Owns the stores, the engines, the job worker (unless it is
// an API-only node), the event feed and the HTTP server (src/http); routes live in routes_*.cpp
// by resource. With `database` set to a PostgreSQL URL, any number of these processes (and of
// `pastiche worker`) share one job store, queue and image store.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/message.h"

namespace pastiche::service {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;                // 0 = any free port (see Server::port())
  std::string data_dir = "data";  // jobs.db, images/ (SQLite only), logs/
  // Empty: SQLite DATA_DIR/jobs.db and images on disk (one process). postgresql://...: the
  // shared job store, queue and images of a cluster.
  std::string database;
  std::string images_dir;     // PostgreSQL only: images in this shared directory, not the database
  bool workers = true;        // run jobs in this process (false: an API-only node; PostgreSQL)
  double lease_seconds = 30;  // a job whose worker stops heartbeating is re-queued after this
  std::string web_dir;        // static UI; empty = web/dist beside the sources or executable
  std::string styles_dir;     // Gatys painting images; empty = styles/ beside the sources
  std::vector<std::string> model_dirs;  // fast models; empty = default_model_dirs()
  std::string vgg_path;                 // empty = default_vgg_weights_path(); "none" disables Gatys
  std::string device = "auto";
  int threads = 0;  // LibTorch intra-op threads; 0 = all cores
  int fast_workers = 1;
  bool idle_priority_workers = true;  // jobs yield the CPU to request threads
  int gatys_workers = 1;
  int arbitrary_workers = 1;  // the arbitrary lane (when its decoder is installed)
  int http_threads = 16;  // threads running request handlers (connections and streams hold none)
  int max_connections = 4096;
  int max_connections_per_ip = 64;  // ignored with trust_proxy (every connection is the proxy's)
  int max_streams_per_client = 8;   // open event streams of one client token
  int max_streams_per_ip = 32;
  double header_timeout_s = 10;  // the whole request head, however steadily it trickles
  double body_timeout_s = 120;   // the whole body
  // Request bodies being received and responses not yet sent, all requests together (a quarter
  // of it per client address); beyond: 503 + Retry-After.
  int64_t max_inflight_bytes = 1024LL * 1024 * 1024;
  int max_queue = 64;
  int max_batch = 10;  // photos in one POST /api/batches (1-100); each counts as a job
  // Fair share per client token: at most this many queued + running jobs per lane (a lane not
  // named, or 0: no cap), and at most max_work_per_client_s estimated seconds of queued + running
  // work in all (0: no cap; a client with nothing queued may always queue one job). 429 beyond.
  std::map<std::string, int> max_jobs_per_client = {{"fast", 8}, {"gatys", 4}, {"arbitrary", 8}};
  double max_work_per_client_s = 3600;
  int max_attempts = 3;
  int preview_every = 10;
  int64_t max_upload_bytes = 20LL * 1024 * 1024;
  int64_t max_pixels = 40'000'000;
  int max_size = 2048;
  int max_steps = 2000;
  int64_t max_disk_bytes = 2048LL * 1024 * 1024;  // 0 = no quota
  int keep_min_minutes = 30;  // the quota keeps jobs finished more recently (and unfetched ones)
  int max_styles_per_client = 50;  // uploaded paintings one client may keep
  int64_t max_style_bytes_per_client = 64LL * 1024 * 1024;  // ...and their bytes; 0 = no cap
  // Uploaded paintings never expire: all clients' together may take this share of the disk
  // quota, so that finished jobs can always make room for new ones.
  int style_quota_percent = 50;
  double rate_limit = 20;  // requests per second per client; 0 = off
  double rate_burst = 60;
  std::string admin_key;     // empty = no admin access
  bool trust_proxy = false;  // rate-limit by X-Forwarded-For (behind nginx)
  // Origins (scheme://host[:port]) besides the server's own that may POST and DELETE.
  std::vector<std::string> allowed_origins;
  // Host names (besides localhost, this machine's name, IP literals and the allowed origins'
  // hosts) that requests may address: a public name behind a proxy. Others get 421.
  std::vector<std::string> allowed_hosts;
  // Where the public reaches this server ("https://pastiche.example"): absolute links in share
  // pages (og:image, og:url). Empty: http://<the request's Host header>.
  std::string public_url;
  bool public_metrics = false;  // /metrics and the full /api/device without the admin key
  bool init = false;            // allow a new job database beside existing job images
  bool log_console = true;
  std::string log_level = "info";
};

class Server {
 public:
  explicit Server(ServerConfig config);  // loads engines and stores; does not listen yet
  ~Server();                             // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();  // binds and serves on a background thread; throws when the port is taken
  int port() const;
  // Graceful: stops accepting, ends event streams, interrupts this process's running jobs and
  // queues them again. Safe to call twice and from a signal-handling thread.
  void stop();
  void wait();  // blocks until stop() has completed
  // Serves one request already read, without the network (fuzzing, tests): the same routes,
  // hooks and headers. Jobs are queued but run only once start() has been called.
  http::Response handle(http::Request request);
  const ServerConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pastiche::service
