#include "fast/video.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "common/error.h"
#include "image/image_io.h"

namespace pastiche {

namespace {

std::string codec_for(const std::string& output, const std::string& requested) {
  if (!requested.empty()) return requested;
  auto ext = std::filesystem::path(output).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  if (ext == ".mp4" || ext == ".m4v" || ext == ".mov") return "mp4v";
  if (ext == ".avi") return "MJPG";
  if (ext == ".mkv") return "MJPG";
  throw InputError("cannot tell the video format of '" + output +
                   "'; use an .mp4, .avi or .mkv output (or --codec)");
}

}  // namespace

VideoResult stylize_video(FastStylizer& stylizer, const std::string& input,
                          const std::string& output, const VideoOptions& options,
                          const std::function<void(int, int)>& progress,
                          const std::atomic<bool>* cancel) {
  options.validate();
  return paint_video(
      [&](const cv::Mat& frame) { return stylizer.stylize(frame, options.frame, {}, cancel); },
      input, output, options, progress, cancel);
}

VideoResult paint_video(const FramePainter& paint, const std::string& input,
                        const std::string& output, const VideoOptions& options,
                        const std::function<void(int, int)>& progress,
                        const std::atomic<bool>* cancel) {
  options.validate();
  if (!std::filesystem::exists(input)) throw NotFoundError("video '" + input + "' not found");
  cv::VideoCapture capture(input);
  if (!capture.isOpened())
    throw UnsupportedTypeError("cannot open '" + input +
                               "' as a video (OpenCV could not decode it)");
  VideoResult result;
  result.fps = capture.get(cv::CAP_PROP_FPS);
  if (!(result.fps > 0 && result.fps < 1000)) result.fps = 25.0;
  result.width = static_cast<int>(capture.get(cv::CAP_PROP_FRAME_WIDTH));
  result.height = static_cast<int>(capture.get(cv::CAP_PROP_FRAME_HEIGHT));
  int total = std::max(0, static_cast<int>(capture.get(cv::CAP_PROP_FRAME_COUNT)));
  if (options.max_frames > 0 && (total == 0 || total > options.max_frames))
    total = options.max_frames;
  result.codec = codec_for(output, options.codec);

  const auto tmp = output + ".part" + std::filesystem::path(output).extension().string();
  cv::VideoWriter writer;
  const auto& c = result.codec;
  if (!writer.open(tmp, cv::VideoWriter::fourcc(c[0], c[1], c[2], c[3]), result.fps,
                   cv::Size(result.width, result.height)))
    throw InputError("cannot write video '" + output + "' with codec " + c);

  const auto start = std::chrono::steady_clock::now();
  cv::Mat frame, previous;
  try {
    while (options.max_frames == 0 || result.frames < options.max_frames) {
      if (cancel && cancel->load()) throw Cancelled();
      if (!capture.read(frame) || frame.empty()) break;
      if (frame.channels() == 1) cv::cvtColor(frame, frame, cv::COLOR_GRAY2BGR);
      cv::Mat out = paint(frame);
      if (out.size() != frame.size()) out = resize_to(out, frame.cols, frame.rows);
      if (options.smooth > 0 && !previous.empty())
        cv::addWeighted(out, 1.0 - options.smooth, previous, options.smooth, 0.0, out);
      previous = out;
      writer.write(out);
      ++result.frames;
      if (progress) progress(result.frames, total);
    }
  } catch (...) {
    writer.release();
    std::filesystem::remove(tmp);
    throw;
  }
  writer.release();
  if (result.frames == 0) {
    std::filesystem::remove(tmp);
    throw InputError("video '" + input + "' has no readable frames");
  }
  std::filesystem::rename(tmp, output);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.frames_per_second = result.frames / std::max(1e-9, result.seconds);
  return result;
}

}  // namespace pastiche
