// Arbitrary-style transfer speed (issue: 512² ≤ 0.4 s, 1024² ≤ 1.5 s on 2 cores):
//   arbitrary_bench --model models/arbitrary/relu3_1.safetensors --vgg FILE --style painting.jpg
//                   [--sizes 512,1024,2048] [--runs 5] [--threads 2]
// The painting's statistics are computed once (as the stylizer caches them) and timed apart;
// each run is one stylize() of a square photo-like image. Prints one JSON line per size: median,
// min and max ms, and the process's peak RSS.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arbitrary/arbitrary_stylizer.h"
#include "common/runtime.h"
#include "image/image_io.h"

using namespace pastiche;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::map<std::string, std::string> kv;
  for (int i = 1; i + 1 < argc; i += 2) kv[argv[i]] = argv[i + 1];
  auto get = [&](const std::string& k, const std::string& d) { return kv.count(k) ? kv[k] : d; };
  const int threads = configure_threads(std::stoi(get("--threads", "2")));
  const int runs = std::stoi(get("--runs", "5"));
  std::vector<int> sizes;
  for (const auto& s : std::vector<std::string>{get("--sizes", "512,1024")}) {
    size_t start = 0;
    while (start < s.size()) {
      const size_t end = std::min(s.find(',', start), s.size());
      sizes.push_back(std::stoi(s.substr(start, end - start)));
      start = end + 1;
    }
  }
  try {
    const auto vgg = get("--vgg", default_vgg_weights_path());
    ArbitraryStylizer stylizer(get("--model", default_arbitrary_model_path()), vgg);
    const cv::Mat painting = load_image(get("--style", ""));
    auto t0 = Clock::now();
    const auto style = stylizer.style("bench", painting, 512);
    const double style_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    for (int size : sizes) {
      // A photo-like input: smooth gradients plus detail, so the timing is not of a flat image.
      cv::Mat photo(size, size, CV_8UC3);
      cv::randu(photo, 0, 255);
      cv::GaussianBlur(photo, photo, cv::Size(0, 0), 3);
      ArbitraryOptions o;
      stylizer.stylize(photo, {style}, o);  // warm-up
      std::vector<double> ms;
      for (int r = 0; r < runs; ++r) {
        t0 = Clock::now();
        stylizer.stylize(photo, {style}, o);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      std::sort(ms.begin(), ms.end());
      std::cout << nlohmann::json{{"bench", "arbitrary"},
                                  {"size", size},
                                  {"median_ms", ms[ms.size() / 2]},
                                  {"min_ms", ms.front()},
                                  {"max_ms", ms.back()},
                                  {"style_statistics_ms", style_ms},
                                  {"precision", stylizer.format().precision_name()},
                                  {"layout", stylizer.format().layout_name()},
                                  {"threads", threads},
                                  {"peak_rss_mb", peak_rss_bytes() / (1024.0 * 1024.0)}}
                       .dump()
                << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "arbitrary_bench: " << e.what() << "\n";
    return 2;
  }
}
