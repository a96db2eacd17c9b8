// Downloading pretrained VGG weights (`pastiche weights fetch`): a small catalog of well-known
// safetensors files in the torchvision convention, streamed to a temporary file, verified by
// SHA-256, inspected as VGG weights and only then renamed into the models directory.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vgg/vgg.h"

namespace pastiche {

struct WeightsSource {
  std::string name;  // "vgg19", "vgg16": also the installed file name (name.safetensors)
  VggArch arch = VggArch::vgg19;
  std::string url;         // pinned to a revision, so the hash stays valid
  std::string sha256;      // lowercase hex; empty when unknown (fetch then needs --sha256)
  int64_t size_bytes = 0;  // approximate, for messages; 0 when unknown
  std::string description;
};

// The built-in catalog (timm's copies of the original torchvision ImageNet weights).
const std::vector<WeightsSource>& weights_catalog();
// InputError listing the known names when `name` is not in the catalog.
const WeightsSource& find_weights_source(const std::string& name);

// $PASTICHE_MODELS_DIR if set, else ~/.local/share/pastiche/models.
std::string default_models_dir();

struct FetchOptions {
  std::string name = "vgg19";         // catalog entry (also decides the file name and arch)
  std::string dir;                    // models directory; empty = default_models_dir()
  std::string url;                    // overrides the catalog URL (then sha256 is required)
  std::string sha256;                 // overrides the catalog hash
  bool insecure_skip_verify = false;  // accept any hash (prints the computed one)
  int timeout_s = 60;                 // connect/read timeout per request
  // Called while downloading: bytes received, total (0 when the server sends no length).
  std::function<void(int64_t, int64_t)> progress;
};

struct FetchResult {
  std::string path;              // installed file
  std::string url;               // final URL after redirects
  std::string sha256;            // computed hash of the installed file
  bool verified = false;         // the hash matched an expected value
  bool already_present = false;  // the file was there with the expected hash; nothing downloaded
  int64_t bytes = 0;
  VggWeightsInfo info;
};

// Downloads, verifies and installs. Throws InputError for bad options (unknown name, custom URL
// without a hash, malformed hash), std::runtime_error for network/HTTP failures and hash
// mismatches; in every failure case nothing is left in the models directory.
FetchResult fetch_weights(const FetchOptions& options);

// Streams `url` (http or https, following up to 10 redirects) into `path`; returns the final URL.
// `on_data` sees every chunk (for hashing). Throws std::runtime_error on failure.
std::string download_to_file(const std::string& url, const std::string& path, int timeout_s,
                             const std::function<void(const char*, size_t)>& on_data,
                             const std::function<void(int64_t, int64_t)>& progress = {});

// Lowercase hex SHA-256 of a file's contents / of a byte string.
std::string sha256_file(const std::string& path);
std::string sha256_hex(const std::string& bytes);

}  // namespace pastiche
