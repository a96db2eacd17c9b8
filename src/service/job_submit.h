// Requests becoming queued jobs, for POST /api/jobs (one photo) and POST /api/batches (several
// photos, one style and method): the request is checked once; each photo becomes a job of the
// spec fitted to it, its images stored under the job's id with its disk quota reserved; then
// every job is queued in one transaction under the queue bound and the client's caps. Anything
// that fails before that removes what was stored: a submit is never half done.
#pragma once
#include <opencv2/core.hpp>

#include <string>
#include <vector>

#include "service/routes.h"

namespace pastiche::service {

RequestLimits request_limits(const ServerConfig& config);

// Style ids -> catalog entries, checked against the method (InputError naming the field).
// Returns their titles joined with " + ".
std::string check_styles(Context& ctx, const Call& c, const JobSpec& r);

// 503 while the server stops; 429 when the queue cannot take `jobs` more now. Cheap, before the
// uploads are decoded; the queue checks its bound again, atomically, when the jobs are queued.
void check_can_submit(Context& ctx, int jobs);

// A photo as a job stores it (PNG) and its size.
struct Photo {
  std::string png;
  cv::Size size;
};
// An uploaded file part as a Photo: checked (type, pixels, shape), decoded, shrunk to the
// largest output size and encoded. Errors name `field`.
Photo decode_photo(Context& ctx, const std::string& bytes, const std::string& field);

class Submission {
 public:
  Submission(Context& ctx, const Call& c, JobSpec spec, std::string titles,
             std::string batch_id = "");
  ~Submission();  // unless queue() succeeded: removes every image stored for it
  Submission(const Submission&) = delete;
  Submission& operator=(const Submission&) = delete;

  // One more job: the spec fitted to `photo` (InputError "size: ..." when it cannot be), its
  // photo (and init_job's picture) stored now, its output's disk space reserved (StorageFull).
  void add(const Photo& photo, const std::string& content_name);
  // Queues every job added, all or none: HttpError 429 naming the cap otherwise. Returns them
  // in the order added.
  const std::vector<JobRecord>& queue();
  const std::vector<double>& estimated_seconds() const { return estimates_; }

 private:
  Context& ctx_;
  const Call& call_;
  JobSpec spec_;
  std::string titles_, batch_id_;
  std::vector<cv::Size> style_sizes_;
  std::vector<JobRecord> jobs_;
  std::vector<double> estimates_;
  std::vector<int64_t> result_bytes_;
  std::vector<StorageQuota::Reservation> reservations_;
  bool queued_ = false;
};

}  // namespace pastiche::service
