// Disk quota: frees the image store by expiring the oldest finished jobs: their files are
// removed and the row stays (status expired), so the owner sees what happened in the history.
// Never touched: queued and running jobs, jobs finished less than `keep_ms` ago, and done jobs
// whose result has not been downloaded yet.
//
// Bytes not stored yet but promised (a submit's photo and its job's result, an uploaded
// painting) are reservations: the quota counts them beside the stored bytes, and taking one is a
// single atomic step against every other (every node's, with PostgreSQL), so concurrent submits
// cannot all pass the check and then store more than the quota between them.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "store/image_store.h"
#include "store/job_files.h"
#include "store/job_store.h"

namespace pastiche {

// Returns the ids expired. max_bytes <= 0 disables the quota. `on_expire` runs after each job
// has expired (the service uses it to forget in-memory state).
std::vector<std::string> enforce_quota(JobStore& jobs, ImageStore& images, int64_t max_bytes,
                                       int64_t now_ms, int64_t keep_ms,
                                       const std::function<void(const JobRecord&)>& on_expire = {});

// A reservation not yet held for a job (the request that took it is still storing its images)
// lapses after this long: only a process that died mid-request leaves one behind.
constexpr int64_t kPendingReservationMs = 10 * 60 * 1000;

class QuotaReservations {
 public:
  virtual ~QuotaReservations() = default;
  // In one step, atomic with every other reservation and image change of the store: drops stale
  // reservations, then records `bytes` under `id` (a new job's or upload's id) if the stored
  // bytes + every reservation + `bytes` fit in `max_bytes`. False (nothing recorded) otherwise.
  virtual bool try_reserve(const std::string& id, int64_t bytes, int64_t max_bytes,
                           int64_t now_ms) = 0;
  // `id`'s images are stored and its job queued: the reservation now stands for the job's output
  // only, `bytes`, and lasts while the job is queued or running (no later than its result).
  virtual void hold_for_job(const std::string& id, int64_t bytes) = 0;
  virtual void release(const std::string& id) = 0;
  // Every reservation's bytes, stale ones dropped first: those held for a job that is no longer
  // queued or running (or gone), and pending ones older than kPendingReservationMs.
  virtual int64_t reserved_bytes(int64_t now_ms) = 0;
};

// In the process: for the embedded store, used by one process only (its data directory's lock).
class MemoryQuotaReservations : public QuotaReservations {
 public:
  MemoryQuotaReservations(JobStore& jobs, ImageStore& images) : jobs_(jobs), images_(images) {}
  bool try_reserve(const std::string& id, int64_t bytes, int64_t max_bytes,
                   int64_t now_ms) override;
  void hold_for_job(const std::string& id, int64_t bytes) override;
  void release(const std::string& id) override;
  int64_t reserved_bytes(int64_t now_ms) override;

 private:
  struct Entry {
    int64_t bytes = 0;
    int64_t created_ms = 0;
    bool for_job = false;
  };
  int64_t drop_stale_locked(int64_t now_ms);  // returns the bytes still reserved
  JobStore& jobs_;
  ImageStore& images_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace pastiche
