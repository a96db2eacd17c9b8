// Painting whole videos: frames, timing, rotation and sound kept, H.264 that browsers play, clear
// errors and no partial output.
#include "video/paint_video.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "common/error.h"
#include "common/fixtures.h"
#include "fast/fast_test_util.h"
#include "video/clip_fixture.h"
#include "video/video_reader.h"
#include "video/video_writer.h"

namespace pastiche {
namespace {

using testing::ClipSpec;
using testing::probe_clip;
using testing::TempDir;
using testing::write_test_clip;

class PaintVideo : public ::testing::Test {
 protected:
  TempDir dir;
  FastStylizer stylizer{testing::write_random_model(dir.file("m.safetensors"), 4, 1, 1)};
};

TEST_F(PaintVideo, H264WithTheToneCopiedKeepsFramesSizeRateAndRotation) {
  ClipSpec spec;
  spec.frames = 12;
  spec.size = {96, 64};
  spec.fps = 12;
  spec.video_codec = "libx264";
  spec.tone_hz = 440;
  spec.audio_codec = "aac";
  spec.rotation = 90;
  write_test_clip(dir.file("in.mp4"), spec);
  VideoOptions options;
  int calls = 0, last_total = -1;
  const auto result = stylize_video(stylizer, dir.file("in.mp4"), dir.file("out.mp4"), options,
                                    [&](int, int total) {
                                      ++calls;
                                      last_total = total;
                                    });
  EXPECT_EQ(result.frames, 12);
  EXPECT_EQ(calls, 12);
  EXPECT_EQ(last_total, 12);
  EXPECT_EQ(result.codec, "h264");
  EXPECT_EQ(result.audio, "aac (copied)");
  EXPECT_EQ(result.rotation, 90);
  EXPECT_NEAR(result.duration, 1.0, 1e-6);
  const auto probe = probe_clip(dir.file("out.mp4"));
  EXPECT_EQ(probe.frames, 12);
  EXPECT_EQ(probe.width, 96);
  EXPECT_EQ(probe.height, 64);
  EXPECT_NEAR(probe.fps, 12.0, 1e-6);
  EXPECT_EQ(probe.video_codec, "h264");
  EXPECT_EQ(probe.pixel_format, "yuv420p");  // what browsers decode
  EXPECT_EQ(probe.rotation, 90);
  EXPECT_TRUE(probe.index_first);  // faststart: playable while it downloads
  EXPECT_EQ(probe.audio_codec, "aac");
  EXPECT_NEAR(probe.audio_seconds, 1.0, 0.1);
  EXPECT_NEAR(probe.tone_hz, 440, 10);
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.mp4.part.mp4")));
}

TEST_F(PaintVideo, SoundAnMp4CannotHoldIsReencodedToAac) {
  ClipSpec spec;
  spec.frames = 8;
  spec.tone_hz = 1000;  // PCM in Matroska
  write_test_clip(dir.file("in.mkv"), spec);
  const auto result = stylize_video(stylizer, dir.file("in.mkv"), dir.file("out.mp4"), {});
  EXPECT_EQ(result.audio, "aac (from pcm_s16le)");
  const auto probe = probe_clip(dir.file("out.mp4"));
  EXPECT_EQ(probe.audio_codec, "aac");
  EXPECT_EQ(probe.channels, 2);
  EXPECT_NEAR(probe.tone_hz, 1000, 20);
  EXPECT_NEAR(probe.audio_seconds, 8.0 / 12, 0.1);
}

TEST_F(PaintVideo, WebmIsVp9WithOpusAndNoAudioDropsTheSound) {
  ClipSpec spec;
  spec.frames = 6;
  spec.tone_hz = 500;
  write_test_clip(dir.file("in.mkv"), spec);
  const auto webm = stylize_video(stylizer, dir.file("in.mkv"), dir.file("out.webm"), {});
  EXPECT_EQ(webm.codec, "vp9");
  EXPECT_EQ(webm.audio, "opus (from pcm_s16le)");
  const auto probe = probe_clip(dir.file("out.webm"));
  EXPECT_EQ(probe.video_codec, "vp9");
  EXPECT_EQ(probe.audio_codec, "opus");
  EXPECT_EQ(probe.frames, 6);
  EXPECT_NEAR(probe.tone_hz, 500, 15);

  VideoOptions silent;
  silent.no_audio = true;
  const auto quiet = stylize_video(stylizer, dir.file("in.mkv"), dir.file("quiet.mp4"), silent);
  EXPECT_EQ(quiet.audio, "");
  EXPECT_EQ(probe_clip(dir.file("quiet.mp4")).audio_codec, "");
}

TEST_F(PaintVideo, ProcessingSizeIsScaledBackOddSizesEvenedAndMaxFramesStops) {
  ClipSpec spec;
  spec.frames = 6;
  spec.size = {81, 41};
  spec.tone_hz = 300;
  write_test_clip(dir.file("in.mkv"), spec);
  VideoOptions options;
  options.frame.size = 40;
  options.max_frames = 3;
  const auto result = stylize_video(stylizer, dir.file("in.mkv"), dir.file("out.mp4"), options);
  EXPECT_EQ(result.frames, 3);
  EXPECT_EQ(result.width, 80);  // yuv420p wants even sizes
  EXPECT_EQ(result.height, 40);
  const auto probe = probe_clip(dir.file("out.mp4"));
  EXPECT_EQ(probe.frames, 3);
  EXPECT_EQ(probe.width, 80);
  EXPECT_EQ(probe.height, 40);
  EXPECT_LT(probe.audio_seconds, 6.0 / 12);  // the sound stops near the last frame
}

TEST_F(PaintVideo, AviStaysMjpegForOlderTools) {
  write_test_clip(dir.file("in.avi"), {});
  const auto result = stylize_video(stylizer, dir.file("in.avi"), dir.file("out.avi"), {});
  EXPECT_EQ(result.codec, "mjpeg");
  const auto probe = probe_clip(dir.file("out.avi"));
  EXPECT_EQ(probe.frames, 10);
  EXPECT_NEAR(probe.fps, 12, 1e-6);
}

TEST_F(PaintVideo, ClearErrorsAndNothingLeftBehind) {
  EXPECT_THROW(stylize_video(stylizer, dir.file("missing.mp4"), dir.file("o.mp4"), {}),
               NotFoundError);
  std::ofstream(dir.file("text.mp4")) << "not a video";
  EXPECT_THROW(stylize_video(stylizer, dir.file("text.mp4"), dir.file("o.mp4"), {}),
               UnsupportedTypeError);
  write_test_clip(dir.file("in.mkv"), {});
  // A file cut in half still gives the frames it has; one cut to its header has none.
  const auto size = std::filesystem::file_size(dir.file("in.mkv"));
  std::filesystem::copy_file(dir.file("in.mkv"), dir.file("cut.mkv"));
  std::filesystem::resize_file(dir.file("cut.mkv"), size / 2);
  const auto cut = stylize_video(stylizer, dir.file("cut.mkv"), dir.file("cut.mp4"), {});
  EXPECT_GT(cut.frames, 0);
  EXPECT_LT(cut.frames, 10);
  std::filesystem::copy_file(dir.file("in.mkv"), dir.file("header.mkv"));
  std::filesystem::resize_file(dir.file("header.mkv"), 200);
  EXPECT_THROW(stylize_video(stylizer, dir.file("header.mkv"), dir.file("h.mp4"), {}), InputError);
  EXPECT_THROW(stylize_video(stylizer, dir.file("in.mkv"), dir.file("o.gif"), {}), InputError);
  VideoOptions h264_in_webm;
  h264_in_webm.codec = VideoCodec::h264;
  EXPECT_THROW(stylize_video(stylizer, dir.file("in.mkv"), dir.file("o.webm"), h264_in_webm),
               InputError);
  std::atomic<bool> cancel{true};
  EXPECT_THROW(stylize_video(stylizer, dir.file("in.mkv"), dir.file("c.mp4"), {}, {}, &cancel),
               Cancelled);
  for (const auto& name : {"o.mp4", "h.mp4", "o.gif", "o.webm", "c.mp4", "c.mp4.part.mp4"})
    EXPECT_FALSE(std::filesystem::exists(dir.file(name))) << name;
  VideoOptions bad;
  bad.smooth = 1.0;
  EXPECT_THROW(bad.validate(), InputError);
}

// Damaged files (bytes overwritten at random, seeded): each gives a picture or a clear error,
// never a crash, and never a partial output.
TEST_F(PaintVideo, DamagedFilesFailCleanly) {
  ClipSpec spec;
  spec.frames = 6;
  spec.tone_hz = 440;
  spec.video_codec = "libx264";
  spec.audio_codec = "aac";
  write_test_clip(dir.file("in.mp4"), spec);
  std::ifstream in(dir.file("in.mp4"), std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::mt19937 random(17);
  int painted = 0, refused = 0;
  for (int round = 0; round < 16; ++round) {
    std::string bytes = good;
    const int hits = 1 + round % 8;
    for (int i = 0; i < hits; ++i)
      bytes[random() % bytes.size()] = static_cast<char>(random() & 0xff);
    std::ofstream(dir.file("bad.mp4"), std::ios::binary) << bytes;
    try {
      stylize_video(stylizer, dir.file("bad.mp4"), dir.file("out.mp4"), {});
      ++painted;
      EXPECT_TRUE(std::filesystem::exists(dir.file("out.mp4")));
      std::filesystem::remove(dir.file("out.mp4"));
    } catch (const std::exception& e) {  // InputError, or FFmpeg's own failure as runtime_error
      ++refused;
      EXPECT_FALSE(std::string(e.what()).empty());
      EXPECT_FALSE(std::filesystem::exists(dir.file("out.mp4")));
      EXPECT_FALSE(std::filesystem::exists(dir.file("out.mp4.part.mp4")));
    }
  }
  EXPECT_EQ(painted + refused, 16);
}

TEST_F(PaintVideo, FramesOverThePixelLimitAreRefusedBeforeDecoding) {
  write_test_clip(dir.file("in.mkv"), {});
  EXPECT_THROW(VideoReader(dir.file("in.mkv"), 64 * 48 - 1), TooLargeError);
  EXPECT_EQ(VideoReader(dir.file("in.mkv"), 64 * 48).info().width, 64);
}

TEST(VideoCodecChoice, FollowsTheExtension) {
  EXPECT_EQ(resolve_codec("a.MP4", VideoCodec::automatic), VideoCodec::h264);
  EXPECT_EQ(resolve_codec("a.mov", VideoCodec::automatic), VideoCodec::h264);
  EXPECT_EQ(resolve_codec("a.webm", VideoCodec::automatic), VideoCodec::vp9);
  EXPECT_EQ(resolve_codec("a.mkv", VideoCodec::vp9), VideoCodec::vp9);
  EXPECT_THROW(resolve_codec("a.webm", VideoCodec::h264), InputError);
  EXPECT_THROW(resolve_codec("noextension", VideoCodec::automatic), InputError);
}

}  // namespace
}  // namespace pastiche
