// Where image bytes live, by key ("jobs/<id>/result.png"). Keys are built by the service from
// generated ids only; implementations still refuse anything that could escape their root.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pastiche {

class ImageStore {
 public:
  virtual ~ImageStore() = default;
  virtual void put(const std::string& key, std::string_view bytes) = 0;  // atomic replace
  virtual std::optional<std::string> get(const std::string& key) = 0;
  virtual bool exists(const std::string& key) = 0;
  virtual void remove(const std::string& key) = 0;
  virtual void remove_prefix(const std::string& prefix) = 0;  // e.g. "jobs/<id>/"
  virtual int64_t total_bytes() = 0;
  // The bytes of every image under `prefix` (e.g. "styles/").
  virtual int64_t bytes_under(const std::string& prefix) = 0;
  // One image's size, without reading it; nullopt when there is none.
  virtual std::optional<int64_t> size_of(const std::string& key) {
    auto bytes = get(key);
    return bytes ? std::optional<int64_t>(static_cast<int64_t>(bytes->size())) : std::nullopt;
  }
};

// Throws std::invalid_argument unless the key is [a-z0-9] segments with . _ - separated by '/'
// (no empty, "." or ".." segments).
void check_image_key(const std::string& key);

}  // namespace pastiche
