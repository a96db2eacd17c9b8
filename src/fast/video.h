// Stylising a video frame by frame through OpenCV (VideoCapture -> FastStylizer -> VideoWriter),
// keeping the frame rate and frame size. Audio is not copied.
#pragma once
#include <atomic>
#include <functional>
#include <string>

#include <opencv2/core.hpp>

#include "fast/fast_options.h"
#include "fast/fast_stylizer.h"

namespace pastiche {

struct VideoResult {
  int frames = 0;
  double fps = 0;  // of the input, kept in the output
  int width = 0, height = 0;
  double seconds = 0;
  double frames_per_second = 0;  // processing speed
  std::string codec;
};

// One frame (8-bit BGR) -> its painting, any size (scaled back to the frame's).
using FramePainter = std::function<cv::Mat(const cv::Mat&)>;

// Every frame through `paint`, with options.smooth, max_frames and codec applied (options.frame
// is the painter's business). progress(done_frames, total_frames); total is 0 when the
// container does not say.
VideoResult paint_video(const FramePainter& paint, const std::string& input,
                        const std::string& output, const VideoOptions& options,
                        const std::function<void(int, int)>& progress = {},
                        const std::atomic<bool>* cancel = nullptr);

// paint_video with a fast model and options.frame.
VideoResult stylize_video(FastStylizer& stylizer, const std::string& input,
                          const std::string& output, const VideoOptions& options,
                          const std::function<void(int, int)>& progress = {},
                          const std::atomic<bool>* cancel = nullptr);

}  // namespace pastiche
