#include "video/temporal_consistency.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "common/error.h"

namespace pastiche {
namespace {

double checked_temporal_weight(double weight) {
  if (!(weight >= 0.0 && weight < 1.0)) {  // also rejects NaN
    char text[64];
    std::snprintf(text, sizeof text, "%g", weight);
    throw InputError(std::string("temporal consistency weight must be in [0, 1), got ") + text);
  }
  return weight;
}

std::string describe_frame_size(const cv::Mat& image) {
  return std::to_string(image.cols) + "x" + std::to_string(image.rows);
}

}  // namespace

// previous_out_ <- S + weight·reliable·(warped_ - S), then its local contrast brought back to S's.
// Averaging two paintings whose strokes differ (the flicker) flattens the strokes: the recursive
// average of uncorrelated textures keeps sqrt((1-a)/(1+a)) of their contrast (0.42 at a = 0.7),
// and the picture goes soft (style_rel 0.09 -> 0.28 on the bench clip). Scaling the blend's
// deviation from its local mean by S's local standard deviation over the blend's keeps the
// steady strokes of the blend at the painting's contrast. Where the two agree (no flicker) the gain
// is 1, so nothing is sharpened twice.
void TemporalConsistency::blend_and_restore(const cv::Mat& painted, const cv::Mat& reliable) {
  const float weight = static_cast<float>(weight_);
  painted.convertTo(painted_, CV_32F);
  cv::parallel_for_(cv::Range(0, painted.rows), [&](const cv::Range& range) {
    for (int y = range.start; y < range.end; ++y) {
      const float* s = painted_.ptr<float>(y);
      const float* r = reliable.ptr<float>(y);
      const float* w = warped_.ptr<float>(y);
      float* state = previous_out_.ptr<float>(y);
      for (int x = 0; x < painted.cols; ++x) {
        const float a = weight * r[x];
        for (int c = 3 * x; c < 3 * x + 3; ++c) state[c] = s[c] + a * (w[c] - s[c]);
      }
    }
  });
  const cv::Size window(kContrastWindow, kContrastWindow);
  cv::boxFilter(previous_out_, blend_mean_, -1, window);
  cv::boxFilter(previous_out_.mul(previous_out_), blend_square_, -1, window);
  cv::boxFilter(painted_, painted_mean_, -1, window);
  cv::boxFilter(painted_.mul(painted_), painted_square_, -1, window);
  cv::parallel_for_(cv::Range(0, painted.rows), [&](const cv::Range& range) {
    for (int y = range.start; y < range.end; ++y) {
      const float* bm = blend_mean_.ptr<float>(y);
      const float* bs = blend_square_.ptr<float>(y);
      const float* pm = painted_mean_.ptr<float>(y);
      const float* ps = painted_square_.ptr<float>(y);
      float* state = previous_out_.ptr<float>(y);
      for (int c = 0; c < 3 * painted.cols; ++c) {
        const float blend_var = std::max(0.0f, bs[c] - bm[c] * bm[c]);
        const float painted_var = std::max(0.0f, ps[c] - pm[c] * pm[c]);
        const float gain =
            std::clamp(std::sqrt((painted_var + 1.0f) / (blend_var + 1.0f)), 1.0f, kMaxGain);
        state[c] = bm[c] + gain * (state[c] - bm[c]);
      }
    }
  });
}

TemporalConsistency::TemporalConsistency(double weight, int flow_max_side, bool measure)
    : weight_(checked_temporal_weight(weight)), measure_(measure), flow_estimator_(flow_max_side) {}

cv::Mat TemporalConsistency::apply(const cv::Mat& input, const cv::Mat& painted) {
  if (input.empty() || input.type() != CV_8UC3) {
    throw InputError("temporal consistency: the input frame must be a non-empty 8-bit BGR image");
  }
  if (painted.type() != CV_8UC3 || painted.size() != input.size()) {
    throw InputError(
        "temporal consistency: the painted frame must be 8-bit BGR of the input's size " +
        describe_frame_size(input) + ", got " + describe_frame_size(painted));
  }
  const bool first = previous_input_.empty();
  if (!first && input.size() != previous_input_.size()) {
    throw InputError("temporal consistency: every frame of a video must have one size, got " +
                     describe_frame_size(input) + " after " + describe_frame_size(previous_input_));
  }
  const bool blend = weight_ > 0.0;
  if (!blend && !measure_) return painted.clone();

  cv::Mat out(input.size(), CV_8UC3);
  if (first) {
    painted.copyTo(out);
    if (blend) painted.convertTo(previous_out_, CV_32F);
  } else {
    flow_estimator_.between(previous_input_, input, flow_);
    warp_.set_flow(flow_.backward);
    if (blend) warp_.apply(previous_out_, warped_, cv::INTER_CUBIC);  // warped every frame
    if (measure_) warp_.apply(previous_out_8u_, warped_8u_);
    if (blend) blend_and_restore(painted, flow_.reliable);
    // Per-row sums, added up in order afterwards: the measure does not depend on the threading.
    row_squares_.assign(out.rows, 0.0);
    row_reliable_.assign(out.rows, 0.0);
    cv::parallel_for_(cv::Range(0, out.rows), [&](const cv::Range& range) {
      for (int y = range.start; y < range.end; ++y) {
        const uchar* s = painted.ptr<uchar>(y);
        const float* r = flow_.reliable.ptr<float>(y);
        uchar* o = out.ptr<uchar>(y);
        if (blend) {
          const float* state = previous_out_.ptr<float>(y);  // out_t, from blend_and_restore()
          for (int c = 0; c < 3 * out.cols; ++c) o[c] = cv::saturate_cast<uchar>(state[c]);
        } else {
          std::copy(s, s + 3 * out.cols, o);
        }
        if (measure_) {
          const uchar* q = warped_8u_.ptr<uchar>(y);
          float squares = 0.0f, reliable = 0.0f;
          for (int x = 0; x < out.cols; ++x) {
            float d2 = 0.0f;
            for (int c = 3 * x; c < 3 * x + 3; ++c) {
              const float d = float(o[c]) - float(q[c]);
              d2 += d * d;
            }
            squares += r[x] * d2;
            reliable += r[x];
          }
          row_squares_[y] = squares;
          row_reliable_[y] = reliable;
        }
      }
    });
    double squares = 0.0, reliable_sum = 0.0;
    for (int y = 0; y < out.rows; ++y) {
      squares += row_squares_[y];
      reliable_sum += row_reliable_[y];
    }
    // Less than one pixel's worth of reliable flow (a cut, a blank frame): nothing to measure.
    if (measure_ && reliable_sum >= 1.0) {
      error_sum_ += squares / (reliable_sum * 3.0 * 255.0 * 255.0);
      ++pairs_;
    }
  }
  input.copyTo(previous_input_);
  if (measure_) out.copyTo(previous_out_8u_);
  return out;
}

double TemporalConsistency::mean_warping_error() const {
  return pairs_ > 0 ? error_sum_ / pairs_ : 0.0;
}

}  // namespace pastiche
