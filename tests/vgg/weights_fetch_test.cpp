#include "vgg/weights_fetch.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/fixtures.h"

namespace pastiche {
namespace {

using testing::TempDir;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int count_files(const std::filesystem::path& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// A local HTTP server on 127.0.0.1 serving a synthetic weights file, a redirect to it, a file
// that is not VGG weights, and 404 otherwise.
class LocalServer {
 public:
  LocalServer(std::string weights, std::string other)
      : weights_(std::move(weights)), other_(std::move(other)) {
    server_.Get("/vgg19.safetensors", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(weights_, "application/octet-stream");
    });
    server_.Get("/redirect", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/vgg19.safetensors");
    });
    server_.Get("/other.safetensors", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(other_, "application/octet-stream");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~LocalServer() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  std::string weights_, other_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class WeightsFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = testing::write_synthetic_vgg(source_.file("w.safetensors"),
                                                          WeightConvention::torchvision, 2, 1);
    weights_ = read_all(path);
    hash_ = sha256_file(path);
    std::ofstream(source_.file("other")) << "not weights at all";
    other_ = read_all(source_.file("other"));
    server_ = std::make_unique<LocalServer>(weights_, other_);
  }
  FetchOptions options(const std::string& path, const std::string& sha256) const {
    FetchOptions o;
    o.name = "vgg19";
    o.dir = (models_.path() / "models").string();
    o.url = server_->url(path);
    o.sha256 = sha256;
    o.timeout_s = 10;
    return o;
  }
  std::filesystem::path models_dir() const { return models_.path() / "models"; }

  TempDir source_, models_;
  std::string weights_, other_, hash_;
  std::unique_ptr<LocalServer> server_;
};

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(WeightsCatalog, KnownEntries) {
  EXPECT_EQ(find_weights_source("vgg19").arch, VggArch::vgg19);
  EXPECT_EQ(find_weights_source("VGG16").arch, VggArch::vgg16);
  for (const auto& s : weights_catalog()) {
    EXPECT_EQ(s.url.rfind("https://", 0), 0u);
    EXPECT_EQ(s.sha256.size(), 64u);
  }
  EXPECT_THROW(find_weights_source("resnet50"), InputError);
}

TEST_F(WeightsFetch, RightHashInstalls) {
  int64_t last_progress = 0;
  FetchOptions o = options("/vgg19.safetensors", hash_);
  o.progress = [&](int64_t done, int64_t) { last_progress = done; };
  const FetchResult r = fetch_weights(o);
  EXPECT_EQ(r.path, (models_dir() / "vgg19.safetensors").string());
  EXPECT_TRUE(r.verified);
  EXPECT_FALSE(r.already_present);
  EXPECT_EQ(r.sha256, hash_);
  EXPECT_EQ(r.bytes, static_cast<int64_t>(weights_.size()));
  EXPECT_EQ(last_progress, r.bytes);
  EXPECT_EQ(read_all(r.path), weights_);
  EXPECT_EQ(r.info.conv_layers, 4);
  EXPECT_EQ(r.info.path, r.path);
  EXPECT_EQ(count_files(models_dir()), 1);  // no temporary left

  const FetchResult again = fetch_weights(o);
  EXPECT_TRUE(again.already_present);
}

TEST_F(WeightsFetch, FollowsRedirects) {
  const FetchResult r = fetch_weights(options("/redirect", hash_));
  EXPECT_EQ(r.url, server_->url("/vgg19.safetensors"));
  EXPECT_EQ(read_all(r.path), weights_);
}

TEST_F(WeightsFetch, WrongHashLeavesNothingBehind) {
  const std::string wrong(64, 'a');
  try {
    fetch_weights(options("/vgg19.safetensors", wrong));
    FAIL() << "expected a hash mismatch";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("SHA-256 mismatch"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(hash_), std::string::npos) << e.what();
  }
  EXPECT_EQ(count_files(models_dir()), 0);
}

TEST_F(WeightsFetch, CustomUrlNeedsAHashUnlessSkipped) {
  EXPECT_THROW(fetch_weights(options("/vgg19.safetensors", "")), InputError);
  EXPECT_THROW(fetch_weights(options("/vgg19.safetensors", "xyz")), InputError);
  FetchOptions o = options("/vgg19.safetensors", "");
  o.insecure_skip_verify = true;
  const FetchResult r = fetch_weights(o);
  EXPECT_FALSE(r.verified);
  EXPECT_EQ(r.sha256, hash_);
}

TEST_F(WeightsFetch, HttpErrorsAndBadFilesLeaveNothingBehind) {
  try {
    fetch_weights(options("/missing", hash_));
    FAIL() << "expected HTTP 404";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 404"), std::string::npos) << e.what();
  }
  // Right hash, but not VGG weights.
  EXPECT_THROW(fetch_weights(options("/other.safetensors", sha256_hex(other_))), InputError);
  EXPECT_EQ(count_files(models_dir()), 0);
}

TEST_F(WeightsFetch, UnreachableServerIsAClearError) {
  // A port that was free a moment ago and has no listener now.
  int port = 0;
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(addr);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  FetchOptions o = options("/x", hash_);
  o.url = "http://127.0.0.1:" + std::to_string(port) + "/vgg19.safetensors";
  try {
    fetch_weights(o);
    FAIL() << "expected a connection error";
  } catch (const InputError& e) {
    FAIL() << "not an input error: " << e.what();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot download"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count_files(models_dir()), 0);
}

}  // namespace
}  // namespace pastiche
