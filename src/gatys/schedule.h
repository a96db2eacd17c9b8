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

}  // namespace pastiche
