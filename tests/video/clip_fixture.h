// Test clips made and inspected with FFmpeg's libraries directly, independent of the code under
// test: a textured picture with a moving disc and, optionally, a sine tone.
#pragma once
#include <string>

#include <opencv2/core.hpp>

namespace pastiche::testing {

struct ClipSpec {
  int frames = 10;
  cv::Size size{64, 48};
  int fps = 12;
  std::string video_codec = "mjpeg";  // FFmpeg encoder name
  double tone_hz = 0;                 // 0: no sound
  std::string audio_codec = "pcm_s16le";
  int rotation = 0;  // clockwise degrees stored as a display matrix
};
void write_test_clip(const std::string& path, const ClipSpec& spec);

struct ClipProbe {
  int frames = 0;  // decoded
  int width = 0, height = 0;
  double fps = 0;
  std::string video_codec, pixel_format;
  int rotation = 0;
  std::string audio_codec;  // empty: no sound
  int channels = 0, sample_rate = 0;
  double audio_seconds = 0;
  double tone_hz = 0;        // from zero crossings of the first channel
  bool index_first = false;  // MP4: "moov" before "mdat" (faststart)
};
ClipProbe probe_clip(const std::string& path);

}  // namespace pastiche::testing
