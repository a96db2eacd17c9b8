#include "http/stream_registry.h"

#include <microhttpd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "http/connection_table.h"

namespace pastiche::http {

struct StreamRegistry::Link {
  std::mutex mutex;
  MHD_Connection* connection = nullptr;
  std::shared_ptr<StreamSource> source;
  std::string pending;
  bool suspended = false;
  bool ended = false;    // the source said so, or the server drained it
  bool drained = false;  // drain() message appended
  bool closed = false;   // the connection is gone; never resume it
};

void* StreamRegistry::open(MHD_Connection* connection, std::shared_ptr<StreamSource> source) {
  auto link = std::make_shared<Link>();
  link->connection = connection;
  link->source = std::move(source);
  {
    std::lock_guard lock(mutex_);
    links_.insert(link);
  }
  std::weak_ptr<Link> weak = link;
  link->source->attach([weak] {
    if (auto l = weak.lock()) wake(*l);
  });
  return new std::shared_ptr<Link>(link);
}

void StreamRegistry::wake(Link& link) {
  std::lock_guard lock(link.mutex);
  if (link.suspended && !link.closed) {
    link.suspended = false;
    MHD_resume_connection(link.connection);
  }
}

ssize_t StreamRegistry::read(void* closure, uint64_t, char* buf, size_t max) {
  auto& link = **static_cast<std::shared_ptr<Link>*>(closure);
  std::lock_guard lock(link.mutex);
  if (link.pending.empty() && !link.ended) {
    try {
      if (!link.source->pull(link.pending)) link.ended = true;
    } catch (...) {
      link.ended = true;
    }
  }
  if (!link.pending.empty()) {
    size_t n = std::min(max, link.pending.size());
    std::memcpy(buf, link.pending.data(), n);
    link.pending.erase(0, n);
    return static_cast<ssize_t>(n);
  }
  if (link.ended) return MHD_CONTENT_READER_END_OF_STREAM;
  // The client has gone (the sweeper found it and woke us): end now, freeing the stream's slot,
  // instead of parking until a write fails.
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(link.connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info && peer_gone(info->connect_fd)) return MHD_CONTENT_READER_END_WITH_ERROR;
  // Nothing to send: park the connection (no thread, no polling) until wake().
  link.suspended = true;
  MHD_suspend_connection(link.connection);
  return 0;
}

void StreamRegistry::release(void* closure) {
  auto* holder = static_cast<std::shared_ptr<Link>*>(closure);
  // The source goes now, not when wake_all() next prunes the link: it may hold a slot that the
  // client wants back for its next stream. Destroyed outside the lock (it may wake the link).
  std::shared_ptr<StreamSource> gone;
  {
    std::lock_guard lock((*holder)->mutex);
    (*holder)->closed = true;
    gone = std::move((*holder)->source);
  }
  gone.reset();
  delete holder;
}

void StreamRegistry::drain_all() {
  std::set<std::shared_ptr<Link>> all;
  {
    std::lock_guard lock(mutex_);
    all = links_;
  }
  for (const auto& link : all) {
    std::lock_guard lock(link->mutex);
    if (link->closed) continue;
    if (!link->drained && !link->ended) {
      try {
        link->source->drain(link->pending);
      } catch (...) {
      }
      link->drained = true;
      link->ended = true;
    }
    if (link->suspended) {
      link->suspended = false;
      MHD_resume_connection(link->connection);
    }
  }
}

void StreamRegistry::wake_all() {
  std::vector<std::shared_ptr<Link>> open;
  {
    std::lock_guard lock(mutex_);
    for (auto it = links_.begin(); it != links_.end();) {
      bool closed;
      {
        std::lock_guard l((*it)->mutex);
        closed = (*it)->closed;
      }
      if (closed) {
        it = links_.erase(it);
      } else {
        open.push_back(*it);
        ++it;
      }
    }
  }
  for (const auto& link : open) wake(*link);
}

int64_t StreamRegistry::open_count() const {
  std::lock_guard lock(mutex_);
  int64_t n = 0;
  for (const auto& link : links_) {
    std::lock_guard l(link->mutex);
    n += link->closed ? 0 : 1;
  }
  return n;
}

}  // namespace pastiche::http
