// One look at every size. A transform network paints strokes of a fixed number of pixels (the
// default models learned them on 256 px crops), so the same photo painted at 2048 px looks far
// less painted than at 512 px. The picture is therefore painted at a working size where the
// strokes have the intended size relative to the whole picture (kReferenceLongSide px on the long
// side at brush size 1, proportionally smaller for bigger strokes), and:
//  - a picture smaller than the working size is painted there and scaled down;
//  - a larger one is also painted at its own size, and the result is that size's fine detail (its
//    own small strokes, a band-pass of the full-size result) over the working-size painting
//    scaled up: a Laplacian two-band blend, the same painting only sharper.
// The extra working-size pass costs (working / full)^2 of the full-size one.
#pragma once
#include <opencv2/core.hpp>

#include <functional>

namespace pastiche {

// The long side at which a model's look is its reference look (brush size 1): the size its
// quality is measured at (models/README.md, bench/fast_quality.sh).
inline constexpr int kReferenceLongSide = 512;

// The long side to paint at for `stroke_scale` (bigger = larger strokes), a multiple of 4 (the
// network's stride) of at least 64.
int working_long_side(double stroke_scale);

// `paint` maps an 8-bit BGR image to its painting of the same size (whole or tiled).
using PaintFn = std::function<cv::Mat(const cv::Mat&)>;

// The painting of `input` (8-bit BGR) at its own size with strokes of `stroke_scale`.
cv::Mat paint_at_stroke_scale(const cv::Mat& input, double stroke_scale, const PaintFn& paint);

// `coarse` scaled up to `fine`'s size plus `fine`'s detail above `coarse`'s resolution:
// fine - up(down(fine)) + up(coarse), in 16 bits, saturated to 8-bit BGR.
cv::Mat add_detail_band(const cv::Mat& coarse, const cv::Mat& fine);

}  // namespace pastiche
