// Flicker and speed of video painting on a test clip made from two photos: a slow camera pan over
// one (sub-pixel steps, as a hand-held phone) and a second one moving across it as an object.
//   video_bench --background PHOTO --object PHOTO --model FILE [--out DIR] [--frames 48]
//               [--width 640] [--height 360] [--smooth 0,0.5,0.7,0.8] [--threads 2]
//               [--dump 12,24,36]
// Writes DIR/clip.mp4, one painted clip per smooth value (DIR/smooth-<s>.mp4) with its frames
// --dump as PNG, and prints one JSON line: per smooth value the mean warping error (flicker, the
// issue's measure), processing frames/s and seconds.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/runtime.h"
#include "fast/fast_stylizer.h"
#include "image/image_io.h"
#include "video/paint_video.h"
#include "video/video_reader.h"
#include "video/video_writer.h"

using namespace pastiche;

namespace {

std::vector<double> numbers(const std::string& text) {
  std::vector<double> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stod(item));
  return out;
}

// The clip: the background pans 2.1 px right and 0.6 px down per frame; the object (an ellipse
// cut from the second photo) crosses the frame at 7 px per frame.
void make_clip(const std::string& path, const cv::Mat& background, const cv::Mat& object,
               int frames, int width, int height) {
  const double scale = 1.5 * std::max(static_cast<double>(width) / background.cols,
                                      static_cast<double>(height) / background.rows);
  cv::Mat big;
  cv::resize(background, big, {}, scale, scale, cv::INTER_AREA);
  const int ow = width / 4, oh = height / 3;
  cv::Mat thing;
  cv::resize(object, thing, {ow, oh}, 0, 0, cv::INTER_AREA);
  cv::Mat mask(oh, ow, CV_8U, cv::Scalar(0));
  cv::ellipse(mask, {ow / 2, oh / 2}, {ow / 2 - 1, oh / 2 - 1}, 0, 0, 360, 255, -1);
  VideoEncoding encoding{VideoCodec::h264, width, height, {1, 24}, 24.0, 12};
  VideoWriter writer(path, encoding, nullptr, nullptr);
  for (int i = 0; i < frames; ++i) {
    cv::Mat frame;
    const cv::Point2f centre(width / 2.0f + 2.1f * i, height / 2.0f + 0.6f * i);
    cv::getRectSubPix(big, {width, height}, centre, frame);
    const int x = -ow + 7 * i % (width + ow), y = height / 2 - oh / 4;
    const cv::Rect onto = cv::Rect(x, y, ow, oh) & cv::Rect(0, 0, width, height);
    if (onto.area() > 0)
      thing(onto - cv::Point(x, y)).copyTo(frame(onto), mask(onto - cv::Point(x, y)));
    writer.write(frame, i);
  }
  writer.finish();
}

void dump_frames(const std::string& video, const std::vector<double>& which,
                 const std::string& prefix) {
  VideoReader reader(video);
  cv::Mat frame;
  int64_t pts = 0;
  for (int i = 0; reader.read(frame, pts); ++i) {
    for (double w : which)
      if (static_cast<int>(w) == i) cv::imwrite(prefix + "-" + std::to_string(i) + ".png", frame);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> kv;
  for (int i = 1; i + 1 < argc; i += 2) kv[argv[i]] = argv[i + 1];
  auto get = [&](const std::string& k, const std::string& d) { return kv.count(k) ? kv[k] : d; };
  const std::string out = get("--out", "/tmp/video-bench");
  const int frames = std::stoi(get("--frames", "48"));
  const int width = std::stoi(get("--width", "640")), height = std::stoi(get("--height", "360"));
  const auto smooths = numbers(get("--smooth", "0,0.5,0.7,0.8"));
  const auto dump = numbers(get("--dump", "12,24,36"));
  const int threads = configure_threads(std::stoi(get("--threads", "2")));
  if (!kv.count("--background") || !kv.count("--object") || !kv.count("--model")) {
    std::cerr << "usage: video_bench --background PHOTO --object PHOTO --model FILE [...]\n";
    return 2;
  }
  std::filesystem::create_directories(out);
  const std::string clip = out + "/clip.mp4";
  make_clip(clip, cv::imread(kv["--background"]), cv::imread(kv["--object"]), frames, width,
            height);
  dump_frames(clip, dump, out + "/clip");
  FastStylizer stylizer(kv["--model"]);
  nlohmann::json runs = nlohmann::json::array();
  for (double s : smooths) {
    VideoOptions options;
    options.smooth = s;
    const std::string name = out + "/smooth-" + format_number(s);
    const auto r = stylize_video(stylizer, clip, name + ".mp4", options);
    dump_frames(name + ".mp4", dump, name);
    runs.push_back({{"smooth", s},
                    {"warping_error", r.warping_error},
                    {"frames_per_second", r.frames_per_second},
                    {"seconds", r.seconds},
                    {"frames", r.frames}});
    std::cerr << "smooth " << s << ": warping error " << r.warping_error << ", "
              << r.frames_per_second << " frames/s\n";
  }
  std::cout << nlohmann::json{{"clip", clip},
                              {"size", {width, height}},
                              {"threads", threads},
                              {"model", kv["--model"]},
                              {"runs", runs}}
                   .dump()
            << "\n";
}
