#include "video/video_options.h"

namespace pastiche {

const OptionCatalog<VideoOptions>& video_option_catalog() {
  using V = VideoOptions;
  constexpr unsigned video = option_use::video;
  static const OptionCatalog<V> catalog = [] {
    OptionCatalog<V> c;
    for (const auto& o : fast_option_catalog()) {
      if (o.used_by(video)) c.push_back(nested_option(o, &V::frame));
    }
    c.push_back(number_option("smooth", &V::smooth, 0, 0.95,
                              "Temporal consistency: weight of the previous painted frame, "
                              "carried along the optical flow where it is reliable (0 = every "
                              "frame on its own; higher = steadier, slower to follow changes)",
                              video));
    c.push_back(choice_option("codec", &V::codec, kVideoCodecNames,
                              "Output codec (auto: h264 for .mp4/.mov/.mkv, vp9 for .webm, mjpeg "
                              "for .avi)",
                              video));
    c.push_back(integer_option("quality", &V::quality, 1, 63,
                               "Constant rate factor: lower is better and larger (h264 1-51, "
                               "default 20; vp9 1-63, default 32)",
                               video, "the codec's default"));
    c.push_back(flag_option("no_audio", &V::no_audio, "Drop the input's sound", video));
    c.push_back(integer_option("max_frames", &V::max_frames, 1, INT32_MAX,
                               "Stop after this many frames", video, "all"));
    return c;
  }();
  return catalog;
}

void VideoOptions::validate() const {
  validate_options(video_option_catalog(), *this);
}

}  // namespace pastiche
