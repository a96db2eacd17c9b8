// What the route handlers share, and the helpers every handler uses: client identity, JSON
// replies, error mapping, upload decoding.
#pragma once
#include <spdlog/logger.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "http/message.h"
#include "http/router.h"
#include "http/server.h"
#include "service/engines.h"
#include "service/events.h"
#include "service/job_request.h"
#include "service/job_view.h"
#include "service/job_worker.h"
#include "service/metrics.h"
#include "service/rate_limiter.h"
#include "service/server.h"
#include "service/storage_quota.h"
#include "service/stream_slots.h"
#include "service/style_catalog.h"
#include "store/image_store.h"
#include "store/job_files.h"
#include "store/job_queue.h"
#include "store/job_store.h"

namespace pastiche::service {

struct Context {
  Context(const ServerConfig& config, std::shared_ptr<spdlog::logger> log, JobStore& jobs,
          JobQueue& queue, ImageStore& images, StyleCatalog& styles, StorageQuota& quota,
          EventHub& events, Metrics& metrics, Engines& engines)
      : config(config),
        log(std::move(log)),
        jobs(jobs),
        queue(queue),
        images(images),
        styles(styles),
        quota(quota),
        events(events),
        metrics(metrics),
        engines(engines) {}

  const ServerConfig& config;
  std::shared_ptr<spdlog::logger> log;
  JobStore& jobs;
  JobQueue& queue;  // shared with every node of the cluster (PostgreSQL)
  ImageStore& images;
  StyleCatalog& styles;
  StorageQuota& quota;
  EventHub& events;
  Metrics& metrics;
  Engines& engines;
  JobWorker* worker = nullptr;  // this process's own workers; null with --no-workers
  std::string web_dir{};        // resolved; empty when the UI is not built
  std::atomic<int> stylize_in_flight{0};
  std::atomic<bool> stopping{false};
  StreamSlots stream_slots{config.max_streams_per_client, config.max_streams_per_ip};
  // Wrong X-Admin-Key values per address: 10 at once, then one a minute (guessing is hopeless).
  RateLimiter admin_failures{1.0 / 60, 10};
  http::Server* http = nullptr;  // set once it is started (connection figures for /metrics)
  // The database check behind /healthz (a real write), at most once a second however often
  // the endpoint is polled.
  std::mutex health_mutex;
  std::chrono::steady_clock::time_point health_checked{};
  std::string health_problem;
};

// Thrown when the queue holds max_queue jobs (HTTP 429 with Retry-After).
struct QueueFull : std::runtime_error {
  QueueFull() : std::runtime_error("the job queue is full; try again shortly") {}
};

// An error with an HTTP status (and Retry-After for 429/503).
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message, double retry_after = 0)
      : std::runtime_error(message), status(status), retry_after(retry_after) {}
  int status;
  double retry_after;
};

struct Call {
  const http::Request& req;
  http::Response& res;
  std::string client;  // owner token
  bool admin = false;
  std::string ip;  // the client's address (X-Forwarded-For's last entry behind a trusted proxy)
};

using RouteHandler = std::function<void(Call&)>;
// Resolves the client, runs the handler, maps exceptions to JSON errors.
http::Handler wrap(Context& ctx, RouteHandler handler);

void send_json(http::Response& res, int status, const nlohmann::json& body);
void send_error(http::Response& res, int status, const std::string& message,
                double retry_after = 0);
void send_bytes(http::Response& res, const std::string& bytes, const std::string& type);

// The client's address: behind a trusted proxy, the last X-Forwarded-For entry (the one nginx
// appended); otherwise the peer address.
std::string client_ip(const http::Request& req, bool trust_proxy);

// Text fields of a multipart or urlencoded request (file parts excluded). Names and values must
// be UTF-8: InputError naming the field otherwise.
FormFields form_fields(const http::Request& req, std::initializer_list<const char*> file_fields);
// The bytes of an uploaded file part; InputError when missing, TooLargeError when over the limit.
std::string upload_bytes(const http::Request& req, const std::string& field, int64_t max_bytes);
// Sniffs, checks pixel limits from the header, decodes, and shrinks to max_side (0 = keep).
cv::Mat decode_upload(const std::string& bytes, const ServerConfig& config,
                      const std::string& field, int max_side);

// The job when it exists and the caller may see it; HttpError 404 otherwise.
JobRecord load_job(Context& ctx, const Call& call, const std::string& id);

// The queue as the API reports it, across every node: queued jobs per lane (fast and gatys
// always present), their sum, and how long a client refused with 429 should wait.
std::map<std::string, int64_t> queued_by_lane(Context& ctx);
int64_t queued_total(Context& ctx);
double retry_after_seconds(Context& ctx);
// The job JSON with its queue position (looked up only while it is queued).
nlohmann::json job_view(Context& ctx, const JobRecord& job);

void register_style_routes(http::Router& http, Context& ctx);
void register_job_routes(http::Router& http, Context& ctx);
void register_ops_routes(http::Router& http, Context& ctx);
void register_static_routes(http::Router& http, Context& ctx);  // last: catch-all GET

}  // namespace pastiche::service
