// Prometheus metrics: counters and histograms kept in memory, rendered as text exposition format.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace pastiche::service {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // Appends name_bucket/_sum/_count lines with the given label text (e.g. route="x").
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // one per bound, plus +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct MetricsSnapshot {  // gauges read from the live service when rendering
  std::map<std::string, int64_t> jobs_by_state;
  std::map<std::string, int64_t> queue_by_lane;
  int64_t running = 0;  // in the whole cluster
  int64_t workers = 0;  // live worker processes of the cluster
  int64_t disk_used_bytes = 0;
  int64_t rss_bytes = 0;
  // From the HTTP server: open now, and closed or refused since the start.
  int64_t connections = 0, streams = 0, waiting_requests = 0;
  int64_t cut_slow = 0, reclaimed_idle = 0, refused_busy = 0;
};

class Metrics {
 public:
  void http_request(const std::string& route, int status, double seconds);
  void job_finished(const std::string& method, const std::string& status, double seconds);
  void rate_limited();
  void job_expired();
  std::string render(const MetricsSnapshot& snapshot);

 private:
  std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> http_requests_;
  std::map<std::string, Histogram> http_seconds_;
  std::map<std::pair<std::string, std::string>, uint64_t> jobs_finished_;
  std::map<std::string, Histogram> job_seconds_;
  uint64_t rate_limited_ = 0;
  uint64_t jobs_expired_ = 0;
};

// Collapses ids in a path so metrics have bounded cardinality: /api/jobs/{id}/result.
std::string route_of(const std::string& method, const std::string& path);

}  // namespace pastiche::service
