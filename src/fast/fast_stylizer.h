// Applying a trained feed-forward transform network (Johnson, Alahi & Fei-Fei 2016) to images.
// This header is the contract the CLI and the service use; the network, the model file format and
// training live beside it in src/fast/.
#pragma once
#include <torch/types.h>
#include <opencv2/core.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/runtime.h"
#include "fast/fast_options.h"

namespace pastiche {

// What a model file says about itself (read from its safetensors metadata).
struct FastModelInfo {
  std::string name;  // file stem, the id used by --model and the API
  std::string path;
  std::string title;  // painting title(s), for galleries
  std::string artist;
  std::string description;              // two sentences on the painting's colours and strokes
  std::vector<std::string> styles;      // style names; several for a conditional-IN model
  std::vector<uint8_t> thumbnail_jpeg;  // small thumbnail of the style image (may be empty)
  int64_t file_bytes = 0;
  std::string dtype;  // "float16" or "float32"
  int64_t width = 0;  // network shape (channels after the first conv, residual blocks)
  int64_t res_blocks = 0;
  // Strength in feature space (a neutral style, fast/neutral_style.h); else strength blends
  // the painting with the photo.
  bool true_strength = false;
};

class FastModel;  // defined in fast/model_file.h

// A loaded model, ready to stylise. Thread-compatible: one stylize() at a time per instance.
class FastStylizer {
 public:
  // `precision`/`layout` auto: bf16 channels-last on CPUs with native bf16, float32 NCHW elsewhere.
  explicit FastStylizer(const std::string& model_path, torch::Device device = torch::kCPU,
                        Precision precision = Precision::automatic,
                        MemoryLayout layout = MemoryLayout::automatic);
  ~FastStylizer();
  const FastModelInfo& info() const;
  const ComputeFormat& format() const { return format_; }
  // Whether stylize() with `options` paints a picture of `longest_side` px with int8 convolutions
  // (InputError when int8 is asked for where it does not run).
  bool uses_int8(const FastOptions& options, int64_t longest_side) const;
  // Whether the last stylize() painted with int8 convolutions.
  bool used_int8() const { return used_int8_; }
  // For the frames of one clip: int8 calibrated on the first frame only, kept for the rest (one
  // style pass per frame; a strength between 0 and 1 paints two styles and calibrates each time).
  // Turning it on makes the next stylize() calibrate afresh (a new clip).
  void keep_int8_calibration(bool keep) {
    keep_int8_calibration_ = keep;
    new_clip_ = true;
  }
  // progress(done_tiles, total_tiles) for tiled inference; cancel checked between tiles.
  cv::Mat stylize(const cv::Mat& content_bgr, const FastOptions& options,
                  const std::function<void(int, int)>& progress = {},
                  const std::atomic<bool>* cancel = nullptr);

 private:
  std::unique_ptr<FastModel> model_;
  torch::Device device_;
  FastModelInfo info_;
  ComputeFormat format_;
  bool used_int8_ = false;
  bool keep_int8_calibration_ = false, new_clip_ = false;
};

// Folder in -> folder out: every image under `input_dir` (recursively, sub-folders mirrored) is
// stylised into `output_dir` (created). Outputs keep the input's stem; `extension` (".png",
// ".jpg", ...) forces a format, empty keeps the input's when it is writable (.jpg/.jpeg/.png/.webp)
// and uses .png otherwise. A file that fails (not an image, too large) is reported in `failures`
// and the rest continue. progress(done, total, current file) before each file and at the end.
struct FolderResult {
  int processed = 0;
  std::vector<std::string> outputs;                           // written files
  std::vector<std::pair<std::string, std::string>> failures;  // file, error message
  double seconds = 0;
};
FolderResult stylize_folder(FastStylizer& stylizer, const std::string& input_dir,
                            const std::string& output_dir, const FastOptions& options,
                            const std::function<void(int, int, const std::string&)>& progress = {},
                            const std::atomic<bool>* cancel = nullptr,
                            const std::string& extension = "");

// The folders searched for fast models: common/resources.h's model_search_dirs() (the same as
// for VGG weights); a model in an earlier folder shadows one of the same name in a later one.
std::vector<std::string> default_model_dirs();
std::vector<FastModelInfo> list_fast_models(const std::vector<std::string>& dirs);
// Resolves a name (file stem) or a path to a model file; NotFoundError listing the names otherwise.
std::string resolve_fast_model(const std::string& name_or_path,
                               const std::vector<std::string>& dirs);

}  // namespace pastiche
