// A rough figure, before a job runs, of the seconds it will take on two CPU cores: what the
// per-client work cap (ServerConfig::max_work_per_client_s) adds up over a client's queued and
// running jobs. Gatys: each level of the coarse-to-fine plan costs its loss evaluations times a
// power of its pixels (fitted to bench/RESULTS.md: 0.04 s per evaluation at 256x170, 1.8 s at
// 1024x682, so about 30 s for the default 512 px job); fast and arbitrary: one pass, about a
// second per megapixel. A GPU is much faster; the figure then only ranks jobs by size.
#pragma once
#include <opencv2/core/types.hpp>

#include "service/job_spec.h"

namespace pastiche::service {

// `spec` as fit_to_images() left it, for a photo of `content` pixels.
double estimate_job_seconds(const JobSpec& spec, const cv::Size& content);

}  // namespace pastiche::service
