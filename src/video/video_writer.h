// Writes painted frames as a video that plays everywhere: H.264 (yuv420p) in MP4 with the index
// at the front (faststart) so a browser can start and seek before the download ends, VP9 for
// WebM, MJPEG for AVI; the input's timestamps, frame rate and rotation kept, its sound copied or
// re-encoded (video/audio_track.h).
#pragma once
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "video/audio_track.h"
#include "video/av_util.h"
#include "video/video_options.h"

namespace pastiche {

// The codec `requested` resolves to for `output` (by extension when automatic); InputError when
// the extension is not a video format or the container cannot hold the codec.
VideoCodec resolve_codec(const std::string& output, VideoCodec requested);

struct VideoEncoding {
  VideoCodec codec = VideoCodec::h264;  // resolved, not automatic
  int width = 0, height = 0;            // of the frames given; odd sizes lose their last row/column
  AVRational time_base{1, 25};          // of the timestamps given
  double fps = 25;
  int quality = 0;  // CRF; 0 = the codec's default
};

class VideoWriter {
 public:
  // `path`'s extension picks the container (".part.mp4" is an MP4). `video_from`: rotation
  // metadata to copy (may be null); `audio_from`: sound to keep (may be null).
  VideoWriter(const std::string& path, const VideoEncoding& encoding, const AVStream* video_from,
              const AVStream* audio_from);
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  void write(const cv::Mat& bgr, int64_t pts);  // pts in encoding.time_base, increasing
  void write_audio(const AVPacket& packet);     // a packet of audio_from
  void finish();                                // flushes and completes the file

  std::string codec_name() const;         // "h264", "vp9", "mjpeg"
  std::string audio_description() const;  // "" without sound
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  void encode(AVFrame* frame);
  AVFormatContext* output_ = nullptr;
  AVStream* stream_ = nullptr;
  av::CodecContext encoder_;
  av::Sws sws_;
  av::Frame frame_ = av::make_frame();
  av::Packet packet_ = av::make_packet();
  std::unique_ptr<AudioTrack> audio_;
  bool frame_index_pts_ = false;  // AVI: constant rate, a frame's index is its timestamp
  int64_t frames_ = 0, last_pts_ = AV_NOPTS_VALUE;
  int width_ = 0, height_ = 0;
  bool header_written_ = false, finished_ = false;
};

}  // namespace pastiche
