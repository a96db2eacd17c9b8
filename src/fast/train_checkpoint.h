// Training checkpoints, written next to the model as OUTPUT + ".ckpt". A checkpoint is a model file
// (model_file.h) plus two things a resumed run needs to continue exactly where it stopped:
//   tensor "optimizer.adam"   uint8, Adam's state as LibTorch serialises it (Adam::save: per
//                             parameter the step count and both moments, matched to the
//                             parameters by their order when loaded)
//   metadata "checkpoint"     {"iteration":..,"seconds":..,"total_iterations":..}
// Checkpoints written before the optimiser state moved to LibTorch's format (tensors
// "adam.exp_avg.<param>", "adam.exp_avg_sq.<param>" and "adam_step" in the metadata) still load.
#pragma once
#include <torch/torch.h>

#include <string>

#include "fast/model_file.h"
#include "fast/transformer_net.h"

namespace pastiche {

inline constexpr const char* kOptimizerStateTensor = "optimizer.adam";

struct CheckpointProgress {
  int iteration = 0;         // completed steps
  double seconds = 0;        // training time of every run so far
  int total_iterations = 0;  // the run's length when it was written
};

// Writes `model` (the network being trained and its description) with the optimiser's state.
void save_checkpoint(const std::string& path, const FastModel& model,
                     const torch::optim::Adam& optimizer, const CheckpointProgress& progress);

// Copies a checkpoint's weights into `net` and its optimiser state into `optimizer` (built over
// `net`'s parameters). InputError naming the file when it is a model rather than a checkpoint,
// holds another network, or lacks the optimiser state.
CheckpointProgress load_checkpoint(const std::string& path, TransformerNet& net,
                                   torch::optim::Adam& optimizer);

// Adam's state as a uint8 tensor (LibTorch's archive format), and back; InputError naming `path`
// when the bytes do not load (other checkpoints store it the same way).
torch::Tensor serialise_adam(const torch::optim::Adam& optimizer);
void deserialise_adam(const torch::Tensor& bytes, torch::optim::Adam& optimizer,
                      const std::string& path);

// Copies a model's (or checkpoint's) weights into `net`; InputError when its network differs.
void load_weights(const std::string& path, TransformerNet& net);

}  // namespace pastiche
