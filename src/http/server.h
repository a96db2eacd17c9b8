// The HTTP/1.1 server under the service: libmicrohttpd's event loop (epoll) reads requests and
// writes responses on a few network threads, so a connection costs memory, not a thread; a
// bounded pool of handler threads runs the routes once a request has been read completely.
//
// What one client can hold is bounded by deadlines and counts, not by thread count:
// - the request head must arrive within `header_timeout` of the connection (or of the previous
//   response on a keep-alive connection), the body within `body_timeout` of the head: a
//   byte-a-second trickle is cut at the deadline, however steady;
// - connections per address and in all are capped (the kernel's accept queue holds the rest);
// - above `pressure_fraction` of the cap, idle keep-alive connections are closed; above 95 %,
//   the heads waiting longest are cut down to 90 %, so a new client always finds a slot;
// - event streams wait suspended (no thread) and are woken when there is something to send.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/message.h"
#include "http/router.h"

namespace pastiche::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port
  int handler_threads = 16;
  size_t max_waiting_requests = 1024;  // read but not yet handled; beyond: 503
  int network_threads = 2;
  int max_connections = 4096;
  int max_connections_per_ip = 64;            // 0 = no limit (behind a reverse proxy)
  int64_t max_body_bytes = 21 * 1024 * 1024;  // a multipart/form-data body; beyond: 413
  // Paths (exact) whose multipart bodies may be larger: several uploads in one request. Their
  // file parts beyond spill_bytes stay in their temporary files until the handler reads each
  // (FilePart::file), so the body is never in memory at once; it counts in the in-flight budget.
  std::map<std::string, int64_t> max_body_bytes_by_path;
  // Any other body (URL-encoded, JSON) is parsed in memory: it has a small limit of its own.
  int64_t max_form_bytes = 256 * 1024;
  size_t max_form_fields = 256;  // fields of a form body or parts of a multipart one; beyond: 400
  // Request bodies being received and responses not yet sent, held by all requests together and
  // by one client address (0 = no limit; off behind a proxy); beyond: 503 + Retry-After.
  int64_t max_inflight_bytes = 1024LL * 1024 * 1024;
  int64_t max_inflight_bytes_per_ip = 256LL * 1024 * 1024;
  size_t spill_bytes = 256 * 1024;  // a multipart part beyond this is received into a temp file
  std::string spill_dir;            // where; "" = $TMPDIR or /tmp
  // Paths answered even while the budget is full (health checks: their answers are tiny).
  std::vector<std::string> always_served = {"/healthz"};
  // A response must be sent within send_timeout_s + its size / min_send_rate (bytes/s).
  double send_timeout_s = 20;
  double min_send_rate = 64 * 1024;
  // Called (on the sweeper thread) once requests that held many bytes have completed, to hand
  // freed memory back to the system (e.g. tcmalloc's release); none when empty.
  std::function<void()> release_memory;
  size_t max_head_bytes = 64 * 1024;  // request line + headers; beyond: 431
  size_t max_path_bytes = 4096;       // beyond: 414
  double header_timeout_s = 10;
  double body_timeout_s = 120;
  double idle_timeout_s = 60;  // nothing sent or received while a response is written
  double keep_alive_idle_s = 5;
  double pressure_fraction = 0.75;
  double stream_wake_s = 5;  // streams are polled at least this often (keep-alive comments)
};

struct ServerStats {
  int64_t connections = 0;       // open now
  int64_t streams = 0;           // event streams open now
  int64_t waiting_requests = 0;  // read, waiting for a handler thread
  int64_t cut_slow = 0;          // connections closed for missing a deadline, since start
  int64_t reclaimed_idle = 0;    // keep-alive connections closed under pressure, since start
  int64_t refused_busy = 0;      // 503 because every handler thread was busy, since start
  int64_t inflight_bytes = 0;    // request and response bodies held now
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Router& routes();
  // Runs before routing, on the handler thread; true = the response is complete.
  void set_pre_routing(std::function<bool(const Request&, Response&)> hook);
  // A route threw: fill in the response (the default answers 500).
  void set_exception_handler(std::function<void(const Request&, Response&, std::exception_ptr)> f);
  // No route matched: fill in the response (the default answers 404).
  void set_not_found_handler(Handler f);
  // Called after every response has been produced (not after it was sent), with its duration.
  void set_logger(std::function<void(const Request&, const Response&, double seconds)> f);
  // Added to every response that does not set them itself.
  void set_default_headers(Headers headers);
  // Runs for each request that arrives while draining; true = answered (the default answers
  // 503 + Retry-After), false = route it as usual (e.g. a health check that reports the drain).
  void set_draining_handler(std::function<bool(const Request&, Response&)> f);

  // Binds and serves on background threads; returns the port. Throws when it cannot listen.
  int start();
  int port() const;
  // From now on new requests get the draining response and open streams get their last
  // message and end. Connections stay open until stop().
  void drain();
  bool draining() const;
  // Drains (if not yet), lets handlers in flight finish, then closes every connection.
  void stop();
  ServerStats stats() const;

  // Routing and handling for a request already read, with the same hooks and default headers:
  // what the network path does, without sockets (tests, fuzzing). Never throws.
  Response handle(Request req) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pastiche::http
