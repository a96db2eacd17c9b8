// True strength for fast models (issue 15). A conditional-instance-norm network paints a style
// through its (gamma, beta) pairs alone (Dumoulin et al. 2017), so one more pair, trained with
// the convolutions frozen to make the network reproduce its input, is the style's "neutral": the
// photo's look through the same network. Strength s then mixes the style's pairs with the
// neutral ones in feature space, s = 1 the style; what the neutral pass misses of the photo (its
// colours drift) is added back weighted 1 - s, so s = 0 is the photo (FastStylizer::stylize).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "fast/model_file.h"

namespace pastiche {

// The name of the neutral slot among a model's styles (never listed or selectable as a style).
inline constexpr const char* kNeutralStyleName = "neutral";

struct NeutralTrainOptions {
  std::string dataset;   // folder of photos (random crops, as for training)
  int iterations = 300;  // Adam steps on the neutral pair only
  int size = 256;        // crop side
  int batch = 4;
  double learning_rate = 1e-2;  // only 2 x C numbers per norm layer: a high rate converges fast
  uint64_t seed = 0;
  void validate() const;  // throws InputError naming the field
};

struct NeutralTrainResult {
  double first_loss = 0;  // mean squared error to the input photo, 0-1 RGB
  double final_loss = 0;
  double seconds = 0;
};

// Adds (or retrains) `model`'s neutral slot in place: the convolutions and the styles' pairs stay
// as they are. progress(iteration, total, loss).
NeutralTrainResult train_neutral_style(FastModel& model, const NeutralTrainOptions& options,
                                       const std::function<void(int, int, double)>& progress = {});

}  // namespace pastiche
