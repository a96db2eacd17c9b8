#include "service/style_catalog.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "fast/fast_stylizer.h"
#include "service/ids.h"

namespace pastiche::service {

namespace fs = std::filesystem;

std::string default_styles_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  fs::path exe_dir = ec ? fs::path() : exe.parent_path();
  fs::path src(PASTICHE_SOURCE_DIR);
  for (const auto& dir : {src / "styles", exe_dir / "styles", exe_dir / "../styles"}) {
    if (!dir.empty() && fs::is_directory(dir, ec)) return dir.string();
  }
  return {};
}

std::string make_thumbnail(const cv::Mat& image) {
  cv::Mat small = image;
  if (std::max(image.cols, image.rows) > 256) small = resize_longest(image, 256);
  auto bytes = encode_image(small, "jpeg", 85);
  return std::string(bytes.begin(), bytes.end());
}

namespace {

std::string title_from_stem(const std::string& stem) {
  std::string t = stem;
  bool start = true;
  for (char& c : t) {
    if (c == '-' || c == '_') {
      c = ' ';
      start = true;
    } else if (start) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      start = false;
    }
  }
  return t;
}

bool is_image_extension(std::string ext) {
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp" || ext == ".bmp";
}

}  // namespace

StyleCatalog::StyleCatalog(const std::vector<std::string>& model_dirs,
                           const std::string& styles_dir, bool gatys_available, JobStore& jobs,
                           ImageStore& images)
    : gatys_available_(gatys_available), jobs_(jobs), images_(images) {
  std::map<std::string, StyleInfo> by_id;
  try {
    for (const auto& m : list_fast_models(model_dirs)) {
      if (!is_valid_style_name(m.name)) {
        spdlog::warn("skipping fast model '{}': its name is not a valid style id", m.name);
        continue;
      }
      if (by_id.count(m.name)) continue;
      StyleInfo s;
      s.id = m.name;
      s.title = m.title.empty() ? title_from_stem(m.name) : m.title;
      s.artist = m.artist;
      s.description = m.description;
      s.fast = true;
      s.model_path = m.path;
      if (m.styles.size() > 1) s.substyles = m.styles;
      s.model_thumbnail = m.thumbnail_jpeg;
      by_id[s.id] = std::move(s);
    }
  } catch (const std::exception& e) {
    spdlog::warn("cannot list fast models: {}", e.what());
  }
  std::error_code ec;
  if (!styles_dir.empty() && fs::is_directory(styles_dir, ec)) {
    std::vector<fs::path> files;
    for (auto& e : fs::directory_iterator(styles_dir, ec)) {
      if (e.is_regular_file() && is_image_extension(e.path().extension().string())) {
        files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      std::string stem = path.stem().string();
      if (!is_valid_style_name(stem)) continue;
      StyleInfo& s = by_id[stem];
      if (!s.image_path.empty()) continue;  // first extension wins
      s.id = stem;
      s.image_path = path.string();
      s.gatys = gatys_available_;
      if (s.title.empty()) s.title = title_from_stem(stem);
      auto sidecar = path;
      sidecar.replace_extension(".json");
      std::ifstream in(sidecar);
      if (in) {
        auto j = nlohmann::json::parse(in, nullptr, false);
        if (j.is_object()) {
          s.title = j.value("title", s.title);
          s.artist = j.value("artist", s.artist);
          s.description = j.value("description", s.description);
        }
      }
    }
  }
  for (auto& [id, s] : by_id) {
    if (s.fast || s.gatys) builtins_.push_back(std::move(s));
  }
}

StyleInfo StyleCatalog::from_record(const StyleRecord& r) const {
  StyleInfo s;
  s.id = r.id;
  s.title = r.title.empty() ? "Uploaded style" : r.title;
  s.artist = r.artist;
  s.description = r.description;
  s.kind = "upload";
  s.owner = r.owner;
  s.gatys = true;  // listed even without VGG weights; submitting then explains why not
  return s;
}

std::vector<StyleInfo> StyleCatalog::list(const std::string& owner) {
  std::vector<StyleInfo> out = builtins_;
  if (!owner.empty()) {
    for (const auto& r : jobs_.list_styles(owner)) out.push_back(from_record(r));
  }
  return out;
}

std::optional<StyleInfo> StyleCatalog::find(const std::string& id, const std::string& owner,
                                            bool admin) {
  for (const auto& s : builtins_) {
    if (s.id == id) return s;
  }
  if (!is_valid_id(id)) return std::nullopt;
  auto r = jobs_.get_style(id);
  if (!r || (!admin && r->owner != owner)) return std::nullopt;
  return from_record(*r);
}

std::string StyleCatalog::thumbnail_jpeg(const StyleInfo& style) {
  if (style.kind == "upload") {
    auto bytes = images_.get(style_thumb_key(style.id));
    if (!bytes) throw NotFoundError("style thumbnail missing");
    return *bytes;
  }
  {
    std::lock_guard lock(mutex_);
    auto it = thumbnails_.find(style.id);
    if (it != thumbnails_.end()) return it->second;
  }
  std::string jpeg;
  if (!style.image_path.empty()) {
    jpeg = make_thumbnail(load_image(style.image_path));
  } else if (!style.model_thumbnail.empty()) {
    jpeg.assign(style.model_thumbnail.begin(), style.model_thumbnail.end());
  } else {
    // No picture of the painting: a neutral tile keeps galleries tidy.
    jpeg = make_thumbnail(cv::Mat(128, 128, CV_8UC3, cv::Scalar(200, 200, 200)));
  }
  std::lock_guard lock(mutex_);
  thumbnails_[style.id] = jpeg;
  return jpeg;
}

cv::Mat StyleCatalog::style_image(const StyleInfo& style) {
  if (style.kind == "upload") {
    auto bytes = images_.get(style_image_key(style.id));
    if (!bytes) throw NotFoundError("style '" + style.id + "' has no image");
    return decode_image(*bytes, {}, "style image");
  }
  if (style.image_path.empty()) {
    throw InputError("style: '" + style.id + "' is a fast model without a painting image");
  }
  return load_image(style.image_path);
}

cv::Size StyleCatalog::image_size(const StyleInfo& style) {
  if (style.kind == "upload") {
    auto bytes = images_.get(style_image_key(style.id));
    if (!bytes) throw NotFoundError("style '" + style.id + "' has no image");
    ImageHeader header = probe_image(*bytes);
    return {header.width, header.height};
  }
  {
    std::lock_guard lock(mutex_);
    auto it = builtin_sizes_.find(style.id);
    if (it != builtin_sizes_.end()) return it->second;
  }
  cv::Mat image = style_image(style);  // once per built-in painting
  std::lock_guard lock(mutex_);
  return builtin_sizes_[style.id] = image.size();
}

StyleCatalog::EncodedPainting StyleCatalog::encode_painting(const cv::Mat& image) {
  cv::Mat stored = std::max(image.cols, image.rows) > 1024 ? resize_longest(image, 1024) : image;
  auto png = encode_image(stored, "png");
  return {std::string(png.begin(), png.end()), make_thumbnail(stored)};
}

StyleInfo StyleCatalog::add_upload(const std::string& owner, const cv::Mat& image,
                                   const std::string& title, const std::string& artist,
                                   const std::string& description) {
  return add_upload(new_id(), owner, encode_painting(image), title, artist, description);
}

StyleInfo StyleCatalog::add_upload(const std::string& id, const std::string& owner,
                                   const EncodedPainting& painting, const std::string& title,
                                   const std::string& artist, const std::string& description) {
  StyleRecord r;
  r.id = id;
  r.owner = owner;
  r.title = title;
  r.artist = artist;
  r.description = description;
  r.created_ms = now_ms();
  try {
    images_.put(style_image_key(r.id), painting.png);
    images_.put(style_thumb_key(r.id), painting.thumbnail);
    jobs_.insert_style(r);
  } catch (...) {
    images_.remove(style_image_key(r.id));  // no bytes left behind that nothing lists
    images_.remove(style_thumb_key(r.id));
    throw;
  }
  return from_record(r);
}

void StyleCatalog::remove_upload(const std::string& id) {
  jobs_.remove_style(id);
  images_.remove(style_image_key(id));
  images_.remove(style_thumb_key(id));
}

int64_t StyleCatalog::uploaded_bytes(const std::string& owner) {
  int64_t total = 0;
  for (const auto& r : jobs_.list_styles(owner)) {
    total += images_.size_of(style_image_key(r.id)).value_or(0) +
             images_.size_of(style_thumb_key(r.id)).value_or(0);
  }
  return total;
}

}  // namespace pastiche::service
