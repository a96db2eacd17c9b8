// Internal to http/: the bytes that requests in flight may hold (bodies being received, in memory
// or spilled to a temporary file, and responses not yet sent), in all and per client address.
// A request reserves its body's size from its head (Content-Length) or chunk by chunk, and a
// response its body's size once the handler has produced it; both are given back when the
// request completes. A request that cannot reserve is answered 503 + Retry-After, so a flood of
// large or slow uploads costs at most the budget, whatever the number of connections.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pastiche::http {

class InflightBudget {
 public:
  // total <= 0: no bound; per_address <= 0: no bound per address.
  InflightBudget(int64_t total, int64_t per_address);

  // Adds `bytes` to what `address` holds; false (and nothing taken) when that would exceed the
  // budget in all or the address's share.
  bool try_take(const std::string& address, int64_t bytes);
  // Adds `bytes` even beyond the budget (a response already produced); later requests wait.
  void take(const std::string& address, int64_t bytes);
  void give_back(const std::string& address, int64_t bytes);
  // Nothing more fits, in all or for `address`: even a request without a body would only add a
  // response to what is already held.
  bool full(const std::string& address) const;

  int64_t held() const;

 private:
  const int64_t total_, per_address_;
  mutable std::mutex mutex_;
  int64_t held_ = 0;
  std::unordered_map<std::string, int64_t> by_address_;
};

// What one request holds of the budget; gives it back when destroyed.
class Reservation {
 public:
  Reservation() = default;
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
  ~Reservation() { release(); }

  void bind(InflightBudget* budget, std::string address);
  bool try_take(int64_t bytes);
  void take(int64_t bytes);
  void release();
  int64_t bytes() const { return bytes_; }

 private:
  InflightBudget* budget_ = nullptr;
  std::string address_;
  int64_t bytes_ = 0;
};

}  // namespace pastiche::http
