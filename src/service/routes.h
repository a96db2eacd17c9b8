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
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/message.h"
#include "http/router.h"
#include "http/server.h"
#include "image/image_io.h"
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
#include "store/share_store.h"

namespace pastiche::service {

struct Context {
  Context(const ServerConfig& config, std::shared_ptr<spdlog::logger> log, JobStore& jobs,
          JobQueue& queue, ImageStore& images, StyleCatalog& styles, StorageQuota& quota,
          EventHub& events, Metrics& metrics, Engines& engines, ShareStore& shares)
      : config(config),
        log(std::move(log)),
        jobs(jobs),
        queue(queue),
        images(images),
        styles(styles),
        quota(quota),
        events(events),
        metrics(metrics),
        engines(engines),
        shares(shares) {}

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
  ShareStore& shares;           // share links and the gallery, beside the jobs
  JobWorker* worker = nullptr;  // this process's own workers; null with --no-workers
  std::string web_dir{};        // resolved; empty when the UI is not built
  std::atomic<int> stylize_in_flight{0};
  std::atomic<bool> stopping{false};
  StreamSlots stream_slots{config.max_streams_per_client, config.max_streams_per_ip};
  // Wrong X-Admin-Key values per address: 10 at once, then one a minute (guessing is hopeless).
  RateLimiter admin_failures{1.0 / 60, 10};
  // Per client: 20 gallery publishes and 60 votes an hour (routes_gallery.cpp).
  RateLimiter publish_limiter{20.0 / 3600, 20};
  RateLimiter rating_limiter{60.0 / 3600, 60};
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
// {"error": message}, with "retry_after_seconds" (and Retry-After) when retry_after > 0, and
// "field" when a 400/413/415 message starts with a field name ("tv_weight: must be ...").
void send_error(http::Response& res, int status, const std::string& message,
                double retry_after = 0);
// The form field a message starts with ("content[2] (a.jpg): ..." → "content"); empty if none.
std::string error_field(const std::string& message);
void send_bytes(http::Response& res, const std::string& bytes, const std::string& type);

// The client's address: behind a trusted proxy, the last X-Forwarded-For entry (the one nginx
// appended); otherwise the peer address.
std::string client_ip(const http::Request& req, bool trust_proxy);

// Text fields of a multipart or urlencoded request (file parts excluded). Names and values must
// be UTF-8: InputError naming the field otherwise.
FormFields form_fields(const http::Request& req, std::initializer_list<const char*> file_fields);
// The bytes of an uploaded file part; InputError when missing, TooLargeError when over the limit.
std::string upload_bytes(const http::Request& req, const std::string& field, int64_t max_bytes);
// Sniffs and checks the header (type, size, shape, pixel limit) without decoding; errors name
// `field`.
ImageHeader probe_upload(const std::string& bytes, const ServerConfig& config,
                         const std::string& field);
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
// A queued job's estimated wait: the work before it in its lane over the lane's workers.
double wait_seconds(const QueuePlace& place, int workers);
int lane_workers(const ServerConfig& config, const std::string& lane);  // configured, per node
// The job JSON with its queue position and "wait_seconds" (looked up only while it is queued).
// Its "share" too: null, or the share link of a finished result (looked up here, unless given).
nlohmann::json job_view(Context& ctx, const JobRecord& job);
nlohmann::json job_view(Context& ctx, const JobRecord& job,
                        const std::optional<ShareRecord>& share);
// The shares of a page of jobs in one query, by job id (routes_share.cpp).
std::map<std::string, ShareRecord> shares_of(Context& ctx, const std::vector<JobRecord>& jobs);
// A job view's "share": null, or {"url", "token", "published", "caption", "rating_avg",
// "rating_count"} (routes_share.cpp).
nlohmann::json share_json(const std::optional<ShareRecord>& share);

void register_style_routes(http::Router& http, Context& ctx);
void register_job_routes(http::Router& http, Context& ctx);
void register_batch_routes(http::Router& http, Context& ctx);    // routes_batches.cpp
void register_share_routes(http::Router& http, Context& ctx);    // routes_share.cpp
void register_gallery_routes(http::Router& http, Context& ctx);  // routes_gallery.cpp
void register_ops_routes(http::Router& http, Context& ctx);
void register_static_routes(http::Router& http, Context& ctx);  // last: catch-all GET

}  // namespace pastiche::service
