// Training the arbitrary-style decoder (decoder.h) to invert the frozen VGG encoder at relu3_1,
// as Li et al. (2017) do: for crops x of any images, y = D(E(x)) is compared with x in pixels and
// at relu1_1, relu2_1, relu3_1 (relative feature error). No painting is involved, so any painting
// is "held out". Resumable (OUTPUT.ckpt holds the weights and Adam's state), deterministic for a
// seed, bf16 where the CPU computes it natively, with previews and a JSON-lines loss log.
#pragma once
#include <atomic>
#include <functional>
#include <string>

#include "arbitrary/arbitrary_train_options.h"

namespace pastiche {

struct ArbitraryTrainProgress {
  int iteration = 0, total = 0;
  double pixel_loss = 0, feature_loss = 0, total_loss = 0;  // this step, weighted
  double elapsed_seconds = 0, eta_seconds = 0;
};

struct ArbitraryTrainCallbacks {
  std::function<void(const ArbitraryTrainProgress&)> on_progress;  // every step
  // after each checkpoint: checkpoint path, preview path, iteration
  std::function<void(const std::string&, const std::string&, int)> on_checkpoint;
  const std::atomic<bool>* cancel = nullptr;  // checked between steps; checkpoint, then Cancelled
};

struct ArbitraryTrainResult {
  std::string model_path, checkpoint_path, log_path, preview_path;
  int iterations = 0, resumed_from = 0;
  double seconds = 0, total_seconds = 0;
  double first_loss = 0, final_loss = 0;
  int dataset_images = 0;
  int64_t parameters = 0;
};

ArbitraryTrainResult train_arbitrary_decoder(const ArbitraryTrainOptions& options,
                                             const ArbitraryTrainCallbacks& callbacks = {});

}  // namespace pastiche
