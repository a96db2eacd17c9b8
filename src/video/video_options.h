// Every setting of painting a video, with its default in one place: the per-frame fast-model
// settings, temporal consistency, the output encoding and the sound. The catalogue lists them for
// every front end (`stylize-video`), and validate() is the single check.
#pragma once
#include "common/enum_names.h"
#include "common/option_catalog.h"
#include "fast/fast_options.h"

namespace pastiche {

// auto: from the output's extension (.mp4 .m4v .mov .mkv: h264, .webm: vp9, .avi: mjpeg).
enum class VideoCodec { automatic, h264, vp9, mjpeg };
inline constexpr EnumName<VideoCodec> kVideoCodecNames[] = {{VideoCodec::automatic, "auto"},
                                                            {VideoCodec::h264, "h264"},
                                                            {VideoCodec::vp9, "vp9"},
                                                            {VideoCodec::mjpeg, "mjpeg"}};

struct VideoOptions {
  FastOptions frame;  // per-frame options; frame.size = processing size (0 = native)
  // Weight of the previous painted frame, carried along the optical flow and blended in where the
  // flow is reliable (video/temporal_consistency.h); 0 = every frame painted on its own.
  double smooth = 0.4;
  VideoCodec codec = VideoCodec::automatic;
  int quality = 0;        // constant rate factor (lower = better, larger); 0 = the codec's default
  bool no_audio = false;  // drop the input's sound instead of keeping it
  int max_frames = 0;     // stop after this many frames (0 = all)
  void validate() const;  // throws InputError naming the field
};

const OptionCatalog<VideoOptions>& video_option_catalog();

}  // namespace pastiche
