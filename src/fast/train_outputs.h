// What a training run writes besides its checkpoints: the model's description (styles with
// thumbnails, the losses it was trained with, the training settings), the JSON-lines loss log and
// the preview images.
#pragma once
#include <opencv2/core.hpp>

#include <cstdint>
#include <fstream>
#include <string>

#include "fast/model_file.h"
#include "fast/train_objective.h"
#include "fast/transformer_net.h"

namespace pastiche {

// The metadata stored with the model and its checkpoints (iterations and timings added at the end).
FastModelMeta describe_model(const TrainObjective& objective, const TransformerNetOptions& network);

// OUTPUT without its extension + ".log.jsonl", or the options' log path.
std::string loss_log_path(const TrainOptions& options);
// OUTPUT without its extension + ".preview-000500.png".
std::string preview_path(const std::string& output, int iteration);

// The photo previews show: the options' preview image, else `fallback` (the first dataset photo),
// at most preview_size px. InputError naming the file when it cannot be read.
cv::Mat load_preview_photo(const TrainOptions& options, const std::string& fallback);
// The photo, then the network's rendering of it in each style, side by side. Leaves the network
// in training mode.
cv::Mat render_preview(TransformerNet& net, const cv::Mat& photo, const ComputeFormat& format);

// One JSON object per logged step: iteration, style_index, content, style, tv, total, seconds.
class LossLog {
 public:
  LossLog(const std::string& path, bool append);  // InputError when it cannot be written
  void write(int iteration, int64_t style_index, const StepLosses& losses, double seconds);

 private:
  std::ofstream out_;
};

}  // namespace pastiche
