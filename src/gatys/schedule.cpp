#include "gatys/schedule.h"

#include <algorithm>
#include <cmath>

namespace pastiche {

namespace {
constexpr double kLevelRatio = 1.7;  // size ratio between neighbouring levels
constexpr double kStepDecay = 0.6;   // each finer level gets this share of the previous one
}  // namespace

int default_steps(int levels) {
  return levels <= 1 ? 200 : 360;
}

std::vector<ScaleLevel> plan_schedule(const GatysOptions& options) {
  int levels = options.scales;
  if (levels == 0) {
    const double ratio = static_cast<double>(options.size) / options.min_scale_size;
    levels = ratio <= 1.0
                 ? 1
                 : 1 + static_cast<int>(std::ceil(std::log(ratio) / std::log(kLevelRatio) - 1e-9));
  }
  if (options.steps > 0) levels = std::min(levels, options.steps);
  levels = std::max(1, levels);
  const int smallest = std::min(options.size, std::max(16, options.min_scale_size));
  std::vector<ScaleLevel> plan(static_cast<size_t>(levels));
  for (int i = 0; i < levels; ++i) {
    const double t = levels == 1 ? 1.0 : static_cast<double>(i) / (levels - 1);
    // Geometric interpolation between the smallest level and the target size.
    const double size = smallest * std::pow(static_cast<double>(options.size) / smallest, t);
    plan[static_cast<size_t>(i)].size =
        i == levels - 1 ? options.size : static_cast<int>(std::lround(size));
  }
  const int total = options.steps > 0 ? options.steps : default_steps(levels);
  double share_sum = 0;
  for (int i = 0; i < levels; ++i) share_sum += std::pow(kStepDecay, i);
  int assigned = 0;
  for (int i = 0; i < levels; ++i) {
    auto& level = plan[static_cast<size_t>(i)];
    level.steps = i == levels - 1
                      ? total - assigned
                      : static_cast<int>(std::lround(total * std::pow(kStepDecay, i) / share_sum));
    level.steps = std::max(level.steps, 1);
    assigned += level.steps;
  }
  return plan;
}

bool level_converged(const std::vector<double>& losses, double tolerance) {
  const auto n = static_cast<std::ptrdiff_t>(losses.size());
  if (tolerance <= 0 || n < 2 * kConvergenceWindow) return false;
  // Minima, not last values: a line search's trial points may lie above where it settled.
  const auto recent = losses.end() - kConvergenceWindow;
  const double now = *std::min_element(recent, losses.end());
  const double before = *std::min_element(recent - kConvergenceWindow, recent);
  return before - now < tolerance * std::abs(before);
}

}  // namespace pastiche
