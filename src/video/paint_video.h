// Painting a video frame by frame: FFmpeg decodes (video/video_reader.h), a painter stylises each
// frame, the previous painted frame is carried along the optical flow where it is reliable
// (video/temporal_consistency.h), and the result is encoded to a file that plays in browsers with
// the input's sound (video/video_writer.h). The output appears whole or not at all.
#pragma once
#include <atomic>
#include <functional>
#include <string>

#include <opencv2/core.hpp>

#include "fast/fast_stylizer.h"
#include "video/video_options.h"

namespace pastiche {

struct VideoResult {
  int frames = 0;
  double fps = 0;  // of the input, kept in the output
  int width = 0, height = 0;
  int rotation = 0;     // clockwise degrees, as stored in the input and the output
  double duration = 0;  // seconds of the output's picture
  double seconds = 0;
  double frames_per_second = 0;  // processing speed
  std::string codec;             // "h264"
  std::string audio;             // "aac (copied)", "aac (from pcm_s16le)", "" without sound
  // Flicker: the mean squared difference (values 0-1) between each painted frame and the
  // previous one carried along the input's optical flow, over pixels the flow can follow.
  double warping_error = 0;
};

// One frame (8-bit BGR) -> its painting, any size (scaled back to the frame's).
using FramePainter = std::function<cv::Mat(const cv::Mat&)>;

// Every frame through `paint`, with options.smooth, max_frames, codec, quality and no_audio
// applied (options.frame is the painter's business). progress(done_frames, total_frames); total
// is 0 when the container does not say. `measure_flicker` computes warping_error even when
// smooth is 0 (it costs the optical flow).
VideoResult paint_video(const FramePainter& paint, const std::string& input,
                        const std::string& output, const VideoOptions& options,
                        const std::function<void(int, int)>& progress = {},
                        const std::atomic<bool>* cancel = nullptr, bool measure_flicker = true);

// paint_video with a fast model and options.frame.
VideoResult stylize_video(FastStylizer& stylizer, const std::string& input,
                          const std::string& output, const VideoOptions& options,
                          const std::function<void(int, int)>& progress = {},
                          const std::atomic<bool>* cancel = nullptr, bool measure_flicker = true);

}  // namespace pastiche
