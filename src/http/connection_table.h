// The open connections and the deadline each one is held to, so that no client can keep a
// connection by sending slowly: a whole request head within header_timeout of connecting (or of
// the previous response), a whole body within body_timeout. Above pressure_fraction of
// max_connections, idle keep-alive connections are closed; above 95 %, the connections that have
// waited longest for their head are cut down to 90 %, so a new client always finds a slot.
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
  double send_timeout_s = 20;  // a response: this long plus its size / min_send_rate
  double min_send_rate = 64 * 1024;
  double keep_alive_idle_s = 5;
  double pressure_fraction = 0.75;
  int max_connections = 4096;
};

// The peer has closed its side (or the socket failed): a read would return 0 or an error.
bool peer_gone(int fd);

class ConnectionTable {
 public:
  // busy (a handler runs) has no deadline; a stream has none, but its peer closing is noticed.
  enum class Phase { head, body, busy, send, stream };
  struct Entry;

  Entry* open(int fd);
  // Must run before the descriptor is closed: the sweeper then never shuts down a reused one.
  void close(Entry* entry);
  void set_phase(Entry* entry, Phase phase);
  void sending(Entry* entry, int64_t bytes);  // Phase::send, with the response's size
  void request_done(Entry* entry);            // back to waiting for the next head (keep-alive)
  // The URL of the request being read had an escaped control character (set while libmicrohttpd
  // parses the head, taken when the request starts).
  void mark_bad_url(Entry* entry);
  bool take_bad_url(Entry* entry);

  // Shuts down late connections, and event streams whose client has gone (a closed stream
  // otherwise holds its slot until its next write). Returns the number of streams cut.
  int cut_late(const Deadlines& deadlines);
  int64_t open_count() const;
  int64_t cut_slow() const { return cut_slow_; }
  int64_t reclaimed_idle() const { return reclaimed_idle_; }

 private:
  void make_room(const Deadlines& deadlines, std::chrono::steady_clock::time_point now);

  mutable std::mutex mutex_;
  std::set<Entry*> entries_;
  bool making_room_ = false;  // above 95 % of the cap, until back at 90 %
  std::atomic<int64_t> cut_slow_{0}, reclaimed_idle_{0};
};

}  // namespace pastiche::http
