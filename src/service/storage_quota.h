// The disk quota as the service applies it: after every job (the worker) and before storing
// anything a client sends (the API): a submit's photo and its job's result, an uploaded painting.
// The rules themselves (what may expire, what a reservation is) are store/quota.h's. With
// PostgreSQL the image store is shared, so the quota counts every node's images and reservations.
#pragma once
#include <spdlog/logger.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "store/image_store.h"
#include "store/job_store.h"
#include "store/quota.h"

namespace pastiche::service {

// Thrown by StorageQuota::reserve() when the quota cannot fit another job (HTTP 507).
struct StorageFull : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class StorageQuota {
 public:
  // Bytes promised until the caller's images are stored; released when it goes out of scope
  // unless kept for the job those images belong to. Does nothing when there is no quota.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation() { release(); }
    // The images are stored and the job queued: `bytes` (its output) stay reserved while the
    // job is queued or running.
    void keep_for_job(int64_t bytes);
    void release();  // the images are stored (they count themselves now) or were not

   private:
    friend class StorageQuota;
    Reservation(QuotaReservations* ledger, std::string id) : ledger_(ledger), id_(std::move(id)) {}
    QuotaReservations* ledger_ = nullptr;
    std::string id_;
  };

  // max_bytes <= 0: no quota. on_expire runs after each job that expired (forget its events).
  // `reservations`: the stores' (shared by every node with PostgreSQL); null: this object's own,
  // in the process.
  StorageQuota(JobStore& jobs, ImageStore& images, int64_t max_bytes, int keep_min_minutes,
               std::shared_ptr<spdlog::logger> log,
               std::function<void(const JobRecord&)> on_expire = {},
               QuotaReservations* reservations = nullptr);

  // Expires the oldest finished jobs until the store and its reservations fit, leaving
  // `headroom` bytes free.
  void enforce(int64_t headroom = 0);
  // Reserves `bytes` for what `id` (a new job or upload) is about to store, expiring old jobs
  // to make room if needed, or throws StorageFull; `what` names it in the message ("another
  // job", "this painting").
  [[nodiscard]] Reservation reserve(const std::string& id, int64_t bytes,
                                    const std::string& what = "another job");

  int64_t max_bytes() const { return max_bytes_; }

 private:
  JobStore& jobs_;
  ImageStore& images_;
  int64_t max_bytes_;
  int keep_min_minutes_;
  std::shared_ptr<spdlog::logger> log_;
  std::function<void(const JobRecord&)> on_expire_;
  std::unique_ptr<QuotaReservations> own_reservations_;
  QuotaReservations* reservations_;
  std::mutex mutex_;
};

}  // namespace pastiche::service
