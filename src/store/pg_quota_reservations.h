// Quota reservations shared by every node of a cluster (migration 6): a row each, counted with
// the image store's total (image_usage). Taking one locks the usage row, so reservations of all
// nodes are serialised with each other and with the image changes' totals.
#pragma once
#include "store/quota.h"

namespace pastiche {

class PgDatabase;

class PgQuotaReservations : public QuotaReservations {
 public:
  explicit PgQuotaReservations(PgDatabase& db) : db_(db) {}
  bool try_reserve(const std::string& id, int64_t bytes, int64_t max_bytes,
                   int64_t now_ms) override;
  void hold_for_job(const std::string& id, int64_t bytes) override;
  void release(const std::string& id) override;
  int64_t reserved_bytes(int64_t now_ms) override;

 private:
  PgDatabase& db_;
};

}  // namespace pastiche
