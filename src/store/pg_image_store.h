// ImageStore in PostgreSQL (a bytea table), shared by every node of a cluster: total_bytes, and
// so the disk quota, count the images of all of them. Keys are checked as by DiskImageStore.
#pragma once
#include "store/image_store.h"

namespace pastiche {

class PgDatabase;

class PgImageStore : public ImageStore {
 public:
  explicit PgImageStore(PgDatabase& db) : db_(db) {}

  void put(const std::string& key, std::string_view bytes) override;  // one transaction
  std::optional<std::string> get(const std::string& key) override;
  bool exists(const std::string& key) override;
  void remove(const std::string& key) override;
  void remove_prefix(const std::string& prefix) override;
  int64_t total_bytes() override;

 private:
  PgDatabase& db_;
};

}  // namespace pastiche
