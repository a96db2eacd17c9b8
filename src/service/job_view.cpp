#include "service/job_view.h"

#include "service/file_names.h"
#include "service/ids.h"
#include "service/job_spec.h"

namespace pastiche::service {

using nlohmann::json;

json job_urls(const std::string& id) {
  std::string base = "/api/jobs/" + id;
  return {{"self", base},
          {"events", base + "/events"},
          {"result", base + "/result"},
          {"preview", base + "/preview"},
          {"thumbnail", base + "/thumbnail"},
          {"content", base + "/content"}};
}

std::string job_download_name(const JobRecord& job, const std::string& extension) {
  return download_name(job.content_name, job.style_title, job.style, extension);
}

json job_json(const JobRecord& job, int position) {
  auto time_or_null = [](int64_t ms) { return ms > 0 ? json(iso8601(ms)) : json(nullptr); };
  json progress = nullptr;
  if (!job.progress.empty()) {
    progress = json::parse(job.progress, nullptr, false);
    if (progress.is_discarded()) progress = nullptr;
  }
  // Expired jobs keep their size: the history still describes what was made.
  bool done = job.status == JobStatus::done || job.status == JobStatus::expired;
  return {{"id", job.id},
          {"status", to_string(job.status)},
          {"method", job.method},
          {"style", job.style},
          {"style_title", job.style_title},
          {"params", api_params(job)},
          {"position", position},
          {"progress", progress},
          {"error", job.error.empty() ? json(nullptr) : json(job.error)},
          {"attempts", job.attempts},
          {"created_at", time_or_null(job.created_ms)},
          {"started_at", time_or_null(job.started_ms)},
          {"finished_at", time_or_null(job.finished_ms)},
          {"seconds",
           is_finished(job.status) && job.started_ms > 0 ? json(job.seconds) : json(nullptr)},
          {"width", done ? json(job.width) : json(nullptr)},
          {"height", done ? json(job.height) : json(nullptr)},
          {"batch", job.batch_id.empty() ? json(nullptr) : json(job.batch_id)},
          {"content_name", job.content_name.empty() ? json(nullptr) : json(job.content_name)},
          {"download_name", job_download_name(job)},
          {"share", nullptr},  // job_view (routes.h) fills in a finished result's
          {"urls", job_urls(job.id)}};
}

}  // namespace pastiche::service
