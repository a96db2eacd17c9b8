#include "service/storage_quota.h"

#include <algorithm>
#include <utility>

#include "service/ids.h"
#include "store/quota.h"

namespace pastiche::service {

StorageQuota::Reservation::Reservation(Reservation&& other) noexcept
    : ledger_(std::exchange(other.ledger_, nullptr)), id_(std::move(other.id_)) {}

StorageQuota::Reservation& StorageQuota::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    release();
    ledger_ = std::exchange(other.ledger_, nullptr);
    id_ = std::move(other.id_);
  }
  return *this;
}

void StorageQuota::Reservation::keep_for_job(int64_t bytes) {
  auto* ledger = std::exchange(ledger_, nullptr);
  if (!ledger) return;
  try {
    ledger->hold_for_job(id_, bytes);
  } catch (const std::exception&) {
    // The job is queued already; the reservation, still pending, lapses on its own
    // (kPendingReservationMs): too large a while, never too small.
  }
}

void StorageQuota::Reservation::release() {
  auto* ledger = std::exchange(ledger_, nullptr);
  if (!ledger) return;
  try {
    ledger->release(id_);
  } catch (const std::exception&) {
    // As above: it lapses on its own.
  }
}

StorageQuota::StorageQuota(JobStore& jobs, ImageStore& images, int64_t max_bytes,
                           int keep_min_minutes, std::shared_ptr<spdlog::logger> log,
                           std::function<void(const JobRecord&)> on_expire,
                           QuotaReservations* reservations)
    : jobs_(jobs),
      images_(images),
      max_bytes_(max_bytes),
      keep_min_minutes_(keep_min_minutes),
      log_(std::move(log)),
      on_expire_(std::move(on_expire)) {
  if (!reservations) {
    own_reservations_ = std::make_unique<MemoryQuotaReservations>(jobs_, images_);
    reservations = own_reservations_.get();
  }
  reservations_ = reservations;
}

void StorageQuota::enforce(int64_t headroom) {
  if (max_bytes_ <= 0) return;
  std::lock_guard lock(mutex_);
  const int64_t now = now_ms();
  const int64_t keep_ms = static_cast<int64_t>(keep_min_minutes_) * 60 * 1000;
  const int64_t reserved = reservations_->reserved_bytes(now);
  const int64_t target = std::max<int64_t>(1, max_bytes_ - reserved - headroom);
  auto expired = pastiche::enforce_quota(jobs_, images_, target, now, keep_ms, on_expire_);
  if (!expired.empty()) {
    log_->info("disk quota: expired {} oldest finished job(s), store now {} bytes ({} reserved)",
               expired.size(), images_.total_bytes(), reserved);
  }
}

StorageQuota::Reservation StorageQuota::reserve(const std::string& id, int64_t need,
                                                const std::string& what) {
  if (max_bytes_ <= 0) return {};
  if (reservations_->try_reserve(id, need, max_bytes_, now_ms())) return {reservations_, id};
  enforce(need);
  if (reservations_->try_reserve(id, need, max_bytes_, now_ms())) return {reservations_, id};
  throw StorageFull("storage full: the server keeps recent and not yet downloaded results for " +
                    std::to_string(keep_min_minutes_) + " minutes and has no room for " + what +
                    " now; download your results or try again later");
}

}  // namespace pastiche::service
