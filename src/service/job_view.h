// A job as the API shows it: the JSON of GET /api/jobs/{id}, history items and events.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "store/job_store.h"

namespace pastiche::service {

// The job JSON of the API (status, params, progress, timings, URLs). `position`: 1-based place in
// its lane while queued, else 0. Progress is the job's latest report, as its worker stored it.
nlohmann::json job_json(const JobRecord& job, int position);
nlohmann::json job_urls(const std::string& id);
// What the job's result downloads as ("chicago-the-starry-night.png"; service/file_names.h).
std::string job_download_name(const JobRecord& job, const std::string& extension = "png");

}  // namespace pastiche::service
