#include "fast/stroke_scale.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "image/image_io.h"

namespace pastiche {

int working_long_side(double stroke_scale) {
  const double side = kReferenceLongSide / std::max(stroke_scale, 1e-3);
  return std::max(64, static_cast<int>(std::lround(side / 4.0)) * 4);
}

cv::Mat add_detail_band(const cv::Mat& coarse, const cv::Mat& fine) {
  cv::Mat low, up, sum, out;
  cv::resize(fine, low, coarse.size(), 0, 0, cv::INTER_AREA);
  cv::resize(low, low, fine.size(), 0, 0, cv::INTER_LINEAR);
  cv::resize(coarse, up, fine.size(), 0, 0, cv::INTER_LINEAR);
  cv::add(fine, up, sum, cv::noArray(), CV_16S);
  low.convertTo(low, CV_16S);
  sum -= low;
  sum.convertTo(out, CV_8U);
  return out;
}

cv::Mat paint_at_stroke_scale(const cv::Mat& input, double stroke_scale, const PaintFn& paint) {
  const int side = std::max(input.cols, input.rows);
  const int work = working_long_side(stroke_scale);
  // Within a few per cent of the working size: painted as it is.
  if (std::abs(side - work) <= std::max(8, work / 16)) return paint(input);
  const cv::Mat at_work = paint(resize_longest(input, work));
  if (work > side) {
    cv::Mat out;
    cv::resize(at_work, out, input.size(), 0, 0, cv::INTER_AREA);
    return out;
  }
  return add_detail_band(at_work, paint(input));
}

}  // namespace pastiche
