#include "service/stream_slots.h"

namespace pastiche::service {

StreamSlots::Slot::Slot(StreamSlots* owner, std::string client, std::string ip)
    : owner_(owner), client_(std::move(client)), ip_(std::move(ip)) {}

StreamSlots::Slot::~Slot() {
  owner_->release(client_, ip_);
}

std::unique_ptr<StreamSlots::Slot> StreamSlots::acquire(const std::string& client,
                                                        const std::string& ip) {
  std::lock_guard lock(mutex_);
  auto held = [](const std::map<std::string, int>& counts, const std::string& key) {
    auto it = counts.find(key);
    return it == counts.end() ? 0 : it->second;
  };
  if (held(by_client_, client) >= per_client_ || held(by_ip_, ip) >= per_ip_) return nullptr;
  ++by_client_[client];
  ++by_ip_[ip];
  ++open_;
  return std::make_unique<Slot>(this, client, ip);
}

int StreamSlots::open() {
  std::lock_guard lock(mutex_);
  return open_;
}

void StreamSlots::release(const std::string& client, const std::string& ip) {
  std::lock_guard lock(mutex_);
  if (--by_client_[client] <= 0) by_client_.erase(client);
  if (--by_ip_[ip] <= 0) by_ip_.erase(ip);
  --open_;
}

}  // namespace pastiche::service
