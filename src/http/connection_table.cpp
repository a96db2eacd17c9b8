#include "http/connection_table.h"

#include <sys/socket.h>

#include <algorithm>

namespace pastiche::http {

using Clock = std::chrono::steady_clock;

struct ConnectionTable::Entry {
  int fd = -1;
  Phase phase = Phase::head;
  Clock::time_point since = Clock::now();
  int served = 0;  // requests completed on this connection
  bool cut = false;
};

ConnectionTable::Entry* ConnectionTable::open(int fd) {
  auto* e = new Entry();
  e->fd = fd;
  std::lock_guard lock(mutex_);
  entries_.insert(e);
  return e;
}

void ConnectionTable::close(Entry* entry) {
  if (!entry) return;
  {
    std::lock_guard lock(mutex_);
    entries_.erase(entry);
  }
  delete entry;
}

void ConnectionTable::set_phase(Entry* entry, Phase phase) {
  if (!entry) return;
  std::lock_guard lock(mutex_);
  entry->phase = phase;
  entry->since = Clock::now();
}

void ConnectionTable::request_done(Entry* entry) {
  if (!entry) return;
  std::lock_guard lock(mutex_);
  entry->phase = Phase::head;
  entry->since = Clock::now();
  entry->served += 1;
}

int64_t ConnectionTable::open_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<int64_t>(entries_.size());
}

void ConnectionTable::cut_late(const Deadlines& d) {
  std::lock_guard lock(mutex_);
  bool pressure = static_cast<double>(entries_.size()) > d.pressure_fraction * d.max_connections;
  double head_limit = pressure ? std::min(2.0, d.header_timeout_s) : d.header_timeout_s;
  double keep_alive = pressure ? 0.5 : d.keep_alive_idle_s;
  auto now = Clock::now();
  for (Entry* e : entries_) {
    if (e->cut || e->fd < 0) continue;
    double age = std::chrono::duration<double>(now - e->since).count();
    bool late = false;
    bool idle = false;
    if (e->phase == Phase::head) {
      // A kept-alive connection between requests: reclaimed after a short idle time.
      idle = e->served > 0 && age > keep_alive;
      late = idle || age > head_limit;
    } else if (e->phase == Phase::body) {
      late = age > d.body_timeout_s;
    }
    if (!late) continue;
    e->cut = true;
    ::shutdown(e->fd, SHUT_RDWR);
    if (!idle) {
      cut_slow_++;
    } else if (pressure) {
      reclaimed_idle_++;
    }
  }
}

}  // namespace pastiche::http
