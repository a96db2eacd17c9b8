#include "service/progress_reporter.h"

#include "common/text.h"
#include "service/ids.h"

namespace pastiche::service {

using std::chrono::steady_clock;

void ProgressReporter::report(const JobProgress& p) {
  last_ = p.to_json();
  if (preview_ > 0) last_["preview_iteration"] = preview_;
  const auto now = steady_clock::now();
  // The last report is not forced out: the job's outcome, written next, carries it.
  if (!published_once_ || now - published_ >= every_) publish(now);
}

void ProgressReporter::preview(int iteration) {
  preview_ = iteration;
  if (last_.is_null()) return;  // published with the first report
  last_["preview_iteration"] = iteration;
  publish(steady_clock::now());
}

std::string ProgressReporter::text() const {
  return last_.is_null() ? std::string() : safe_dump(last_);
}

void ProgressReporter::publish(steady_clock::time_point now) {
  published_ = now;
  published_once_ = true;
  last_["reported_ms"] = now_ms();  // wall clock: how old a report is, seen from any node
  try {
    queue_.publish_progress(id_, safe_dump(last_));
  } catch (const std::exception& e) {
    // Progress is advisory: the job goes on, the next report tries again.
    log_.warn("job {}: cannot publish progress: {}", id_, e.what());
  }
}

}  // namespace pastiche::service
