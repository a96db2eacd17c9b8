// Event streams that wait without a thread: when a source has nothing to send, its connection
// is suspended in libmicrohttpd's event loop; the source's wake function resumes it. The
// registry also ends every stream with its last message when the server drains, and wakes them
// all now and then so sources can send keep-alives (and dead peers are noticed).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>

#include "http/message.h"

struct MHD_Connection;

namespace pastiche::http {

class StreamRegistry {
 public:
  struct Link;

  // Registers a stream on `connection`; returns the closure for read() and release().
  void* open(MHD_Connection* connection, std::shared_ptr<StreamSource> source);
  // libmicrohttpd's content reader and its free callback.
  static ssize_t read(void* closure, uint64_t pos, char* buf, size_t max);
  static void release(void* closure);

  void drain_all();  // last messages appended, every stream ends
  void wake_all();   // and forgets the closed ones
  int64_t open_count() const;

 private:
  static void wake(Link& link);

  mutable std::mutex mutex_;
  std::set<std::shared_ptr<Link>> links_;
};

}  // namespace pastiche::http
