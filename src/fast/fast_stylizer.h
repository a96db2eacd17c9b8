// Applying a trained feed-forward transform network (Johnson, Alahi & Fei-Fei 2016) to images.
// This header is the contract the CLI and the service use; the network, the model file format and
// training live beside it in src/fast/.
#pragma once
#include <opencv2/core.hpp>
#include <torch/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pastiche {

// What a model file says about itself (read from its safetensors metadata).
struct FastModelInfo {
  std::string name;         // file stem, the id used by --model and the API
  std::string path;
  std::string title;        // painting title(s), for galleries
  std::string artist;
  std::string description;  // two sentences on the painting's colours and strokes
  std::vector<std::string> styles;  // style names; several for a conditional-IN model
  std::vector<uint8_t> thumbnail_jpeg;  // small thumbnail of the style image (may be empty)
  int64_t file_bytes = 0;
  std::string dtype;        // "float16" or "float32"
};

struct FastOptions {
  int size = 0;                       // longest side of the output; 0 = the input's size
  bool original_colors = false;
  double blend = 1.0;                 // 1 = stylised only
  std::map<std::string, double> style_mix;  // multi-style models: style name -> weight
  int tile = 0;                       // tile side for huge images; 0 = automatic
  void validate() const;              // throws InputError naming the field
};

class FastModel;  // defined in fast/model_file.h

// A loaded model, ready to stylise. Thread-compatible: one stylize() at a time per instance.
class FastStylizer {
 public:
  explicit FastStylizer(const std::string& model_path, torch::Device device = torch::kCPU);
  ~FastStylizer();
  const FastModelInfo& info() const;
  // progress(done_tiles, total_tiles) for tiled inference; cancel checked between tiles.
  cv::Mat stylize(const cv::Mat& content_bgr, const FastOptions& options,
                  const std::function<void(int, int)>& progress = {},
                  const std::atomic<bool>* cancel = nullptr);

 private:
  std::unique_ptr<FastModel> model_;
  torch::Device device_;
};

// Models found in the model directories (default: $PASTICHE_MODELS_DIR, then the project's
// models/ directory); later directories do not shadow earlier ones.
std::vector<std::string> default_model_dirs();
std::vector<FastModelInfo> list_fast_models(const std::vector<std::string>& dirs);
// Resolves a name (file stem) or a path to a model file; NotFoundError listing the names otherwise.
std::string resolve_fast_model(const std::string& name_or_path, const std::vector<std::string>& dirs);

}  // namespace pastiche
