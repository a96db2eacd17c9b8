// Dense optical flow between consecutive frames (OpenCV's DIS), the warps along it, and the
// forward-backward consistency check that marks where the flow can be trusted.
#pragma once
#include <opencv2/core.hpp>
#include <opencv2/video/tracking.hpp>

namespace pastiche {

struct FramePairFlow {
  cv::Mat backward;  // CV_32FC2, size of frame t: frame t pixel p came from p + backward(p) in t-1
  cv::Mat forward;   // CV_32FC2, size of frame t-1: p in t-1 went to p + forward(p) in t
  cv::Mat reliable;  // CV_32F in [0,1], size of frame t: 1 where backward is trusted
};

// Warps images along one flow: out(p) = image(p + flow(p)), bilinear, border replicated. The
// sampling map is built once (cv::remap's fixed-point form, 1/32 px) and its buffers are kept, so
// a per-frame loop that warps several images along the same flow pays for it once.
class FlowWarp {
 public:
  // `flow` CV_32FC2; throws InputError otherwise. Outputs of apply() then have its size.
  void set_flow(const cv::Mat& flow);
  // `image` any type cv::remap takes, of any size; `out` must not share data with it.
  // interpolation: cv::INTER_LINEAR, or INTER_CUBIC where an image is warped again and again
  // (bilinear resampling blurs a little every time).
  void apply(const cv::Mat& image, cv::Mat& out, int interpolation = cv::INTER_LINEAR) const;

 private:
  cv::Mat xy_;    // CV_16SC2: integer part of p + flow(p)
  cv::Mat frac_;  // CV_16UC1: its fractional part, as remap's interpolation-table index
};

class FlowEstimator {
 public:
  // Flow is computed on grey frames scaled so the longest side is at most `max_side` (DIS cost
  // grows with pixels), then scaled back to frame size (vectors multiplied by the scale).
  // Throws InputError when max_side < 16.
  explicit FlowEstimator(int max_side = 640);

  // Both frames 8-bit (BGR, BGRA or grey) of one size; throws InputError otherwise.
  FramePairFlow between(const cv::Mat& previous_bgr, const cv::Mat& current_bgr);
  // The same, written into `out`'s matrices in place (reallocated only when the size changes):
  // for per-frame loops. Anything still sharing those matrices sees the new flow.
  void between(const cv::Mat& previous_bgr, const cv::Mat& current_bgr, FramePairFlow& out);

 private:
  int max_side_;
  cv::Ptr<cv::DISOpticalFlow> dis_;  // one instance: its pyramids and buffers are reused
  cv::Mat previous_grey_, current_grey_, grey_scratch_, forward_small_, backward_small_;
  FlowWarp warp_;
  cv::Mat forward_at_, binary_;
};

// out(p) = image(p + flow(p)), bilinear, border replicated; `flow` CV_32FC2 of the output's size,
// `image` any type cv::remap takes. Throws InputError on a bad flow or an empty image.
cv::Mat warp_by_flow(const cv::Mat& image, const cv::Mat& flow);

// Ruder et al. 2016, "Artistic style transfer for videos": pixel p of frame t is reliable when
// |b(p) + f(p + b(p))|^2 <= 0.01 (|b(p)|^2 + |f(p + b(p))|^2) + 0.5 (the flows agree: not
// occluded in t-1), p + b(p) lies inside frame t-1, and p is not on a motion boundary
// (|grad b|^2 <= 0.01 |b|^2 + 0.002). Returned as a CV_32F mask of backward's size: failing pixels
// and a 2 px margin around them are 0, and the mask then rises to 1 over 4 px so blends show no
// seam. Both flows CV_32FC2 of one size; throws InputError otherwise.
cv::Mat consistency_mask(const cv::Mat& backward, const cv::Mat& forward);

}  // namespace pastiche
