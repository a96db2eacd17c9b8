// ImageStore shared by every node of a cluster, its index and size accounting in PostgreSQL:
// total_bytes, and so the disk quota, count the images of all nodes. The bytes live in the
// database (a bytea table, the default) or, with `files_dir`, in a directory every node mounts
// (NFS, a shared volume), which takes their weight off the database server. Keys are checked as
// by DiskImageStore.
#pragma once
#include <filesystem>

#include "store/image_store.h"

namespace pastiche {

class PgDatabase;

class PgImageStore : public ImageStore {
 public:
  // With a `files_dir`, checks that it is the cluster's image directory: the first node to use
  // one writes the cluster's mark into it; a node whose directory lacks the mark while the
  // database counts files there, or whose database keeps the bytes itself, is refused
  // (std::runtime_error saying what to change) instead of writing where others cannot read.
  explicit PgImageStore(PgDatabase& db, std::filesystem::path files_dir = {});

  void put(const std::string& key, std::string_view bytes) override;  // one transaction
  std::optional<std::string> get(const std::string& key) override;
  bool exists(const std::string& key) override;
  void remove(const std::string& key) override;
  // Not meant to race with puts under the same prefix (the service removes a job's images only
  // once no worker runs it).
  void remove_prefix(const std::string& prefix) override;
  int64_t total_bytes() override;
  std::optional<int64_t> size_of(const std::string& key) override;
  int64_t bytes_under(const std::string& prefix) override;

 private:
  void check_location();
  std::filesystem::path file_of(const std::string& key) const;
  PgDatabase& db_;
  std::filesystem::path files_dir_;  // empty: bytes in the database
};

}  // namespace pastiche
