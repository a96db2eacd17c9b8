// LISTEN on a few channels from a connection of its own, on a thread of its own. Notifications
// can be lost (a dropped connection, a restart): the listener reconnects with a growing pause
// and calls on_connect after every (re)connect so that waiters re-check the database.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pastiche {

class PgListener {
 public:
  using Handler = std::function<void(const std::string& channel, const std::string& payload)>;

  // Starts listening; waits up to `connect_wait` for the first connection (a failure there is
  // not fatal: it keeps trying in the background).
  PgListener(std::string url, std::vector<std::string> channels, Handler on_notify,
             std::function<void()> on_connect,
             std::chrono::milliseconds connect_wait = std::chrono::seconds(5));
  ~PgListener();  // stops the thread at once
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // The server process of the listening connection; 0 while disconnected (tests end it to
  // check the reconnect).
  int backend_pid() const { return pid_.load(); }
  // Waits until connected (true) or `timeout` (false).
  bool wait_connected(std::chrono::milliseconds timeout);

 private:
  void loop();
  void pause(std::chrono::milliseconds duration);  // returns early when stopping

  std::string url_;
  std::vector<std::string> channels_;
  Handler on_notify_;
  std::function<void()> on_connect_;
  std::atomic<bool> stop_{false};
  std::atomic<int> pid_{0};
  int wake_fds_[2] = {-1, -1};  // a self-pipe that ends poll() on stop
  std::mutex mutex_;
  std::condition_variable connected_;
  std::thread thread_;
};

}  // namespace pastiche
