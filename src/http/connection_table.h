// The open connections and the deadline each one is held to, so that no client can keep a
// connection by sending slowly: a whole request head within header_timeout of connecting (or of
// the previous response), a whole body within body_timeout. Above pressure_fraction of
// max_connections, idle keep-alive connections are closed and the head deadline shortens.
// A late connection is shut down (shutdown(2)); the event loop then sees it end and closes it.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>

namespace pastiche::http {

struct Deadlines {
  double header_timeout_s = 10;
  double body_timeout_s = 120;
  double keep_alive_idle_s = 5;
  double pressure_fraction = 0.75;
  int max_connections = 4096;
};

class ConnectionTable {
 public:
  enum class Phase { head, body, busy, stream };  // busy and stream have no deadline here
  struct Entry;

  Entry* open(int fd);
  // Must run before the descriptor is closed: the sweeper then never shuts down a reused one.
  void close(Entry* entry);
  void set_phase(Entry* entry, Phase phase);
  void request_done(Entry* entry);  // back to waiting for the next head (keep-alive)

  void cut_late(const Deadlines& deadlines);
  int64_t open_count() const;
  int64_t cut_slow() const { return cut_slow_; }
  int64_t reclaimed_idle() const { return reclaimed_idle_; }

 private:
  mutable std::mutex mutex_;
  std::set<Entry*> entries_;
  std::atomic<int64_t> cut_slow_{0}, reclaimed_idle_{0};
};

}  // namespace pastiche::http
