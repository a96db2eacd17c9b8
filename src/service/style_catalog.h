// Styles the service offers: built-in fast models, built-in painting images for the Gatys method
// (a styles directory of images with optional JSON sidecars), and images uploaded by clients.
#pragma once
#include <opencv2/core.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "image/image_io.h"
#include "store/image_store.h"
#include "store/job_store.h"

namespace pastiche::service {

struct StyleInfo {
  std::string id, title, artist, description;
  std::string kind = "builtin";  // "builtin" | "upload"
  std::string owner;             // uploads only
  bool fast = false, gatys = false;
  std::string model_path;                // fast model file
  std::string image_path;                // built-in painting (gatys)
  std::vector<std::string> substyles;    // multi-style fast model
  std::vector<uint8_t> model_thumbnail;  // from the model's metadata (may be empty)
  // A painting image to take statistics from (gatys and arbitrary jobs).
  bool has_painting() const { return kind == "upload" || !image_path.empty(); }
};

class StyleCatalog {
 public:
  // Scans model_dirs and styles_dir once. gatys_available = VGG weights are loaded.
  StyleCatalog(const std::vector<std::string>& model_dirs, const std::string& styles_dir,
               bool gatys_available, JobStore& jobs, ImageStore& images);

  // Built-ins, then the owner's uploads.
  std::vector<StyleInfo> list(const std::string& owner);
  // A built-in, or an upload owned by `owner` (any upload when admin).
  std::optional<StyleInfo> find(const std::string& id, const std::string& owner, bool admin);

  std::string thumbnail_jpeg(const StyleInfo& style);  // longest side <= 256
  cv::Mat style_image(const StyleInfo& style);         // BGR, for the Gatys engine
  cv::Size image_size(const StyleInfo& style);         // of style_image(), from its header

  // An uploaded painting as stored: a PNG (longest side <= 1024) and its thumbnail.
  struct EncodedPainting {
    std::string png, thumbnail;
    int64_t bytes() const { return static_cast<int64_t>(png.size() + thumbnail.size()); }
  };
  static EncodedPainting encode_painting(const cv::Mat& image);

  StyleInfo add_upload(const std::string& owner, const cv::Mat& image, const std::string& title,
                       const std::string& artist, const std::string& description);
  // Stores `painting` under `id` (a new id).
  StyleInfo add_upload(const std::string& id, const std::string& owner,
                       const EncodedPainting& painting, const std::string& title,
                       const std::string& artist, const std::string& description);
  void remove_upload(const std::string& id);  // its rows and images: their bytes are freed
  // What `owner`'s uploaded paintings take in the image store (images and thumbnails).
  int64_t uploaded_bytes(const std::string& owner);

  bool gatys_available() const { return gatys_available_; }
  size_t builtin_count() const { return builtins_.size(); }

 private:
  StyleInfo from_record(const StyleRecord& r) const;

  std::vector<StyleInfo> builtins_;
  bool gatys_available_;
  JobStore& jobs_;
  ImageStore& images_;
  std::mutex mutex_;
  std::map<std::string, std::string> thumbnails_;  // built-in id -> jpeg
  std::map<std::string, cv::Size> builtin_sizes_;
};

inline std::string style_image_key(const std::string& id) {
  return "styles/" + id + ".png";
}
inline std::string style_thumb_key(const std::string& id) {
  return "styles/" + id + ".thumb.jpg";
}

// The built-in paintings' folder: styles/ beside the sources or the executable; empty if none.
std::string default_styles_dir();

// JPEG thumbnail (longest side <= 256) of an image.
std::string make_thumbnail(const cv::Mat& image);

}  // namespace pastiche::service
