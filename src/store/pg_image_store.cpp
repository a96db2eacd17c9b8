#include "store/pg_image_store.h"

#include "store/pg_connection.h"

namespace pastiche {

namespace {

// Each change updates the usage row last, so its lock is held only from that update to the
// commit: concurrent puts of different keys (every worker stores a result per job) do not wait
// for each other's image bytes to be written. Changes of one key are serialised by the key's
// row lock or, for a key not stored yet, by an advisory lock on its hash, so the total stays
// exact.
void add_usage(pqxx::work& tx, int64_t delta) {
  if (delta != 0) {
    tx.exec_params("UPDATE image_usage SET total_bytes = total_bytes + $1 WHERE id = 1", delta);
  }
}

constexpr int kImageKeyLocks = 0x696d6773;  // "imgs": this store's advisory-lock class

void lock_key(pqxx::work& tx, const std::string& key) {
  tx.exec_params("SELECT pg_advisory_xact_lock($1, hashtext($2))", kImageKeyLocks, key);
}

// Keys are [a-z0-9._-] segments, so with the "C" collation every key under "p/" lies in
// ["p/", "p0") ('0' follows '/').
std::string range_end(const std::string& prefix_with_slash) {
  return prefix_with_slash.substr(0, prefix_with_slash.size() - 1) + "0";
}

}  // namespace

void PgImageStore::put(const std::string& key, std::string_view bytes) {
  check_image_key(key);
  const pqxx::binarystring blob(bytes.data(), bytes.size());
  const auto size = static_cast<int64_t>(bytes.size());
  db_.transact([&](pqxx::work& tx) {
    lock_key(tx, key);
    auto old = tx.exec_params("SELECT size FROM images WHERE key = $1 FOR UPDATE", key);
    const int64_t old_size = old.empty() ? 0 : old[0][0].as<int64_t>();
    tx.exec_params(
        "INSERT INTO images (key, bytes, size) VALUES ($1, $2, $3) "
        "ON CONFLICT (key) DO UPDATE SET bytes = EXCLUDED.bytes, size = EXCLUDED.size",
        key, blob, size);
    add_usage(tx, size - old_size);
  });
}

std::optional<std::string> PgImageStore::get(const std::string& key) {
  check_image_key(key);
  return db_.autocommit([&](pqxx::transaction_base& tx) -> std::optional<std::string> {
    auto rows = tx.exec_params("SELECT bytes FROM images WHERE key = $1", key);
    if (rows.empty()) return std::nullopt;
    return pqxx::binarystring(rows[0][0]).str();
  });
}

bool PgImageStore::exists(const std::string& key) {
  check_image_key(key);
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return !tx.exec_params("SELECT 1 FROM images WHERE key = $1", key).empty();
  });
}

void PgImageStore::remove(const std::string& key) {
  check_image_key(key);
  db_.transact([&](pqxx::work& tx) {
    auto gone = tx.exec_params("DELETE FROM images WHERE key = $1 RETURNING size", key);
    if (!gone.empty()) add_usage(tx, -gone[0][0].as<int64_t>());
  });
}

void PgImageStore::remove_prefix(const std::string& prefix) {
  check_image_key(prefix);
  // As on disk: "a/b/" removes what is under a/b; "a/b" removes the key a/b and what is under it.
  const bool folder = prefix.back() == '/';
  const std::string under = folder ? prefix : prefix + "/";
  db_.transact([&](pqxx::work& tx) {
    auto gone = tx.exec_params(
        "WITH gone AS (DELETE FROM images WHERE (key >= $1 AND key < $2) OR key = $3 "
        "RETURNING size) SELECT COALESCE(SUM(size), 0)::BIGINT FROM gone",
        under, range_end(under), folder ? std::string() : prefix);
    add_usage(tx, -gone[0][0].as<int64_t>());
  });
}

int64_t PgImageStore::total_bytes() {
  return db_.autocommit([&](pqxx::transaction_base& tx) {
    return tx.exec("SELECT total_bytes FROM image_usage WHERE id = 1")[0][0].as<int64_t>();
  });
}

}  // namespace pastiche
