#include "http/server.h"

#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "http/connection_table.h"
#include "http/exchange.h"
#include "http/handler_pool.h"
#include "http/stream_registry.h"

namespace pastiche::http {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kReleaseAfterBytes = 16 * 1024 * 1024;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void raise_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  rlim_t want = std::min<rlim_t>(lim.rlim_max, 65536);
  if (lim.rlim_cur < want) {
    lim.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Router router;
  std::function<bool(const Request&, Response&)> pre_routing;
  std::function<void(const Request&, Response&, std::exception_ptr)> on_exception;
  Handler not_found;
  std::function<bool(const Request&, Response&)> on_draining;
  std::function<void(const Request&, const Response&, double)> logger;
  Headers default_headers;

  MHD_Daemon* daemon = nullptr;
  int port = -1;
  std::unique_ptr<HandlerPool> pool;
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};

  ConnectionTable connections;
  StreamRegistry streams;
  std::unique_ptr<InflightBudget> budget;
  std::atomic<int64_t> refused_busy{0};
  std::atomic<int64_t> freed_since_release{0};  // bytes of completed requests since the release

  std::thread sweeper;
  std::mutex sweeper_mutex;
  std::condition_variable sweeper_cv;
  bool sweeper_stop = false;

  // ---- handling (no sockets) ----

  void finish_headers(Response& res) const {
    for (const auto& [k, v] : default_headers) {
      if (!res.has_header(k)) res.headers.emplace(k, v);
    }
  }

  void handle(Request& req, Response& res) const {
    auto start = Clock::now();
    try {
      if (draining && on_draining(req, res)) {
        // answered for the drain
      } else if (!pre_routing || !pre_routing(req, res)) {
        if (!router.dispatch(req, res)) not_found(req, res);
      }
    } catch (...) {
      res = Response();
      try {
        on_exception(req, res, std::current_exception());
      } catch (...) {
        res = Response();
        res.status = 500;
        res.set_content(R"({"error":"internal error"})", "application/json");
      }
    }
    finish_headers(res);
    if (logger) {
      try {
        logger(req, res, seconds_since(start));
      } catch (...) {
      }
    }
  }

  // ---- libmicrohttpd callbacks ----

