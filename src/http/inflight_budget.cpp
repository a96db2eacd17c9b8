#include "http/inflight_budget.h"

namespace pastiche::http {

InflightBudget::InflightBudget(int64_t total, int64_t per_address)
    : total_(total), per_address_(per_address) {}

bool InflightBudget::try_take(const std::string& address, int64_t bytes) {
  std::lock_guard lock(mutex_);
  int64_t& mine = by_address_[address];
  if ((total_ > 0 && held_ + bytes > total_) || (per_address_ > 0 && mine + bytes > per_address_)) {
    if (mine == 0) by_address_.erase(address);
    return false;
  }
  mine += bytes;
  held_ += bytes;
  return true;
}

void InflightBudget::take(const std::string& address, int64_t bytes) {
  std::lock_guard lock(mutex_);
  by_address_[address] += bytes;
  held_ += bytes;
}

void InflightBudget::give_back(const std::string& address, int64_t bytes) {
  std::lock_guard lock(mutex_);
  auto it = by_address_.find(address);
  if (it != by_address_.end()) {
    it->second -= bytes;
    if (it->second <= 0) by_address_.erase(it);
  }
  held_ -= bytes;
}

bool InflightBudget::full(const std::string& address) const {
  std::lock_guard lock(mutex_);
  if (total_ > 0 && held_ >= total_) return true;
  if (per_address_ <= 0) return false;
  auto it = by_address_.find(address);
  return it != by_address_.end() && it->second >= per_address_;
}

int64_t InflightBudget::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

void Reservation::bind(InflightBudget* budget, std::string address) {
  budget_ = budget;
  address_ = std::move(address);
}

bool Reservation::try_take(int64_t bytes) {
  if (!budget_ || bytes <= 0) return true;
  if (!budget_->try_take(address_, bytes)) return false;
  bytes_ += bytes;
  return true;
}

void Reservation::take(int64_t bytes) {
  if (!budget_ || bytes <= 0) return;
  budget_->take(address_, bytes);
  bytes_ += bytes;
}

void Reservation::release() {
  if (budget_ && bytes_ > 0) budget_->give_back(address_, bytes_);
  bytes_ = 0;
}

}  // namespace pastiche::http
