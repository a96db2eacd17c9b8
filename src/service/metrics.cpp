#include "service/metrics.h"

#include <sstream>

namespace pastiche::service {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

namespace {
std::string fmt(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}
std::string join_labels(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "," + b;
}
}  // namespace

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    std::string le = i < bounds_.size() ? fmt(bounds_[i]) : "+Inf";
    out += name + "_bucket{" + join_labels(labels, "le=\"" + le + "\"") + "} " +
           std::to_string(cumulative) + "\n";
  }
  std::string l = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + l + " " + fmt(sum_) + "\n";
  out += name + "_count" + l + " " + std::to_string(count_) + "\n";
}

void Metrics::http_request(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++http_requests_[{route, status}];
  auto it = http_seconds_.find(route);
  if (it == http_seconds_.end()) {
    it = http_seconds_
             .emplace(route, Histogram({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                        2.5, 5, 10}))
             .first;
  }
  it->second.observe(seconds);
}

void Metrics::job_finished(const std::string& method, const std::string& status, double seconds) {
  std::lock_guard lock(mutex_);
  ++jobs_finished_[{method, status}];
  auto it = job_seconds_.find(method);
  if (it == job_seconds_.end()) {
    it = job_seconds_
             .emplace(method,
                      Histogram({0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}))
             .first;
  }
  if (status == "done") it->second.observe(seconds);
}

void Metrics::job_expired() {
  std::lock_guard lock(mutex_);
  ++jobs_expired_;
}

void Metrics::rate_limited() {
  std::lock_guard lock(mutex_);
  ++rate_limited_;
}

std::string Metrics::render(const MetricsSnapshot& s) {
  std::string out;
  out += "# HELP pastiche_jobs Jobs in the store by state.\n# TYPE pastiche_jobs gauge\n";
  for (const auto& [state, n] : s.jobs_by_state) {
    out += "pastiche_jobs{state=\"" + state + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP pastiche_queue_length Queued jobs by lane.\n# TYPE pastiche_queue_length gauge\n";
  for (const auto& [lane, n] : s.queue_by_lane) {
    out += "pastiche_queue_length{lane=\"" + lane + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP pastiche_jobs_running Jobs running now.\n# TYPE pastiche_jobs_running gauge\n";
  out += "pastiche_jobs_running " + std::to_string(s.running) + "\n";
  out += "# HELP pastiche_workers Live worker processes.\n# TYPE pastiche_workers gauge\n";
  out += "pastiche_workers " + std::to_string(s.workers) + "\n";
  out +=
      "# HELP pastiche_disk_used_bytes Bytes in the image store.\n"
      "# TYPE pastiche_disk_used_bytes gauge\n";
  out += "pastiche_disk_used_bytes " + std::to_string(s.disk_used_bytes) + "\n";
  out +=
      "# HELP pastiche_process_peak_rss_bytes Peak resident memory.\n"
      "# TYPE pastiche_process_peak_rss_bytes gauge\n";
  out += "pastiche_process_peak_rss_bytes " + std::to_string(s.rss_bytes) + "\n";
  auto gauge = [&](const char* name, const char* help, const char* type, int64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(v) + "\n";
  };
  gauge("pastiche_http_connections", "Open HTTP connections.", "gauge", s.connections);
  gauge("pastiche_http_event_streams", "Open event streams.", "gauge", s.streams);
  gauge("pastiche_http_waiting_requests", "Requests read, waiting for a handler thread.", "gauge",
        s.waiting_requests);
  gauge("pastiche_http_cut_slow_total", "Connections closed for missing the head or body deadline.",
        "counter", s.cut_slow);
  gauge("pastiche_http_reclaimed_idle_total",
        "Idle keep-alive connections closed under connection pressure.", "counter",
        s.reclaimed_idle);
  gauge("pastiche_http_refused_busy_total", "Requests answered 503 as every handler was busy.",
        "counter", s.refused_busy);

  std::lock_guard lock(mutex_);
  out +=
      "# HELP pastiche_jobs_finished_total Finished jobs.\n"
      "# TYPE pastiche_jobs_finished_total counter\n";
  for (const auto& [key, n] : jobs_finished_) {
    out += "pastiche_jobs_finished_total{method=\"" + key.first + "\",status=\"" + key.second +
           "\"} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP pastiche_job_seconds Run time of successful jobs.\n"
      "# TYPE pastiche_job_seconds histogram\n";
  for (const auto& [method, h] : job_seconds_) {
    h.render(out, "pastiche_job_seconds", "method=\"" + method + "\"");
  }
  out +=
      "# HELP pastiche_http_requests_total HTTP requests by route and status.\n"
      "# TYPE pastiche_http_requests_total counter\n";
  for (const auto& [key, n] : http_requests_) {
    out += "pastiche_http_requests_total{route=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP pastiche_http_request_seconds Time to produce a response.\n"
      "# TYPE pastiche_http_request_seconds histogram\n";
  for (const auto& [route, h] : http_seconds_) {
    h.render(out, "pastiche_http_request_seconds", "route=\"" + route + "\"");
  }
  out +=
      "# HELP pastiche_rate_limited_total Requests refused by the rate limiter.\n"
      "# TYPE pastiche_rate_limited_total counter\n";
  out += "pastiche_rate_limited_total " + std::to_string(rate_limited_) + "\n";
  out +=
      "# HELP pastiche_jobs_expired_total Finished jobs whose images the disk quota removed.\n"
      "# TYPE pastiche_jobs_expired_total counter\n";
  out += "pastiche_jobs_expired_total " + std::to_string(jobs_expired_) + "\n";
  return out;
}

std::string route_of(const std::string& raw_method, const std::string& path) {
  // Methods are client text: anything unexpected is one label, not a new series per request.
  std::string method = "OTHER";
  for (const char* m : {"GET", "HEAD", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"}) {
    if (raw_method == m) method = m;
  }
  static const char* kFixed[] = {"/api/styles",       "/api/jobs",   "/api/stylize",
                                 "/api/history",      "/api/device", "/api/workers",
                                 "/api/openapi.json", "/healthz",    "/metrics"};
  for (const char* f : kFixed) {
    if (path == f) return method + " " + f;
  }
  auto starts = [&](const char* p) { return path.rfind(p, 0) == 0; };
  std::string base;
  if (starts("/api/jobs/"))
    base = "/api/jobs/{id}";
  else if (starts("/api/styles/"))
    base = "/api/styles/{id}";
  else if (starts("/api/history/"))
    base = "/api/history/{id}";
  else if (starts("/api/"))
    return method + " /api/other";
  else
    return method + " /static";
  // keep a known suffix (/result, /events, ...)
  size_t second = path.find('/', base.size() - 4);
  if (second != std::string::npos) {
    std::string suffix = path.substr(second);
    for (const char* s : {"/events", "/result", "/preview", "/thumbnail", "/content"}) {
      if (suffix == s) return method + " " + base + s;
    }
    return method + " " + base + "/other";
  }
  return method + " " + base;
}

}  // namespace pastiche::service