  static void on_connection(void* cls, MHD_Connection* connection, void** socket_context,
                            MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<Impl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      *socket_context = self->connections.open(info ? info->connect_fd : -1);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
      // Called before the socket is closed.
      self->connections.close(static_cast<ConnectionTable::Entry*>(*socket_context));
      *socket_context = nullptr;
    }
  }

  static void on_completed(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    auto* self = static_cast<Impl*>(cls);
    auto* rs = static_cast<RequestState*>(*con_cls);
    if (rs) {
      self->connections.request_done(rs->conn);
      self->freed_since_release += rs->budget.bytes();
    }
    delete rs;
    *con_cls = nullptr;
  }

  // libmicrohttpd's URL decoding, with escaped control characters refused (see unescape_url).
  static size_t on_unescape(void* cls, MHD_Connection* connection, char* s) {
    bool bad = false;
    size_t n = unescape_url(s, &bad);
    if (bad) {
      const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
      if (info) {
        static_cast<Impl*>(cls)->connections.mark_bad_url(
            static_cast<ConnectionTable::Entry*>(info->socket_context));
      }
    }
    return n;
  }

  MHD_Result queue(MHD_Connection* connection, RequestState& rs) {
    if (rs.res.stream) {
      connections.set_phase(rs.conn, ConnectionTable::Phase::stream);
    } else {
      connections.sending(rs.conn, static_cast<int64_t>(rs.res.body.size()));
    }
    MHD_Response* response = make_response(connection, rs.res, streams);
    if (!response) return MHD_NO;
    MHD_Result ok = MHD_queue_response(connection, static_cast<unsigned>(rs.res.status), response);
    MHD_destroy_response(response);
    return ok;
  }

  static MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url,
                               const char* method, const char*, const char* upload,
                               size_t* upload_size, void** con_cls) {
    auto* self = static_cast<Impl*>(cls);
    auto* rs = static_cast<RequestState*>(*con_cls);
    if (!rs) {
      rs = new RequestState();
      *con_cls = rs;
      return self->begin(connection, url, method, *rs);
    }
    if (*upload_size > 0) {
      read_body(*rs, upload, *upload_size);
      *upload_size = 0;
      return MHD_YES;
    }
    if (rs->ready) return self->queue(connection, *rs);
    if (rs->dispatched) return MHD_YES;  // spurious call while the handler runs
    return self->dispatch(connection, *rs);
  }

  MHD_Result begin(MHD_Connection* connection, const char* url, const char* method,
                   RequestState& rs) {
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    rs.conn = info ? static_cast<ConnectionTable::Entry*>(info->socket_context) : nullptr;
    connections.set_phase(rs.conn, ConnectionTable::Phase::body);
    const bool bad_url = connections.take_bad_url(rs.conn);
    const Refusal refusal = read_head(connection, url, method, options, *budget, bad_url, rs);
    if (refusal.status == 0) return MHD_YES;
    rs.res = Response();
    rs.res.status = refusal.status;
    rs.res.set_content("{\"error\":\"" + refusal.message + "\"}", "application/json");
    rs.res.set_header("Connection", "close");
    if (refusal.retry_after_s > 0) {
      rs.res.set_header("Retry-After", std::to_string(refusal.retry_after_s));
    }
    finish_headers(rs.res);
    if (logger) logger(rs.req, rs.res, 0);
    rs.ready = true;
    rs.dispatched = true;
    return queue(connection, rs);
  }

  MHD_Result dispatch(MHD_Connection* connection, RequestState& rs) {
    rs.dispatched = true;
    connections.set_phase(rs.conn, ConnectionTable::Phase::busy);
    if (rs.over_budget || rs.too_large || rs.bad_form) {
      std::string error =
          rs.over_budget ? "the server is receiving too much at once; try again "
                           "shortly"
          : rs.too_large ? "the request is too large"
          : rs.fields > options.max_form_fields
              ? "the form has more than " + std::to_string(options.max_form_fields) + " fields"
              : "malformed form body";
      rs.res.status = rs.over_budget ? 503 : rs.too_large ? 413 : 400;
      if (rs.over_budget) rs.res.set_header("Retry-After", "5");
      rs.res.set_content("{\"error\":\"" + error + "\"}", "application/json");
      finish_headers(rs.res);
      if (logger) logger(rs.req, rs.res, 0);
      rs.ready = true;
      return queue(connection, rs);
    }
    // Suspend before posting: the handler thread may finish and resume at once.
    MHD_suspend_connection(connection);
    RequestState* state = &rs;
    bool posted = pool->post([this, state, connection] {
      // Paths that take several uploads read each file part from disk when they need it.
      if (load_spilled(*state, options.max_body_bytes_by_path.count(state->req.path) > 0)) {
        handle(state->req, state->res);
      } else {
        state->res.status = 503;
        state->res.set_header("Retry-After", "5");
        state->res.set_content(R"({"error":"the upload could not be read back; try again"})",
                               "application/json");
        finish_headers(state->res);
      }
      // The body has been handled: what the request holds from now on is its response.
      state->req = Request();
      state->budget.release();
      state->budget.take(static_cast<int64_t>(state->res.body.size()));
      state->ready = true;
      MHD_resume_connection(connection);
    });
    if (!posted) {
      refused_busy++;
      rs.res.status = 503;
      rs.res.set_header("Retry-After", "1");
      rs.res.set_content(R"({"error":"the server is busy; try again shortly"})",
                         "application/json");
      finish_headers(rs.res);
      rs.ready = true;
      MHD_resume_connection(connection);
    }
    return MHD_YES;
  }

  static void log_mhd(void*, const char*, va_list) {}  // protocol noise from hostile clients

  // ---- deadlines ----

  void sweep() {
    Deadlines deadlines;
    deadlines.header_timeout_s = options.header_timeout_s;
    deadlines.body_timeout_s = options.body_timeout_s;
    deadlines.send_timeout_s = options.send_timeout_s;
    deadlines.min_send_rate = std::max(1.0, options.min_send_rate);
    deadlines.keep_alive_idle_s = options.keep_alive_idle_s;
    deadlines.pressure_fraction = options.pressure_fraction;
    deadlines.max_connections = options.max_connections;
    auto last_wake = Clock::now();
    std::unique_lock lock(sweeper_mutex);
    while (!sweeper_stop) {
      sweeper_cv.wait_for(lock, std::chrono::milliseconds(100));
      if (sweeper_stop) break;
      // A stream cut because its client left ends on its next write: wake them all now.
      const int streams_cut = connections.cut_late(deadlines);
      if (streams_cut > 0 || seconds_since(last_wake) >= options.stream_wake_s) {
        last_wake = Clock::now();
        streams.wake_all();
      }
      // After a burst of large requests, hand the freed memory back (allocators keep it).
      if (options.release_memory && freed_since_release >= kReleaseAfterBytes) {
        freed_since_release = 0;
        options.release_memory();
      }
    }
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->on_exception = [](const Request&, Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(R"({"error":"internal error"})", "application/json");
  };
  impl_->not_found = [](const Request&, Response& res) {
    res.status = 404;
    res.set_content(R"({"error":"not found"})", "application/json");
  };
  impl_->on_draining = [](const Request&, Response& res) {
    res.status = 503;
    res.set_header("Retry-After", "5");
    res.set_content(R"({"error":"the server is shutting down"})", "application/json");
    return true;
  };
}

