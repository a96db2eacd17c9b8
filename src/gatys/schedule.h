// The coarse-to-fine plan: which sizes to optimise at and how many loss evaluations each gets.
// Coarse levels are cheap and settle the large-scale structure of the style; the finer levels only
// refine, so most evaluations go to the small sizes.
#pragma once
#include <vector>

#include "gatys/gatys_options.h"

namespace pastiche {

struct ScaleLevel {
  int size = 0;   // longest side, px
  int steps = 0;  // loss evaluations at this level
};

std::vector<ScaleLevel> plan_schedule(const GatysOptions& options);

// Evaluations used when options.steps == 0.
int default_steps(int levels);

// Evaluations compared by level_converged(): the best loss of the last window against the best
// of the window before it.
inline constexpr int kConvergenceWindow = 8;

// Whether a coarse level may stop early: its loss (one value per evaluation, in order) fell by
// less than `tolerance` (relative) over the last kConvergenceWindow evaluations. Coarse levels
// only set up the next one, and their L-BFGS tail gains little the finer level keeps; 0 = never.
bool level_converged(const std::vector<double>& losses, double tolerance);

}  // namespace pastiche
