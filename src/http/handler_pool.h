// The threads that run route handlers. Bounded: when every thread is busy and the waiting line
// is full, post() refuses at once (the server answers 503) instead of queueing without end.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pastiche::http {

class HandlerPool {
 public:
  HandlerPool(int threads, size_t max_waiting);
  ~HandlerPool();  // stop()
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  // False when the waiting line is full or the pool has stopped.
  bool post(std::function<void()> task);
  // Runs what is already waiting, then joins the threads.
  void stop();
  size_t waiting();

 private:
  void run();

  size_t max_waiting_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace pastiche::http
