// Reads a video file through FFmpeg's libraries: decoded frames as 8-bit BGR with their
// timestamps, and the packets of its sound for the writer to keep. Frames come in stored
// orientation; the rotation a player applies is reported (and copied to the output) instead.
#pragma once
#include <functional>
#include <string>

#include <opencv2/core.hpp>

#include "video/av_util.h"

namespace pastiche {

struct VideoInfo {
  int width = 0, height = 0;    // stored frame size
  double fps = 0;               // average frame rate (25 when the file does not say)
  AVRational time_base{1, 25};  // of the timestamps read() returns
  int64_t frame_count = 0;      // from the container, or estimated from the duration; 0 unknown
  double duration = 0;          // seconds; 0 unknown
  int rotation = 0;             // clockwise degrees a player turns the picture
  std::string codec;            // of the video stream, e.g. "h264"
  std::string audio_codec;      // of the sound kept, empty when there is none
};

// 8K UHD is 33 megapixels; an image may have 40.
inline constexpr int64_t kMaxVideoPixels = 40'000'000;

class VideoReader {
 public:
  // NotFoundError for a missing file; UnsupportedTypeError when it is not a video FFmpeg decodes.
  // TooLargeError when a frame is over `max_pixels` (a hostile header can claim any size).
  explicit VideoReader(const std::string& path, int64_t max_pixels = kMaxVideoPixels);
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const VideoInfo& info() const { return info_; }
  const AVStream* video_stream() const;
  const AVStream* audio_stream() const;  // nullptr when the file has no sound

  // Packets of audio_stream() met while reading frames go to the sink (not freed by it).
  void set_audio_sink(std::function<void(const AVPacket&)> sink) { audio_sink_ = std::move(sink); }

  // The next frame (BGR, info() size) and its timestamp in info().time_base; false at the end.
  bool read(cv::Mat& bgr, int64_t& pts);
  // Hands the remaining audio packets up to `end` (audio_stream()'s time base) to the sink.
  void drain_audio(int64_t end);

 private:
  bool receive(cv::Mat& bgr, int64_t& pts);
  AVFormatContext* format_ = nullptr;
  av::CodecContext decoder_;
  av::Frame frame_ = av::make_frame();
  av::Packet packet_ = av::make_packet();
  av::Sws sws_;
  int video_index_ = -1, audio_index_ = -1;
  bool flushed_ = false;
  int64_t next_pts_ = 0;  // for frames without a timestamp
  int64_t frame_step_ = 1;
  std::function<void(const AVPacket&)> audio_sink_;
  VideoInfo info_;
  std::string path_;
};

}  // namespace pastiche
