#include "store/pg_quota_reservations.h"

#include "store/pg_connection.h"

namespace pastiche {

namespace {

// Held for a job that is no longer queued or running (or was deleted), or pending too long.
constexpr const char* kStale =
    "CASE WHEN r.for_job THEN NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.id AND "
    "j.status IN ('queued', 'running')) ELSE r.created_ms < $1 END";

// Only try_reserve deletes stale rows, under the usage row's lock: two deletions of the same
// rows never wait for each other in opposite orders.
void drop_stale(pqxx::work& tx, int64_t now_ms) {
  tx.exec_params(std::string("DELETE FROM quota_reservations r WHERE ") + kStale,
                 now_ms - kPendingReservationMs);
}

int64_t sum_reserved(pqxx::work& tx) {
  return tx.exec1("SELECT COALESCE(SUM(bytes), 0)::BIGINT FROM quota_reservations")[0]
      .as<int64_t>();
}

}  // namespace

bool PgQuotaReservations::try_reserve(const std::string& id, int64_t bytes, int64_t max_bytes,
                                      int64_t now_ms) {
  return db_.transact([&](pqxx::work& tx) {
    // The usage row's lock orders this with every other node's reservation: each sees the rows
    // of those before it (committed before the lock was released) and the total as it is.
    const auto stored =
        tx.exec1("SELECT total_bytes FROM image_usage WHERE id = 1 FOR UPDATE")[0].as<int64_t>();
    drop_stale(tx, now_ms);
    if (stored + sum_reserved(tx) + bytes > max_bytes) return false;
    tx.exec_params(
        "INSERT INTO quota_reservations (id, bytes, for_job, created_ms) VALUES ($1, $2, false, "
        "$3) ON CONFLICT (id) DO UPDATE SET bytes = EXCLUDED.bytes, for_job = false, "
        "created_ms = EXCLUDED.created_ms",
        id, bytes, now_ms);
    return true;
  });
}

void PgQuotaReservations::hold_for_job(const std::string& id, int64_t bytes) {
  db_.autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_params("UPDATE quota_reservations SET bytes = $2, for_job = true WHERE id = $1", id,
                   bytes);
  });
}

void PgQuotaReservations::release(const std::string& id) {
  db_.autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_params("DELETE FROM quota_reservations WHERE id = $1", id);
  });
}

int64_t PgQuotaReservations::reserved_bytes(int64_t now_ms) {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx
        .exec_params1(std::string("SELECT COALESCE(SUM(bytes), 0)::BIGINT FROM "
                                  "quota_reservations r WHERE NOT (") +
                          kStale + ")",
                      now_ms - kPendingReservationMs)[0]
        .as<int64_t>();
  });
}

}  // namespace pastiche
