// Disk quota: frees the image store by expiring the oldest finished jobs: their files are
// removed and the row stays (status expired), so the owner sees what happened in the history.
// Never touched: queued and running jobs, jobs finished less than `keep_ms` ago, and done jobs
// whose result has not been downloaded yet.
#pragma once
#include <cstdint>
#include <functional>
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

}  // namespace pastiche
