#include "vgg/weights_fetch.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <stdexcept>

#include "common/error.h"
#include "common/resources.h"
#include "common/text.h"

namespace pastiche {

namespace {

namespace fs = std::filesystem;

// Incremental SHA-256 over OpenSSL's EVP interface.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
      throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
    }
  }
  void update(const char* data, size_t size) {
    if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) {
      throw std::runtime_error("OpenSSL: SHA-256 update failed");
    }
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &length) != 1) {
      throw std::runtime_error("OpenSSL: SHA-256 final failed");
    }
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
      out.push_back(digits[digest[i] >> 4]);
      out.push_back(digits[digest[i] & 15]);
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

struct Url {
  std::string scheme_host;  // "https://example.org:8443"
  std::string path;         // "/a/b?c", at least "/"
};

Url parse_url(const std::string& url) {
  static const std::regex re(R"(^(https?://[^/?#]+)([^#]*)(#.*)?$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, re)) {
    throw InputError("'" + url + "' is not an http:// or https:// URL");
  }
  Url out{m[1].str(), m[2].str()};
  if (out.path.empty() || out.path[0] != '/') out.path = "/" + out.path;
  return out;
}

std::string resolve_location(const Url& base, const std::string& location) {
  if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) return location;
  if (location.rfind("//", 0) == 0) {
    return base.scheme_host.substr(0, base.scheme_host.find("//")) + location;
  }
  if (!location.empty() && location[0] == '/') return base.scheme_host + location;
  const std::string path = base.path.substr(0, base.path.find('?'));
  return base.scheme_host + path.substr(0, path.rfind('/') + 1) + location;
}

std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "could not connect";
    case httplib::Error::Read:
      return "read failed or timed out";
    case httplib::Error::Write:
      return "write failed";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::SSLConnection:
      return "TLS connection failed";
    case httplib::Error::SSLServerVerification:
      return "server certificate verification failed";
    default:
      return httplib::to_string(error);
  }
}

std::string normalise_hash(const std::string& hash) {
  const std::string h = ascii_lower(hash);
  if (h.size() != 64 || !std::all_of(h.begin(), h.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
      })) {
    throw InputError("--sha256 '" + hash + "' is not 64 hexadecimal digits");
  }
  return h;
}

// Removes a file on scope exit unless released.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::string path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove(path_, ec);
    }
  }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

}  // namespace

const std::vector<WeightsSource>& weights_catalog() {
  // Hashes are those published by Hugging Face for these Git LFS objects (file pages, "Git LFS
  // Details"); URLs are pinned to the commit that added the file.
  static const std::vector<WeightsSource> catalog = {
      {"vgg19", VggArch::vgg19,
       "https://huggingface.co/timm/vgg19.tv_in1k/resolve/"
       "128d4708565b3a414bcbb9bbad440b2fe37b9f18/model.safetensors",
       "11aea017b543ff59233749d8f1cf544cda749378f5790d2fedab841fb86b7669", 575'000'000,
       "VGG19, original torchvision ImageNet weights (timm vgg19.tv_in1k), BSD-3-Clause"},
      {"vgg16", VggArch::vgg16,
       "https://huggingface.co/timm/vgg16.tv_in1k/resolve/"
       "3394518cba29aee1ea82a49d971be90d2dd1dab7/model.safetensors",
       "57b026918159a6bf9faf8405c3a551903768e7138989d9c6224a14227203fad8", 553'000'000,
       "VGG16, original torchvision ImageNet weights (timm vgg16.tv_in1k), BSD-3-Clause"},
  };
  return catalog;
}

const WeightsSource& find_weights_source(const std::string& name) {
  std::string known;
  for (const auto& source : weights_catalog()) {
    if (source.name == ascii_lower(name)) return source;
    known += (known.empty() ? "" : ", ") + source.name;
  }
  throw InputError("unknown weights '" + name + "' (known: " + known + ")");
}

std::string default_models_dir() {
  return user_models_dir();
}

std::string sha256_hex(const std::string& bytes) {
  Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  return sha.hex();
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot open '" + path + "'");
  Sha256 sha;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    sha.update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error("cannot read '" + path + "'");
  return sha.hex();
}

