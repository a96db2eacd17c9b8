// Styling part of a picture: masks from files and from GrabCut, and the feathered composite that
// leaves the photo exactly itself beyond the feather.
#include "image/region_mask.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "common/fixtures.h"
#include "image/image_io.h"

namespace pastiche {
namespace {

using testing::input_error_of;
using testing::TempDir;

TEST(RegionMask, CompositeKeepsThePhotoExactlyBeyondTheFeather) {
  const cv::Mat photo = testing::synthetic_content_image(120, 80);
  const cv::Mat painted(80, 120, CV_8UC3, cv::Scalar(10, 200, 60));
  cv::Mat mask(80, 120, CV_32F, cv::Scalar(0));
  mask(cv::Rect(60, 0, 60, 80)).setTo(1.0f);  // the right half painted
  const int feather = 6;
  const cv::Mat out = composite_regions(painted, photo, mask, feather);
  ASSERT_EQ(out.size(), photo.size());
  cv::Mat diff;
  cv::absdiff(out(cv::Rect(0, 0, 60 - feather, 80)), photo(cv::Rect(0, 0, 60 - feather, 80)), diff);
  EXPECT_EQ(cv::norm(diff, cv::NORM_INF), 0);  // within 2/255 is the bar; it is exact
  cv::absdiff(out(cv::Rect(60 + feather, 0, 60 - feather, 80)),
              painted(cv::Rect(60 + feather, 0, 60 - feather, 80)), diff);
  EXPECT_EQ(cv::norm(diff, cv::NORM_INF), 0);
  // At the edge itself the two are mixed: neither the photo's nor the painting's pixel.
  const cv::Vec3b edge = out.at<cv::Vec3b>(40, 60), p = painted.at<cv::Vec3b>(40, 60);
  EXPECT_NE(edge, p);
  EXPECT_NE(edge, photo.at<cv::Vec3b>(40, 60));
  // Hard edge: feather 0.
  const cv::Mat hard = composite_regions(painted, photo, mask, 0);
  EXPECT_EQ(hard.at<cv::Vec3b>(40, 59), photo.at<cv::Vec3b>(40, 59));
  EXPECT_EQ(hard.at<cv::Vec3b>(40, 60), p);
}

TEST(RegionMask, ThePhotoAndMaskFollowThePaintedSize) {
  const cv::Mat photo = testing::synthetic_content_image(200, 100);
  const cv::Mat painted(50, 100, CV_8UC3, cv::Scalar(0, 0, 255));
  cv::Mat mask(100, 200, CV_32F, cv::Scalar(0));
  mask(cv::Rect(0, 0, 100, 100)).setTo(1.0f);  // the left half
  const cv::Mat out = composite_regions(painted, photo, mask, 2);
  ASSERT_EQ(out.size(), painted.size());
  EXPECT_EQ(out.at<cv::Vec3b>(25, 10), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(out.at<cv::Vec3b>(25, 90), resize_to(photo, 100, 50).at<cv::Vec3b>(25, 90));
}

TEST(RegionMask, FilesAreGreyWeightsOfTheSameShape) {
  TempDir dir;
  cv::Mat drawn(40, 60, CV_8UC3, cv::Scalar(0, 0, 0));
  drawn(cv::Rect(30, 0, 30, 40)).setTo(cv::Scalar(255, 255, 255));
  save_image(drawn, dir.file("mask.png"));
  const cv::Mat mask = load_region_mask(dir.file("mask.png"), {120, 80});  // same shape, larger
  ASSERT_EQ(mask.size(), cv::Size(120, 80));
  EXPECT_EQ(mask.type(), CV_32F);
  EXPECT_FLOAT_EQ(mask.at<float>(40, 10), 0.0f);
  EXPECT_FLOAT_EQ(mask.at<float>(40, 110), 1.0f);
  const auto message = input_error_of([&] { load_region_mask(dir.file("mask.png"), {80, 80}); });
  EXPECT_NE(message.find("60x40"), std::string::npos) << message;
  EXPECT_NE(message.find("80x80"), std::string::npos) << message;
}

TEST(RegionMask, SubjectBoxesAreCheckedAgainstThePhoto) {
  EXPECT_EQ(parse_subject_box("10, 20,30,40", {100, 100}), cv::Rect(10, 20, 30, 40));
  for (const char* bad : {"", "1,2,3", "a,b,c,d", "10,20,30,40,50", "90,0,20,20", "0,0,4,40",
                          "-1,0,20,20", "1e3,0,20,20"})
    EXPECT_THROW(parse_subject_box(bad, {100, 100}), InputError) << bad;
}

TEST(RegionMask, GrabCutFindsADiscInsideTheBox) {
  // A red textured disc on a green-grey textured ground.
  cv::Mat photo(160, 200, CV_8UC3);
  cv::randu(photo, cv::Scalar(90, 110, 90), cv::Scalar(120, 140, 120));
  cv::Mat disc(160, 200, CV_8U, cv::Scalar(0));
  cv::circle(disc, {100, 80}, 45, 255, -1);
  cv::Mat red(160, 200, CV_8UC3);
  cv::randu(red, cv::Scalar(20, 20, 180), cv::Scalar(50, 50, 230));
  red.copyTo(photo, disc);
  const cv::Mat mask = subject_mask(photo, parse_subject_box("40,20,120,120", photo.size()));
  cv::Mat truth;
  disc.convertTo(truth, CV_32F, 1.0 / 255.0);
  const double both = cv::sum(mask.mul(truth))[0];
  const double either = cv::sum(cv::max(mask, truth))[0];
  EXPECT_GT(both / either, 0.9);                              // intersection over union
  EXPECT_EQ(cv::sum(mask(cv::Rect(0, 0, 40, 160)))[0], 0.0);  // nothing outside the box
}

}  // namespace
}  // namespace pastiche
