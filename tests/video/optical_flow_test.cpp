#include "video/optical_flow.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "common/error.h"
#include "video/temporal_consistency.h"

// A named namespace rather than an anonymous one: the tests build as unity batches, where helper
// names of different test files would otherwise collide.
namespace pastiche::video_flow_test {

// Smoothed colour noise at two scales (fine grain for the patch matching, larger blobs so the
// image is not stationary), values spread over [lo, hi].
cv::Mat textured(cv::Size size, uint64_t seed, double lo = 20, double hi = 235) {
  cv::RNG rng(seed);
  cv::Mat fine(size, CV_32FC3), coarse(size, CV_32FC3);
  rng.fill(fine, cv::RNG::NORMAL, 0, 1);
  rng.fill(coarse, cv::RNG::NORMAL, 0, 1);
  cv::GaussianBlur(fine, fine, cv::Size(0, 0), 1.5);
  cv::GaussianBlur(coarse, coarse, cv::Size(0, 0), 6);
  cv::Mat mixed = fine + 2.0 * coarse;
  cv::normalize(mixed.reshape(1), mixed.reshape(1), lo, hi, cv::NORM_MINMAX);
  cv::Mat out;
  mixed.convertTo(out, CV_8UC3);
  return out;
}

// Median of one channel of a flow over `roi`.
float median_component(const cv::Mat& flow, cv::Rect roi, int channel) {
  std::vector<float> values;
  for (int y = roi.y; y < roi.y + roi.height; ++y) {
    for (int x = roi.x; x < roi.x + roi.width; ++x) {
      values.push_back(flow.at<cv::Vec2f>(y, x)[channel]);
    }
  }
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

double mean_abs_difference(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  const cv::Scalar m = cv::mean(diff);
  return (m[0] + m[1] + m[2]) / 3.0;
}

// 160x120 pair: a static textured background with a brighter textured 40x40 square at x = 50 in
// the first frame and x = 50 + step in the second (both at y = 40).
struct SquareScene {
  static constexpr int kY = 40, kSide = 40, kX0 = 50;
  cv::Mat background = textured({160, 120}, 11, 20, 100);
  cv::Mat square = textured({kSide, kSide}, 12, 150, 240);
  cv::Mat frame(int x) const {
    cv::Mat f = background.clone();
    square.copyTo(f(cv::Rect(x, kY, kSide, kSide)));
    return f;
  }
};

cv::Mat invert_painting(const cv::Mat& frame) {
  cv::Mat painted;
  cv::bitwise_not(frame, painted);
  return painted;
}

TEST(OpticalFlow, RecoversIntegerTranslationAndWarpReproducesTheFrame) {
  const cv::Mat big = textured({200, 160}, 1);
  const cv::Mat previous = big(cv::Rect(20, 20, 160, 120)).clone();
  // The scene moved 5 px right and 3 px down: current(p) = previous(p - (5, 3)).
  const cv::Mat current = big(cv::Rect(15, 17, 160, 120)).clone();
  FlowEstimator estimator;
  const FramePairFlow flow = estimator.between(previous, current);
  ASSERT_EQ(flow.backward.type(), CV_32FC2);
  ASSERT_EQ(flow.forward.type(), CV_32FC2);
  ASSERT_EQ(flow.reliable.type(), CV_32F);
  ASSERT_EQ(flow.backward.size(), current.size());
  const cv::Rect interior(16, 16, 128, 88);
  EXPECT_NEAR(median_component(flow.backward, interior, 0), -5.0f, 0.5f);
  EXPECT_NEAR(median_component(flow.backward, interior, 1), -3.0f, 0.5f);
  EXPECT_NEAR(median_component(flow.forward, interior, 0), 5.0f, 0.5f);
  EXPECT_NEAR(median_component(flow.forward, interior, 1), 3.0f, 0.5f);

  const cv::Mat warped = warp_by_flow(previous, flow.backward);
  EXPECT_LT(mean_abs_difference(warped(interior), current(interior)), 3.0);
  // Without the warp the frames differ a lot: the check above is not trivially met.
  EXPECT_GT(mean_abs_difference(previous(interior), current(interior)), 15.0);

  EXPECT_GT(cv::mean(flow.reliable(interior))[0], 0.95);
  // The 5 leftmost columns of the current frame came in over the edge: nothing to carry along.
  EXPECT_LT(cv::mean(flow.reliable(cv::Rect(0, 16, 4, 88)))[0], 0.05);
}

TEST(OpticalFlow, RecoversFractionalTranslation) {
  const cv::Mat big = textured({200, 160}, 2);
  const cv::Mat previous = big(cv::Rect(20, 20, 160, 120)).clone();
  // current(p) = big(p + (17.5, 21.25)) = previous(p + (-2.5, 1.25)).
  const cv::Mat shift = (cv::Mat_<double>(2, 3) << 1, 0, 17.5, 0, 1, 21.25);
  cv::Mat current;
  cv::warpAffine(big, current, shift, {160, 120}, cv::INTER_CUBIC | cv::WARP_INVERSE_MAP);
  FlowEstimator estimator;
  const FramePairFlow flow = estimator.between(previous, current);
  const cv::Rect interior(16, 16, 128, 88);
  EXPECT_NEAR(median_component(flow.backward, interior, 0), -2.5f, 0.25f);
  EXPECT_NEAR(median_component(flow.backward, interior, 1), 1.25f, 0.25f);
  const cv::Mat warped = warp_by_flow(previous, flow.backward);
  EXPECT_LT(mean_abs_difference(warped(interior), current(interior)), 3.0);
}

TEST(OpticalFlow, DownscaledFlowIsScaledBackToFrameSize) {
  const cv::Mat big = textured({400, 300}, 3);
  const cv::Mat previous = big(cv::Rect(40, 40, 320, 240)).clone();
  const cv::Mat current = big(cv::Rect(32, 34, 320, 240)).clone();  // moved (8, 6)
  FlowEstimator estimator(160);                                     // flow at 160x120
  const FramePairFlow flow = estimator.between(previous, current);
  ASSERT_EQ(flow.backward.size(), current.size());
  ASSERT_EQ(flow.reliable.size(), current.size());
  const cv::Rect interior(32, 32, 256, 176);
  EXPECT_NEAR(median_component(flow.backward, interior, 0), -8.0f, 0.5f);
  EXPECT_NEAR(median_component(flow.backward, interior, 1), -6.0f, 0.5f);
}

TEST(OpticalFlow, ReturnedFlowIsNotOverwrittenByTheNextPair) {
  const cv::Mat big = textured({200, 160}, 4);
  const cv::Mat a = big(cv::Rect(20, 20, 160, 120)).clone();
  const cv::Mat b = big(cv::Rect(16, 20, 160, 120)).clone();
  FlowEstimator estimator;
  const FramePairFlow first = estimator.between(a, b);
  const cv::Mat kept = first.backward.clone();
  const FramePairFlow second = estimator.between(b, a);
  EXPECT_EQ(cv::norm(first.backward, kept, cv::NORM_INF), 0.0);
  EXPECT_NEAR(median_component(second.backward, cv::Rect(16, 16, 128, 88), 0), 4.0f, 0.5f);
}

TEST(OpticalFlow, DisoccludedStripBehindAMovingSquareIsUnreliable) {
  const SquareScene scene;
  const int step = 8;
  FlowEstimator estimator;
  const FramePairFlow flow =
      estimator.between(scene.frame(SquareScene::kX0), scene.frame(SquareScene::kX0 + step));
  // Covered by the square in t-1, background in t: no pixel of t-1 to carry along.
  const cv::Rect strip(SquareScene::kX0, SquareScene::kY + 4, step, SquareScene::kSide - 8);
  EXPECT_LT(cv::mean(flow.reliable(strip))[0], 0.1);
  // Static background away from the square (DIS's patches, 16 px here, blur the flow across its
  // edges, and the boundary check rightly distrusts that band).
  EXPECT_GT(cv::mean(flow.reliable(cv::Rect(124, 8, 32, 104)))[0], 0.95);
  EXPECT_GT(cv::mean(flow.reliable(cv::Rect(8, 100, 144, 16)))[0], 0.95);
  // The square itself is tracked: its interior moved by `step`.
  const cv::Rect inside(SquareScene::kX0 + step + 10, SquareScene::kY + 10, 20, 20);
  EXPECT_NEAR(median_component(flow.backward, inside, 0), -float(step), 0.5f);
}

TEST(OpticalFlow, WarpByFlowSamplesAlongTheFlowWithReplicatedBorder) {
  cv::Mat ramp(4, 6, CV_32FC3);
  for (int y = 0; y < ramp.rows; ++y) {
    for (int x = 0; x < ramp.cols; ++x) ramp.at<cv::Vec3f>(y, x) = cv::Vec3f(x, 10 * y, 1);
  }
  const cv::Mat flow(ramp.size(), CV_32FC2, cv::Scalar(2.0, -0.5));
  const cv::Mat out = warp_by_flow(ramp, flow);
  ASSERT_EQ(out.type(), CV_32FC3);
  for (int y = 0; y < ramp.rows; ++y) {
    for (int x = 0; x < ramp.cols; ++x) {
      const cv::Vec3f v = out.at<cv::Vec3f>(y, x);
      EXPECT_NEAR(v[0], std::min(x + 2, ramp.cols - 1), 1e-4) << x << "," << y;
      EXPECT_NEAR(v[1], 10 * std::max(y - 0.5, 0.0), 1e-4) << x << "," << y;
    }
  }
  EXPECT_THROW(warp_by_flow(ramp, cv::Mat(4, 6, CV_32FC1, cv::Scalar(0))), InputError);
  EXPECT_THROW(warp_by_flow(cv::Mat(), flow), InputError);
}

TEST(OpticalFlow, ConsistencyMaskFollowsRuderCriteria) {
  const cv::Size size(40, 30);
  const cv::Mat backward(size, CV_32FC2, cv::Scalar(-3, 0));
  cv::Mat mask = consistency_mask(backward, cv::Mat(size, CV_32FC2, cv::Scalar(3, 0)));
  ASSERT_EQ(mask.type(), CV_32F);
  EXPECT_EQ(cv::mean(mask(cv::Rect(10, 5, 25, 20)))[0], 1.0);
  EXPECT_EQ(mask.at<float>(15, 1), 0.0f);  // came from x = -2: outside frame t-1

  // Forward disagrees (a pixel of t-1 said to go elsewhere): occluded.
  mask = consistency_mask(backward, cv::Mat(size, CV_32FC2, cv::Scalar(-1, 0)));
  EXPECT_EQ(cv::countNonZero(mask), 0);
  // Small disagreement within the 0.5 px^2 tolerance passes.
  mask = consistency_mask(backward, cv::Mat(size, CV_32FC2, cv::Scalar(3.5, 0.3)));
  EXPECT_EQ(cv::mean(mask(cv::Rect(10, 5, 25, 20)))[0], 1.0);

  // A motion boundary: zero flow left of x = 20, 2 px right of it. Both sides are consistent, but
  // pixels at the step (and the feathered margin) are not trusted.
  cv::Mat step_backward(size, CV_32FC2, cv::Scalar(0, 0)), step_forward(size, CV_32FC2);
  step_backward(cv::Rect(20, 0, 20, 30)).setTo(cv::Scalar(-2, 0));
  step_forward.setTo(cv::Scalar(0, 0));
  step_forward(cv::Rect(18, 0, 22, 30)).setTo(cv::Scalar(2, 0));
  mask = consistency_mask(step_backward, step_forward);
  EXPECT_EQ(mask.at<float>(15, 19), 0.0f);
  EXPECT_EQ(mask.at<float>(15, 20), 0.0f);
  EXPECT_EQ(mask.at<float>(15, 5), 1.0f);
  EXPECT_EQ(mask.at<float>(15, 32), 1.0f);
  for (int x = 0; x < size.width; ++x) {
    const float v = mask.at<float>(15, x);
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 1.0f);
  }
  EXPECT_THROW(consistency_mask(backward, cv::Mat(20, 20, CV_32FC2, cv::Scalar(0))), InputError);
}

TEST(OpticalFlow, RejectsBadFrames) {
  EXPECT_THROW(FlowEstimator(8), InputError);
  FlowEstimator estimator;
  const cv::Mat frame = textured({64, 48}, 5);
  EXPECT_THROW(estimator.between(frame, textured({48, 64}, 5)), InputError);
  EXPECT_THROW(estimator.between(cv::Mat(), frame), InputError);
  cv::Mat as_float;
  frame.convertTo(as_float, CV_32FC3);
  EXPECT_THROW(estimator.between(as_float, as_float), InputError);
}

TEST(TemporalConsistency, BlendingReducesFlickerOnAStaticClip) {
  const cv::Mat input = textured({160, 120}, 6, 40, 215);
  const cv::Mat style = invert_painting(input);
  TemporalConsistency frame_by_frame(0.0), blended(0.7);
  cv::RNG rng(7);
  for (int t = 0; t < 8; ++t) {
    // The same painting with fresh noise each frame: what a network's flicker looks like.
    cv::Mat noise(input.size(), CV_16SC3), noisy;
    rng.fill(noise, cv::RNG::NORMAL, 0, 12);
    style.convertTo(noisy, CV_16SC3);
    noisy += noise;
    noisy.convertTo(noisy, CV_8UC3);
    const cv::Mat plain = frame_by_frame.apply(input, noisy);
    EXPECT_EQ(cv::norm(plain, noisy, cv::NORM_INF), 0.0);  // weight 0 returns the painting
    blended.apply(input, noisy);
  }
  EXPECT_EQ(frame_by_frame.pairs(), 7);
  EXPECT_EQ(blended.pairs(), 7);
  // Independent noise of sigma 12: E[(n_t - n_{t-1})^2] = 2 * 12^2 levels^2.
  EXPECT_NEAR(frame_by_frame.mean_warping_error(), 2 * 144 / (255.0 * 255.0), 0.0015);
  EXPECT_LT(blended.mean_warping_error(), 0.5 * frame_by_frame.mean_warping_error());
}

TEST(TemporalConsistency, MovingSquareLeavesNoGhost) {
  const SquareScene scene;
  const int step = 6;
  TemporalConsistency consistency(0.9);
  cv::Mat previous_painted;
  for (int t = 0; t < 5; ++t) {
    const int x = SquareScene::kX0 + step * t;
    const cv::Mat input = scene.frame(x);
    const cv::Mat painted = invert_painting(input);
    const cv::Mat out = consistency.apply(input, painted);
    ASSERT_EQ(out.type(), CV_8UC3);
    ASSERT_EQ(out.size(), input.size());
    if (t == 0) {
      EXPECT_EQ(cv::norm(out, painted, cv::NORM_INF), 0.0);
    } else {
      // Where the square just left: a ghost would show the painted square there.
      const cv::Rect strip(x - step, SquareScene::kY + 4, step, SquareScene::kSide - 8);
      EXPECT_LT(mean_abs_difference(out(strip), painted(strip)), 3.0) << "frame " << t;
      EXPECT_GT(mean_abs_difference(previous_painted(strip), painted(strip)), 60.0);
      // The square's new place follows the square.
      const cv::Rect square(x + 4, SquareScene::kY + 4, SquareScene::kSide - 8,
                            SquareScene::kSide - 8);
      EXPECT_LT(mean_abs_difference(out(square), painted(square)), 4.0) << "frame " << t;
    }
    previous_painted = painted;
  }
  EXPECT_EQ(consistency.pairs(), 4);
  EXPECT_LT(consistency.mean_warping_error(), 0.002);
}

TEST(TemporalConsistency, WithoutMeasureWeightZeroSkipsTheFlow) {
  TemporalConsistency consistency(0.0, 640, false);
  const SquareScene scene;
  for (int t = 0; t < 3; ++t) {
    const cv::Mat input = scene.frame(SquareScene::kX0 + 4 * t);
    const cv::Mat painted = invert_painting(input);
    EXPECT_EQ(cv::norm(consistency.apply(input, painted), painted, cv::NORM_INF), 0.0);
  }
  EXPECT_EQ(consistency.pairs(), 0);
  EXPECT_EQ(consistency.mean_warping_error(), 0.0);
}

TEST(TemporalConsistency, NoMeasureBeforeTwoFrames) {
  TemporalConsistency consistency(0.5);
  EXPECT_EQ(consistency.mean_warping_error(), 0.0);
  const cv::Mat input = textured({64, 48}, 8);
  consistency.apply(input, invert_painting(input));
  EXPECT_EQ(consistency.pairs(), 0);
  EXPECT_EQ(consistency.mean_warping_error(), 0.0);
}

TEST(TemporalConsistency, RejectsBadWeightsAndFrames) {
  EXPECT_THROW(TemporalConsistency(1.0), InputError);
  EXPECT_THROW(TemporalConsistency(-0.1), InputError);
  EXPECT_THROW(TemporalConsistency(std::numeric_limits<double>::quiet_NaN()), InputError);
  EXPECT_THROW(TemporalConsistency(0.5, 4), InputError);
  EXPECT_NO_THROW(TemporalConsistency(0.0));
  EXPECT_NO_THROW(TemporalConsistency(0.99));

  TemporalConsistency consistency(0.5);
  const cv::Mat input = textured({64, 48}, 9);
  EXPECT_THROW(consistency.apply(input, textured({48, 64}, 9)), InputError);
  cv::Mat grey;
  cv::cvtColor(input, grey, cv::COLOR_BGR2GRAY);
  EXPECT_THROW(consistency.apply(grey, grey), InputError);
  consistency.apply(input, input);
  const cv::Mat other = textured({80, 60}, 10);
  EXPECT_THROW(consistency.apply(other, other), InputError);  // size changed mid-video
}

}  // namespace pastiche::video_flow_test
