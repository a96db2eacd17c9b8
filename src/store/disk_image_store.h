// ImageStore on the local file system under one root directory.
#pragma once
#include <atomic>
#include <filesystem>

#include "store/image_store.h"

namespace pastiche {

class DiskImageStore : public ImageStore {
 public:
  explicit DiskImageStore(std::filesystem::path root);  // creates root; sums existing files

  void put(const std::string& key, std::string_view bytes) override;
  std::optional<std::string> get(const std::string& key) override;
  bool exists(const std::string& key) override;
  void remove(const std::string& key) override;
  void remove_prefix(const std::string& prefix) override;
  int64_t total_bytes() override { return total_.load(); }
  std::optional<int64_t> size_of(const std::string& key) override;
  int64_t bytes_under(const std::string& prefix) override;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path path_of(const std::string& key) const;
  std::filesystem::path root_;
  std::atomic<int64_t> total_{0};
};

}  // namespace pastiche
