// Fast style transfer benchmarks, comparable with ../shared/peers/peer_fast.py:
//   fast_bench --mode infer [--sizes 256,512,1024] [--runs 5] [--warmup 1] [--width 32]
//              [--res-blocks 5] [--precision auto|fp32|bf16] [--layout auto|nchw|channels-last]
//              [--threads 2] [--int8 auto|on|off]
//   fast_bench --mode train [--size 256] [--batch 4] [--runs 5] --vgg FILE [--width 16 ...]
//   fast_bench --mode video [--video-width 640] [--video-height 360] [--frames 30]
//   --profile FILE (infer, train): one more run under the LibTorch profiler, written as a Chrome
//   trace; bench/profile_summary.py prints its ops by self time.
// Prints one JSON line on stdout (median/min/max ms, GFLOP and GFLOP/s). Inference: batch 1,
// InferenceMode, random init (timing does not depend on the weights). Training: prebuilt random
// batch, the project's trainer step (VGG losses at the default layers, Adam).
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#if __has_include(<torch/csrc/autograd/profiler_legacy.h>)
#include <torch/csrc/autograd/profiler_legacy.h>
#define PASTICHE_HAS_PROFILER 1
#endif

#include "common/runtime.h"
#include "fast/fast_stylizer.h"
#include "fast/int8_conv.h"
#include "fast/model_file.h"
#include "fast/tiled.h"
#include "fast/trainer.h"
#include "fast/transformer_net.h"
#include "vgg/vgg.h"

using namespace pastiche;

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode = "infer";
  std::vector<int> sizes{256, 512, 1024};
  int runs = 5, warmup = 1, threads = 2;
  int64_t width = 32, res_blocks = 5;
  std::string precision = "auto", layout = "auto";
  // int8 convolutions (each run calibrated first, as stylize does): auto as stylize, on, off
  std::string int8 = "auto";
  int size = 256, batch = 4;
  std::string vgg, profile;
  int video_width = 640, video_height = 360, frames = 30;
};

Args parse(int argc, char** argv) {
  Args a;
  std::map<std::string, std::string> kv;
  for (int i = 1; i + 1 < argc; i += 2) kv[argv[i]] = argv[i + 1];
  auto get = [&](const std::string& k, auto& v) {
    if (!kv.count(k)) return;
    std::istringstream in(kv[k]);
    in >> v;
  };
  get("--mode", a.mode);
  if (kv.count("--sizes")) {
    a.sizes.clear();
    std::istringstream in(kv["--sizes"]);
    std::string item;
    while (std::getline(in, item, ',')) a.sizes.push_back(std::stoi(item));
  }
  get("--runs", a.runs);
  get("--warmup", a.warmup);
  get("--threads", a.threads);
  get("--width", a.width);
  get("--res-blocks", a.res_blocks);
  get("--precision", a.precision);
  get("--layout", a.layout);
  get("--int8", a.int8);
  get("--size", a.size);
  get("--batch", a.batch);
  get("--vgg", a.vgg);
  get("--profile", a.profile);
  get("--video-width", a.video_width);
  get("--video-height", a.video_height);
  get("--frames", a.frames);
  return a;
}

// Multiply-adds x 2 of every convolution of the transform network at h x w (h, w multiples of 4).
double transformer_gflop(const TransformerNetOptions& o, int64_t h, int64_t w) {
  const int64_t c = o.width;
  auto conv = [](int64_t k, int64_t cin, int64_t cout, int64_t hh, int64_t ww) {
    return 2.0 * k * k * cin * cout * hh * ww;
  };
  double f =
      conv(9, 3, c, h, w) + conv(3, c, 2 * c, h / 2, w / 2) + conv(3, 2 * c, 4 * c, h / 4, w / 4);
  f += 2.0 * o.res_blocks * conv(3, 4 * c, 4 * c, h / 4, w / 4);
  f += conv(3, 4 * c, 2 * c, h / 2, w / 2) + conv(3, 2 * c, c, h, w) + conv(9, c, 3, h, w);
  return f / 1e9;
}

// Runs `f` once more under the profiler when --profile was given (after the timed runs).
template <typename F>
void profile_run(const Args& a, F&& f) {
  if (a.profile.empty()) return;
#ifdef PASTICHE_HAS_PROFILER
  torch::autograd::profiler::RecordProfile guard(a.profile);
  f();
#else
  std::cerr << "--profile: this LibTorch has no legacy profiler; ignored\n";
#endif
}

nlohmann::json stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  double mean = 0;
  for (double v : ms) mean += v;
  return {{"median_ms", median},
          {"min_ms", ms.front()},
          {"max_ms", ms.back()},
          {"mean_ms", mean / static_cast<double>(ms.size())},
          {"runs", ms.size()}};
}

ComputeFormat format_of(const Args& a) {
  return resolve_compute_format(parse_precision(a.precision), parse_memory_layout(a.layout),
                                torch::kCPU);
}

bool uses_int8(const Args& a, const ComputeFormat& format, int64_t size) {
  if (a.int8 == "auto") return int8_by_default(format, torch::kCPU, size);
  return a.int8 == "on";
}

