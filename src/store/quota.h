// Disk quota: deletes the oldest finished jobs (files and rows) until the image store fits.
// Queued and running jobs are never touched.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/image_store.h"
#include "store/job_store.h"

namespace pastiche {

// Image-store prefix holding every file of a job.
inline std::string job_prefix(const std::string& id) {
  return "jobs/" + id + "/";
}

// Returns the ids deleted. max_bytes <= 0 disables the quota. `on_delete` runs before each
// deletion (the service uses it to forget in-memory state).
std::vector<std::string> enforce_quota(
    JobStore& jobs, ImageStore& images, int64_t max_bytes,
    const std::function<void(const std::string&)>& on_delete = {});

}  // namespace pastiche
