// Temporal consistency for frame-by-frame video stylisation: the previous painted frame, carried
// along the optical flow, is blended into the current one where the flow is reliable, so still
// regions stay still while moving objects do not ghost (occluded pixels take the new frame):
//   out_t = S_t + weight * reliable * (warp(out_{t-1}, backward) - S_t)
#pragma once
#include <opencv2/core.hpp>

#include <vector>

#include "video/optical_flow.h"

namespace pastiche {

class TemporalConsistency {
 public:
  // weight in [0, 1): 0 paints frame by frame. With measure false and weight 0 no flow is computed
  // at all; with measure true the flow runs even at weight 0, so mean_warping_error() can compare
  // frame by frame with blended on one clip. flow_max_side: see FlowEstimator. Throws InputError.
  explicit TemporalConsistency(double weight, int flow_max_side = 640, bool measure = true);

  // input: the frame as read (8-bit BGR); painted: its stylisation (8-bit BGR, same size). Every
  // frame of one video has one size. Returns the frame to write (8-bit BGR, a new matrix).
  // Throws InputError on other types or sizes.
  cv::Mat apply(const cv::Mat& input, const cv::Mat& painted);

  // Flicker of what apply() returned: for each consecutive pair, the mean over reliable pixels
  // (weighted by the reliability mask) of the squared difference between out_t and out_{t-1}
  // warped along the input's backward flow, values in [0,1] per channel; averaged over pairs.
  // Uses apply()'s own flow. 0 before two frames, or when not measuring.
  double mean_warping_error() const;
  // Pairs that went into mean_warping_error() (a pair with no reliable pixel does not count).
  int pairs() const { return pairs_; }

 private:
  void blend_and_restore(const cv::Mat& painted, const cv::Mat& reliable);
  static constexpr int kContrastWindow = 15;  // px: a few brush strokes of the light models
  static constexpr float kMaxGain = 3.0f;
  double weight_;
  bool measure_;
  FlowEstimator flow_estimator_;
  FramePairFlow flow_;
  FlowWarp warp_;
  cv::Mat previous_input_;   // 8-bit BGR, for the next pair's flow
  cv::Mat previous_out_;     // CV_32FC3, unrounded: rounding every frame would accumulate
  cv::Mat previous_out_8u_;  // what apply() returned last, for the measure
  cv::Mat warped_, warped_8u_;
  cv::Mat painted_, blend_mean_, blend_square_, painted_mean_, painted_square_;
  std::vector<double> row_squares_, row_reliable_;
  double error_sum_ = 0.0;
  int pairs_ = 0;
};

}  // namespace pastiche
