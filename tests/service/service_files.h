// The files a test server needs, without any test framework (the service fuzzer uses them too):
// a data directory, a tiny synthetic VGG, tiny fast models and one painting, in a temporary
// directory removed afterwards.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include "common/fixtures.h"
#include "fast/model_file.h"
#include "fast/transformer_net.h"
#include "image/image_io.h"
#include "service/server.h"

namespace pastiche::testing {

// Files every service test needs, created once per test in a temporary directory.
struct ServiceFiles {
  TempDir dir;
  std::string data_dir, models_dir, styles_dir, vgg_path;

  ServiceFiles() {
    namespace fs = std::filesystem;
    data_dir = dir.file("data");
    models_dir = dir.file("models");
    styles_dir = dir.file("styles");
    fs::create_directories(models_dir);
    fs::create_directories(styles_dir);
    vgg_path = write_synthetic_vgg(dir.file("vgg.safetensors"), WeightConvention::torchvision, 2);
    write_fast_model(models_dir + "/tiny.safetensors", 1, "tiny");
    write_fast_model(models_dir + "/duo.safetensors", 2, "duo");
    save_image(synthetic_style_image(64, 64), styles_dir + "/stripes.png");
    std::ofstream(styles_dir + "/stripes.json")
        << R"({"title": "Stripes", "artist": "Synthetic", "description": "Test painting."})";
  }

  static void write_fast_model(const std::string& path, int styles, const std::string& name) {
    torch::manual_seed(1);
    TransformerNetOptions net_options{4, 0, styles};
    FastModelMeta meta;
    meta.network = net_options;
    for (int i = 0; i < styles; ++i) {
      StyleMeta s;
      s.name = styles == 1 ? name : name + "_" + std::to_string(i);
      s.title = "Tiny " + std::to_string(i);
      s.artist = "Test";
      s.description = "A tiny model for tests.";
      meta.styles.push_back(s);
    }
    save_fast_model(path, FastModel(TransformerNet(net_options), meta));
  }

  service::ServerConfig config() const {
    service::ServerConfig c;
    c.host = "127.0.0.1";
    c.port = 0;
    c.data_dir = data_dir;
    c.styles_dir = styles_dir;
    c.model_dirs = {models_dir};
    c.vgg_path = vgg_path;
    c.web_dir = dir.file("no-web");
    c.device = "cpu";
    c.threads = 1;
    // ctest runs test binaries in parallel: idle-priority workers would wait behind them.
    c.idle_priority_workers = false;
    c.log_console = false;
    c.rate_limit = 0;
    c.http_threads = 16;
    c.preview_every = 2;
    return c;
  }
};

}  // namespace pastiche::testing
