#include "service/job_estimate.h"

#include <algorithm>
#include <cmath>

#include "gatys/schedule.h"

namespace pastiche::service {

namespace {

// Pixels of the picture whose longest side is `longest`, in the photo's proportions.
double pixels_at(int longest, const cv::Size& content) {
  const double side = std::max(1, std::max(content.width, content.height));
  const double scale = std::max(1, longest) / side;
  return std::max(1.0, content.width * scale) * std::max(1.0, content.height * scale);
}

double gatys_seconds(const GatysOptions& options, const cv::Size& content) {
  constexpr double kSecondsPerEvaluationAt100k = 0.124;
  constexpr double kExponent = 1.3;  // larger pictures cost more per pixel (caches, memory)
  double seconds = 1.0;              // loading the photo, the paintings and their statistics
  for (const auto& level : plan_schedule(options)) {
    seconds += level.steps * kSecondsPerEvaluationAt100k *
               std::pow(pixels_at(level.size, content) / 1e5, kExponent);
  }
  return seconds;
}

}  // namespace

double estimate_job_seconds(const JobSpec& spec, const cv::Size& content) {
  const int longest =
      spec.output_size() > 0 ? spec.output_size() : std::max(content.width, content.height);
  const double megapixels = pixels_at(longest, content) / 1e6;
  switch (spec.method) {
    case JobMethod::fast:
      return 0.2 + 0.6 * megapixels;
    case JobMethod::arbitrary:
      return 0.3 + 1.2 * megapixels;
    case JobMethod::gatys:
      break;
  }
  return gatys_seconds(spec.gatys, content);
}

}  // namespace pastiche::service
