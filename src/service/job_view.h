// A job as the API shows it: the JSON of GET /api/jobs/{id}, history items and events.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "store/job_store.h"

namespace pastiche::service {

// The job JSON of the API (status, params, progress, timings, URLs).
nlohmann::json job_json(const JobRecord& job, int position,
                        const std::optional<nlohmann::json>& live_progress);
nlohmann::json job_urls(const std::string& id);

}  // namespace pastiche::service
