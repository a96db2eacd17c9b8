#include "fast/video.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/fixtures.h"
#include "fast_test_util.h"

namespace pastiche {
namespace {

using testing::TempDir;

void write_clip(const std::string& path, int frames, cv::Size size, double fps) {
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, size);
  ASSERT_TRUE(writer.isOpened());
  const auto base = testing::synthetic_content_image(size.width, size.height);
  for (int i = 0; i < frames; ++i) {
    cv::Mat frame = base.clone();
    cv::circle(frame, {4 + 3 * i, size.height / 2}, 6, cv::Scalar(0, 255, 255), -1);
    writer.write(frame);
  }
}

TEST(Video, RoundTripKeepsFrameCountSizeAndRate) {
  TempDir dir;
  write_clip(dir.file("in.avi"), 10, {64, 48}, 12.0);
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 4, 1, 1));
  VideoOptions options;
  options.smooth = 0.3;
  int calls = 0;
  const auto result = stylize_video(stylizer, dir.file("in.avi"), dir.file("out.avi"), options,
                                    [&](int, int) { ++calls; });
  EXPECT_EQ(result.frames, 10);
  EXPECT_EQ(calls, 10);
  EXPECT_EQ(result.width, 64);
  EXPECT_EQ(result.height, 48);
  cv::VideoCapture check(dir.file("out.avi"));
  ASSERT_TRUE(check.isOpened());
  EXPECT_DOUBLE_EQ(check.get(cv::CAP_PROP_FPS), 12.0);
  EXPECT_EQ(check.get(cv::CAP_PROP_FRAME_WIDTH), 64);
  EXPECT_EQ(check.get(cv::CAP_PROP_FRAME_HEIGHT), 48);
  int frames = 0;
  cv::Mat frame;
  while (check.read(frame)) ++frames;
  EXPECT_EQ(frames, 10);
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.avi.part.avi")));
}

TEST(Video, ProcessingSizeIsScaledBackAndMaxFramesStops) {
  TempDir dir;
  write_clip(dir.file("in.avi"), 6, {80, 40}, 25.0);
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 4, 1, 1));
  VideoOptions options;
  options.frame.size = 40;
  options.max_frames = 3;
  const auto result = stylize_video(stylizer, dir.file("in.avi"), dir.file("out.mp4"), options);
  EXPECT_EQ(result.frames, 3);
  cv::VideoCapture check(dir.file("out.mp4"));
  ASSERT_TRUE(check.isOpened());
  EXPECT_EQ(check.get(cv::CAP_PROP_FRAME_WIDTH), 80);
  EXPECT_EQ(check.get(cv::CAP_PROP_FRAME_HEIGHT), 40);
}

TEST(Video, ClearErrors) {
  TempDir dir;
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 4, 1, 1));
  EXPECT_THROW(stylize_video(stylizer, dir.file("missing.mp4"), dir.file("o.mp4"), {}),
               NotFoundError);
  std::ofstream(dir.file("text.mp4")) << "not a video";
  EXPECT_THROW(stylize_video(stylizer, dir.file("text.mp4"), dir.file("o.mp4"), {}), InputError);
  write_clip(dir.file("in.avi"), 2, {32, 32}, 10.0);
  EXPECT_THROW(stylize_video(stylizer, dir.file("in.avi"), dir.file("o.gif"), {}), InputError);
  VideoOptions bad;
  bad.smooth = 1.0;
  EXPECT_THROW(bad.validate(), InputError);
}

}  // namespace
}  // namespace pastiche
