// Styling only part of a picture: a mask says where (white = the painting, black = the photo),
// either from a file or found by GrabCut from a box around the subject; the painted picture and the
// photo are then put together with a feathered edge, so the seam does not show and the photo stays
// exactly itself beyond the feather.
#pragma once
#include <opencv2/core.hpp>

#include <string>

namespace pastiche {

// A mask image (any format load_image reads; its grey level is the weight) at `size`. A mask of
// another aspect ratio (beyond 2 %) is refused with InputError naming both sizes; one of the same
// shape is resized. Returns CV_32F in [0, 1].
cv::Mat load_region_mask(const std::string& path, cv::Size size);

// "X,Y,W,H" in pixels of the photo; InputError unless it lies inside `photo_size` and is at
// least 8 px each way.
cv::Rect parse_subject_box(const std::string& text, cv::Size photo_size);

// The subject inside `box` (cv::grabCut, run on a copy at most 640 px long and scaled back):
// CV_32F, 1 on the subject, 0 elsewhere (everything outside the box is background).
cv::Mat subject_mask(const cv::Mat& photo, const cv::Rect& box);

// painted where mask is 1, photo where 0, the mask's edges softened over `feather` px (0 = hard);
// photo and mask are resized to painted's size. Pixels further than `feather` from the edge are
// exactly painted's or photo's.
cv::Mat composite_regions(const cv::Mat& painted, const cv::Mat& photo, const cv::Mat& mask,
                          int feather);

}  // namespace pastiche
