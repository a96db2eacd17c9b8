#include "http/connection_table.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

namespace pastiche::http {

using Clock = std::chrono::steady_clock;

struct ConnectionTable::Entry {
  int fd = -1;
  Phase phase = Phase::head;
  Clock::time_point since = Clock::now();
  int served = 0;  // requests completed on this connection
  int64_t sending = 0;
  bool cut = false;
  bool bad_url = false;
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

void ConnectionTable::sending(Entry* entry, int64_t bytes) {
  if (!entry) return;
  std::lock_guard lock(mutex_);
  entry->phase = Phase::send;
  entry->since = Clock::now();
  entry->sending = bytes;
}

void ConnectionTable::mark_bad_url(Entry* entry) {
  if (!entry) return;
  std::lock_guard lock(mutex_);
  entry->bad_url = true;
}

bool ConnectionTable::take_bad_url(Entry* entry) {
  if (!entry) return false;
  std::lock_guard lock(mutex_);
  return std::exchange(entry->bad_url, false);
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

bool peer_gone(int fd) {
  if (fd < 0) return false;
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

int ConnectionTable::cut_late(const Deadlines& d) {
  int streams_cut = 0;
  std::lock_guard lock(mutex_);
  bool pressure = static_cast<double>(entries_.size()) > d.pressure_fraction * d.max_connections;
  // Under pressure slow heads are not cut sooner: making room (below) keeps slots free, and a
  // shorter deadline only made attackers reconnect faster (thousands of cuts a second).
  double head_limit = d.header_timeout_s;
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
    } else if (e->phase == Phase::send) {
      late = age > d.send_timeout_s + static_cast<double>(e->sending) / d.min_send_rate;
    } else if (e->phase == Phase::stream && peer_gone(e->fd)) {
      e->cut = true;
      ::shutdown(e->fd, SHUT_RDWR);
      streams_cut++;
      continue;
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
  make_room(d, now);
  return streams_cut;
}

// Near the cap, slow clients that reconnect as soon as they are cut would hold every slot, and a
// new client's connection would be refused until one of them is (a second or more). Keep a tenth
// of the slots free by cutting the connections that have waited longest for their request head.
void ConnectionTable::make_room(const Deadlines& d, Clock::time_point now) {
  const auto high = static_cast<size_t>(0.95 * d.max_connections);
  const auto low = static_cast<size_t>(0.9 * d.max_connections);
  size_t open = 0;
  std::vector<Entry*> waiting;
  for (Entry* e : entries_) {
    if (e->cut || e->fd < 0) continue;
    open++;
    // Not brand-new ones: a client gets a moment to send its head.
    if (e->phase == Phase::head && now - e->since > std::chrono::milliseconds(200)) {
      waiting.push_back(e);
    }
  }
  // Hysteresis: from above 95 % down to 90 %, as connections become old enough to cut.
  if (open > high) making_room_ = true;
  if (open <= low) making_room_ = false;
  if (!making_room_) return;
  size_t excess = std::min(open - low, waiting.size());
  std::partial_sort(waiting.begin(), waiting.begin() + static_cast<std::ptrdiff_t>(excess),
                    waiting.end(), [](Entry* a, Entry* b) { return a->since < b->since; });
  for (size_t i = 0; i < excess; ++i) {
    waiting[i]->cut = true;
    ::shutdown(waiting[i]->fd, SHUT_RDWR);
    cut_slow_++;
  }
}

}  // namespace pastiche::http