Server::~Server() {
  stop();
}

Router& Server::routes() {
  return impl_->router;
}
void Server::set_pre_routing(std::function<bool(const Request&, Response&)> hook) {
  impl_->pre_routing = std::move(hook);
}
void Server::set_exception_handler(
    std::function<void(const Request&, Response&, std::exception_ptr)> f) {
  impl_->on_exception = std::move(f);
}
void Server::set_not_found_handler(Handler f) {
  impl_->not_found = std::move(f);
}
void Server::set_logger(std::function<void(const Request&, const Response&, double)> f) {
  impl_->logger = std::move(f);
}
void Server::set_default_headers(Headers headers) {
  impl_->default_headers = std::move(headers);
}
void Server::set_draining_handler(std::function<bool(const Request&, Response&)> f) {
  impl_->on_draining = std::move(f);
}

int Server::start() {
  auto& m = *impl_;
  if (m.daemon) return m.port;
  raise_file_limit();
  const auto& o = m.options;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string port = std::to_string(o.port);
  if (getaddrinfo(o.host.empty() ? nullptr : o.host.c_str(), port.c_str(), &hints, &found) != 0 ||
      !found) {
    throw std::runtime_error("cannot listen on " + o.host + ": not an address or host name");
  }
  sockaddr_storage addr{};
  std::memcpy(&addr, found->ai_addr, found->ai_addrlen);
  bool ipv6 = found->ai_family == AF_INET6;
  freeaddrinfo(found);

  m.pool = std::make_unique<HandlerPool>(o.handler_threads, o.max_waiting_requests);
  m.budget = std::make_unique<InflightBudget>(o.max_inflight_bytes, o.max_inflight_bytes_per_ip);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
  std::vector<MHD_OptionItem> opts = {
      {MHD_OPTION_SOCK_ADDR, 0, &addr},
      {MHD_OPTION_THREAD_POOL_SIZE, static_cast<intptr_t>(std::max(1, o.network_threads)), nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(o.max_connections), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(std::max(1.0, o.idle_timeout_s)),
       nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(o.max_head_bytes), nullptr},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&Impl::on_connection), &m},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&Impl::on_completed), &m},
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&Impl::log_mhd), nullptr},
      {MHD_OPTION_UNESCAPE_CALLBACK, reinterpret_cast<intptr_t>(&Impl::on_unescape), &m},
      {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, nullptr},
  };
  if (o.max_connections_per_ip > 0) {
    opts.push_back({MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                    static_cast<intptr_t>(o.max_connections_per_ip), nullptr});
  }
  opts.push_back({MHD_OPTION_END, 0, nullptr});
  m.daemon = MHD_start_daemon(flags, static_cast<uint16_t>(o.port), nullptr, nullptr,
                              &Impl::on_request, &m, MHD_OPTION_ARRAY, opts.data(), MHD_OPTION_END);
  if (!m.daemon) {
    m.pool.reset();
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                             " (in use? try --port)");
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(m.daemon, MHD_DAEMON_INFO_BIND_PORT);
  m.port = info ? info->port : o.port;
  m.sweeper = std::thread([&m] { m.sweep(); });
  return m.port;
}

int Server::port() const {
  return impl_->port;
}

void Server::drain() {
  auto& m = *impl_;
  m.draining = true;
  if (m.daemon) m.streams.drain_all();
}

bool Server::draining() const {
  return impl_->draining;
}

void Server::stop() {
  auto& m = *impl_;
  if (m.stopped.exchange(true)) return;
  drain();
  if (!m.daemon) return;
  // Give ended streams a moment to send their last message before connections close.
  for (int i = 0; i < 50 && m.streams.open_count() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  m.streams.drain_all();  // any stream that started meanwhile
  m.pool->stop();         // handlers in flight finish and resume their connections
  {
    std::lock_guard lock(m.sweeper_mutex);
    m.sweeper_stop = true;
  }
  m.sweeper_cv.notify_all();
  if (m.sweeper.joinable()) m.sweeper.join();
  MHD_stop_daemon(m.daemon);
  m.daemon = nullptr;
}

ServerStats Server::stats() const {
  auto& m = *impl_;
  ServerStats s;
  s.connections = m.connections.open_count();
  s.streams = m.streams.open_count();
  s.waiting_requests = m.pool ? static_cast<int64_t>(m.pool->waiting()) : 0;
  s.cut_slow = m.connections.cut_slow();
  s.reclaimed_idle = m.connections.reclaimed_idle();
  s.refused_busy = m.refused_busy;
  s.inflight_bytes = m.budget ? m.budget->held() : 0;
  return s;
}

Response Server::handle(Request req) const {
  Response res;
  impl_->handle(req, res);
  return res;
}

}  // namespace pastiche::http
