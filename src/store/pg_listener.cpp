#include "store/pg_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>
#include <utility>

#include "store/pg_connection.h"

namespace pastiche {

namespace {

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection& c, const std::string& channel, const PgListener::Handler& handler)
      : pqxx::notification_receiver(c, channel), handler_(handler) {}
  void operator()(const std::string& payload, int) override { handler_(channel(), payload); }

 private:
  const PgListener::Handler& handler_;
};

constexpr int kIdlePingMs = 2000;  // a quiet connection is checked this often
constexpr int kMaxPauseMs = 5000;  // the longest wait between reconnection attempts

}  // namespace

PgListener::PgListener(std::string url, std::vector<std::string> channels, Handler on_notify,
                       std::function<void()> on_connect, std::chrono::milliseconds connect_wait)
    : url_(std::move(url)),
      channels_(std::move(channels)),
      on_notify_(std::move(on_notify)),
      on_connect_(std::move(on_connect)) {
  if (pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error("PostgreSQL listener: cannot create a pipe");
  }
  thread_ = std::thread([this] { loop(); });
  wait_connected(connect_wait);
}

PgListener::~PgListener() {
  stop_ = true;
  char byte = 1;
  [[maybe_unused]] auto written = write(wake_fds_[1], &byte, 1);
  connected_.notify_all();
  if (thread_.joinable()) thread_.join();
  close(wake_fds_[0]);
  close(wake_fds_[1]);
}

bool PgListener::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return connected_.wait_for(lock, timeout, [&] { return pid_.load() != 0 || stop_.load(); }) &&
         pid_.load() != 0;
}

void PgListener::pause(std::chrono::milliseconds duration) {
  pollfd fd{wake_fds_[0], POLLIN, 0};
  poll(&fd, 1, static_cast<int>(duration.count()));
}

void PgListener::loop() {
  std::unique_ptr<pqxx::connection> conn;
  std::vector<std::unique_ptr<Receiver>> receivers;
  auto drop = [&] {
    receivers.clear();
    conn.reset();
    pid_ = 0;
  };
  int pause_ms = 100;
  int empty_reads = 0;
  while (!stop_) {
    if (!conn) {
      try {
        conn = std::make_unique<pqxx::connection>(with_connect_timeout(url_));
        for (const auto& channel : channels_) {
          receivers.push_back(std::make_unique<Receiver>(*conn, channel, on_notify_));
        }
        {
          std::lock_guard lock(mutex_);
          pid_ = conn->backendpid();
        }
        connected_.notify_all();
        pause_ms = 100;
        empty_reads = 0;
        on_connect_();  // anything sent while disconnected was lost
      } catch (const std::exception&) {
        drop();
        pause(std::chrono::milliseconds(pause_ms));
        pause_ms = std::min(pause_ms * 2, kMaxPauseMs);
        continue;
      }
    }
    pollfd fds[2] = {{conn->sock(), POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
    int ready = poll(fds, 2, kIdlePingMs);
    if (stop_ || (fds[1].revents & POLLIN)) break;
    try {
      // A quiet connection, or one that keeps waking us with nothing to deliver (closed by the
      // server), is checked with a round trip: a dead one throws.
      if (ready == 0 || empty_reads >= 3) {
        pqxx::nontransaction ping(*conn);
        ping.exec("SELECT 1");
        ping.commit();
        empty_reads = 0;
      }
      int delivered = conn->get_notifs();
      if (!conn->is_open()) throw pqxx::broken_connection("listener connection closed");
      if (ready > 0) empty_reads = delivered > 0 ? 0 : empty_reads + 1;
    } catch (const std::exception&) {
      drop();
    }
  }
  drop();
}

}  // namespace pastiche
