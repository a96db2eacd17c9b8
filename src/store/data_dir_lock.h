// One process at a time per data directory: `pastiche serve` holds an exclusive lock on
// DATA_DIR/.lock while it runs, so a second server, or a restore, cannot write under it.
// flock(2) locks go away with the process, so a killed server leaves nothing stale behind.
#pragma once
#include <string>

namespace pastiche {

class DataDirLock {
 public:
  // Throws std::runtime_error naming `purpose` when another process holds the lock.
  DataDirLock(const std::string& data_dir, const std::string& purpose);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace pastiche