nlohmann::json bench_infer(const Args& a) {
  torch::manual_seed(42);
  const TransformerNetOptions options{a.width, a.res_blocks, 1};
  TransformerNet net(options);
  const auto format = format_of(a);
  prepare_for_inference(net, format);
  bool any_int8 = false;
  nlohmann::json out = nlohmann::json::object();
  c10::InferenceMode guard;
  const auto style = net->style_vector(0);
  auto pass = [&](const torch::Tensor& x) {
    calibrate_int8(net, x, style);
    return net->forward(x, style);
  };
  for (int size : a.sizes) {
    const auto x = format.apply(torch::rand({1, 3, size, size}));
    net->set_int8(uses_int8(a, format, size));
    any_int8 = any_int8 || net->int8();
    std::vector<double> ms;
    for (int r = 0; r < a.warmup + a.runs; ++r) {
      const auto t0 = Clock::now();
      auto y = pass(x);
      const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (r >= a.warmup) ms.push_back(elapsed);
      std::cerr << "infer " << size << " run " << r << ": " << elapsed << " ms\n";
    }
    profile_run(a, [&] { pass(x); });
    auto s = stats(ms);
    const double gflop = transformer_gflop(options, size, size);
    s["gflop"] = gflop;
    s["gflop_per_s"] = gflop / (s["median_ms"].get<double>() / 1000.0);
    s["images_per_s"] = 1000.0 / s["median_ms"].get<double>();
    s["int8"] = net->int8();
    out[std::to_string(size)] = s;
  }
  nlohmann::json result = {{"infer", out}, {"parameters", net->parameter_count()}};
  if (any_int8) result["precision"] = "int8";  // (float layers: the format below)
  return result;
}

nlohmann::json bench_train(const Args& a) {
  const auto dir = std::filesystem::temp_directory_path() / "pastiche-fast-bench";
  std::filesystem::create_directories(dir);
  cv::Mat style(256, 256, CV_8UC3);
  cv::randu(style, 0, 255);
  cv::imwrite((dir / "style.png").string(), style);
  TrainOptions o;
  o.styles = {StyleSpec{(dir / "style.png").string(), "", "", "", ""}};
  o.dataset = dir.string();
  o.output = (dir / "bench.safetensors").string();
  o.vgg = a.vgg;
  o.size = a.size;
  o.batch = a.batch;
  o.width = a.width;
  o.res_blocks = a.res_blocks;
  o.precision = parse_precision(a.precision);
  o.layout = parse_memory_layout(a.layout);
  TrainStepper stepper(o);
  torch::manual_seed(0);
  const auto batch = torch::rand({a.batch, 3, a.size, a.size});
  std::vector<double> ms;
  for (int r = 0; r < a.warmup + a.runs; ++r) {
    const auto t0 = Clock::now();
    stepper.step(batch);
    const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (r >= a.warmup) ms.push_back(elapsed);
    std::cerr << "train run " << r << ": " << elapsed << " ms\n";
  }
  profile_run(a, [&] { stepper.step(batch); });
  auto s = stats(ms);
  s["median_s_per_step"] = s["median_ms"].get<double>() / 1000.0;
  s["images_per_s"] = a.batch * 1000.0 / s["median_ms"].get<double>();
  return {{"train", s}, {"parameters", stepper.parameters()}, {"vgg", a.vgg}};
}

nlohmann::json bench_video(const Args& a) {
  torch::manual_seed(42);
  const auto dir = std::filesystem::temp_directory_path() / "pastiche-fast-bench";
  std::filesystem::create_directories(dir);
  TransformerNet net(TransformerNetOptions{a.width, a.res_blocks, 1});
  FastModelMeta meta;
  meta.styles = {StyleMeta{"bench", "", "", "", {}}};
  const auto model_path = (dir / "video-model.safetensors").string();
  save_fast_model(model_path, FastModel(net, meta));
  FastStylizer stylizer(model_path, torch::kCPU, parse_precision(a.precision),
                        parse_memory_layout(a.layout));
  cv::Mat frame(a.video_height, a.video_width, CV_8UC3);
  cv::randu(frame, 0, 255);
  std::vector<double> ms;
  for (int r = 0; r < a.frames + 1; ++r) {
    const auto t0 = Clock::now();
    stylizer.stylize(frame, {});
    const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (r > 0) ms.push_back(elapsed);
  }
  auto s = stats(ms);
  s["frames_per_s"] = 1000.0 / s["median_ms"].get<double>();
  return {{"video", s}, {"frame", {a.video_width, a.video_height}}};
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = parse(argc, argv);
  const int threads = configure_threads(args.threads);
  nlohmann::json result;
  if (args.mode == "infer") {
    result = bench_infer(args);
  } else if (args.mode == "train") {
    if (args.vgg.empty()) {
      std::cerr << "--vgg FILE is required for --mode train\n";
      return 2;
    }
    result = bench_train(args);
  } else if (args.mode == "video") {
    result = bench_video(args);
  } else {
    std::cerr << "unknown --mode " << args.mode << " (infer, train, video)\n";
    return 2;
  }
  const auto info = device_info();
  result["impl"] = "pastiche-cpp";
  result["mode"] = args.mode;
  result["threads"] = threads;
  result["network"] = {{"width", args.width}, {"res_blocks", args.res_blocks}};
  const auto format = format_of(args);
  if (!result.contains("precision")) result["precision"] = format.precision_name();
  result["layout"] = format.layout_name();
  result["blas"] = info.blas;
  result["torch_version"] = info.torch_version;
  result["peak_rss_mb"] = static_cast<double>(peak_rss_bytes()) / (1024.0 * 1024.0);
  std::cout << result.dump() << std::endl;
  return 0;
}
