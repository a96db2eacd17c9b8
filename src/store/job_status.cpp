#include <stdexcept>

#include "store/job_store.h"

namespace pastiche {

const char* to_string(JobStatus s) {
  switch (s) {
    case JobStatus::queued:
      return "queued";
    case JobStatus::running:
      return "running";
    case JobStatus::done:
      return "done";
    case JobStatus::failed:
      return "failed";
    case JobStatus::cancelled:
      return "cancelled";
    case JobStatus::expired:
      return "expired";
  }
  return "unknown";
}

JobStatus parse_job_status(const std::string& s) {
  for (auto st : {JobStatus::queued, JobStatus::running, JobStatus::done, JobStatus::failed,
                  JobStatus::cancelled, JobStatus::expired}) {
    if (s == to_string(st)) return st;
  }
  throw std::invalid_argument("unknown job status '" + s + "'");
}

}  // namespace pastiche