std::string download_to_file(const std::string& url, const std::string& path, int timeout_s,
                             const std::function<void(const char*, size_t)>& on_data,
                             const std::function<void(int64_t, int64_t)>& progress) {
  std::string current = url;
  for (int redirects = 0; redirects <= 10; ++redirects) {
    const Url u = parse_url(current);
    httplib::Client client(u.scheme_host);
    client.set_follow_location(false);
    client.set_connection_timeout(timeout_s, 0);
    client.set_read_timeout(timeout_s, 0);
    std::ofstream out;
    int status = 0;
    std::string location;
    int64_t total = 0, received = 0;
    bool write_failed = false;
    const httplib::Headers headers = {{"User-Agent", std::string("pastiche/") + PASTICHE_VERSION}};
    auto result = client.Get(
        u.path, headers,
        [&](const httplib::Response& response) {
          status = response.status;
          if (status >= 300 && status < 400) location = response.get_header_value("Location");
          if (status == 200) {
            const std::string length = response.get_header_value("Content-Length");
            if (!length.empty()) total = std::strtoll(length.c_str(), nullptr, 10);
            out.open(path, std::ios::binary | std::ios::trunc);
            if (!out) {
              write_failed = true;
              return false;
            }
          }
          return true;
        },
        [&](const char* data, size_t size) {
          if (status != 200) return true;  // error or redirect body: ignore
          out.write(data, static_cast<std::streamsize>(size));
          if (!out) {
            write_failed = true;
            return false;
          }
          if (on_data) on_data(data, size);
          received += static_cast<int64_t>(size);
          if (progress) progress(received, total);
          return true;
        });
    if (write_failed) throw std::runtime_error("cannot write '" + path + "' (disk full?)");
    if (!result) {
      throw std::runtime_error("cannot download " + current + ": " + describe(result.error()) +
                               " (check the network connection; or download the file elsewhere, "
                               "check its SHA-256 and pass it with --vgg FILE)");
    }
    if (status >= 300 && status < 400 && status != 304) {
      if (location.empty()) {
        throw std::runtime_error("HTTP " + std::to_string(status) + " without Location from " +
                                 current);
      }
      current = resolve_location(u, location);
      continue;
    }
    if (status != 200) {
      throw std::runtime_error("cannot download " + current + ": HTTP " + std::to_string(status));
    }
    out.close();
    if (!out) throw std::runtime_error("cannot write '" + path + "' (disk full?)");
    if (total > 0 && received != total) {
      throw std::runtime_error("download of " + current + " stopped after " +
                               std::to_string(received) + " of " + std::to_string(total) +
                               " bytes");
    }
    return current;
  }
  throw std::runtime_error("too many redirects downloading " + url);
}

FetchResult fetch_weights(const FetchOptions& options) {
  const bool custom_url = !options.url.empty();
  const WeightsSource* source = nullptr;
  if (custom_url) {
    static const std::regex name_re("^[A-Za-z0-9_.-]+$");
    if (!std::regex_match(options.name, name_re)) {
      throw InputError("weights name '" + options.name + "' must be letters, digits, . _ -");
    }
    for (const auto& s : weights_catalog()) {
      if (s.name == ascii_lower(options.name)) source = &s;
    }
  } else {
    source = &find_weights_source(options.name);
  }
  const std::string name = source ? source->name : options.name;
  const std::string url = custom_url ? options.url : source->url;
  parse_url(url);  // InputError early on a malformed URL

  std::string expected;
  if (!options.sha256.empty()) {
    expected = normalise_hash(options.sha256);
  } else if (!custom_url && source) {
    expected = source->sha256;
  }
  if (expected.empty() && !options.insecure_skip_verify) {
    throw InputError(custom_url ? "--url needs --sha256 HEX to verify the download (or "
                                  "--insecure-skip-verify to accept any file)"
                                : "no published SHA-256 for '" + name +
                                      "'; pass --sha256 HEX (or --insecure-skip-verify)");
  }

  const fs::path dir = options.dir.empty() ? fs::path(default_models_dir()) : fs::path(options.dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw InputError("cannot create models directory '" + dir.string() + "': " + ec.message());
  const fs::path dest = dir / (name + ".safetensors");

  FetchResult result;
  result.url = url;
  if (!expected.empty() && fs::is_regular_file(dest, ec) &&
      sha256_file(dest.string()) == expected) {
    result.path = dest.string();
    result.sha256 = expected;
    result.verified = true;
    result.already_present = true;
    result.bytes = static_cast<int64_t>(fs::file_size(dest));
    result.info = inspect_vgg_weights(result.path);
    return result;
  }

  const std::string tmp = dest.string() + ".part-" + std::to_string(::getpid());
  RemoveOnExit cleanup(tmp);
  Sha256 sha;
  result.url = download_to_file(
      url, tmp, options.timeout_s, [&](const char* data, size_t size) { sha.update(data, size); },
      options.progress);
  result.sha256 = sha.hex();
  result.bytes = static_cast<int64_t>(fs::file_size(tmp));
  if (!expected.empty() && result.sha256 != expected) {
    throw std::runtime_error("SHA-256 mismatch for " + url + ": got " + result.sha256 +
                             ", expected " + expected +
                             "; the download was discarded (retry; if the file really changed "
                             "upstream, check its new hash and pass --sha256)");
  }
  try {
    result.info = inspect_vgg_weights(tmp);
  } catch (const InputError& e) {
    throw InputError("the file downloaded from " + url + " is not usable VGG weights: " + e.what());
  }
  if (source && result.info.arch != source->arch && !result.info.arch_inferred) {
    throw InputError("the file downloaded from " + url + " holds " + to_string(result.info.arch) +
                     " weights, not " + to_string(source->arch));
  }
  fs::rename(tmp, dest, ec);
  if (ec) {
    throw std::runtime_error("cannot move the download to '" + dest.string() +
                             "': " + ec.message());
  }
  cleanup.release();
  result.path = dest.string();
  result.info.path = result.path;
  result.verified = !expected.empty();
  return result;
}

}  // namespace pastiche
