// Caps on open event streams per client token and per address, so one client cannot hold
// thousands of streams. A slot is held for the life of a stream and given back when it ends.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace pastiche::service {

class StreamSlots {
 public:
  StreamSlots(int per_client, int per_ip) : per_client_(per_client), per_ip_(per_ip) {}

  // Gives the slot back on destruction.
  class Slot {
   public:
    Slot(StreamSlots* owner, std::string client, std::string ip);
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    StreamSlots* owner_;
    std::string client_, ip_;
  };

  // A slot, or null when the client or the address already holds its limit.
  std::unique_ptr<Slot> acquire(const std::string& client, const std::string& ip);
  int open();

 private:
  void release(const std::string& client, const std::string& ip);

  int per_client_, per_ip_;
  std::mutex mutex_;
  std::map<std::string, int> by_client_, by_ip_;
  int open_ = 0;
};

}  // namespace pastiche::service
