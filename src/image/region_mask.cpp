#include "image/region_mask.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "image/image_io.h"

namespace pastiche {

namespace {

std::string size_text(cv::Size s) {
  return std::to_string(s.width) + "x" + std::to_string(s.height);
}

// Resizes a CV_32F mask (linear: a weight, not a picture).
cv::Mat mask_at(const cv::Mat& mask, cv::Size size) {
  if (mask.size() == size) return mask;
  cv::Mat out;
  cv::resize(mask, out, size, 0, 0, mask.cols > size.width ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

}  // namespace

cv::Mat load_region_mask(const std::string& path, cv::Size size) {
  const cv::Mat image = load_image(path);
  const double mask_ratio = static_cast<double>(image.cols) / image.rows;
  const double photo_ratio = static_cast<double>(size.width) / size.height;
  if (std::abs(std::log(mask_ratio / photo_ratio)) > std::log(1.02))
    throw InputError("mask '" + path + "' is " + size_text(image.size()) +
                     ", a different shape from the picture (" + size_text(size) +
                     "): draw it on the photo itself, or on a copy of the same proportions");
  cv::Mat grey, weight;
  cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
  grey.convertTo(weight, CV_32F, 1.0 / 255.0);
  return mask_at(weight, size);
}

cv::Rect parse_subject_box(const std::string& text, cv::Size photo_size) {
  std::vector<int> v;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      v.push_back(std::stoi(item, &used));
      if (item.find_first_not_of(" \t", used) != std::string::npos) v.clear();
    } catch (const std::exception&) {
      v.clear();
    }
    if (v.empty()) break;
  }
  if (v.size() != 4)
    throw InputError("subject: give the box as X,Y,WIDTH,HEIGHT in pixels, e.g. 120,40,300,420");
  const cv::Rect box(v[0], v[1], v[2], v[3]);
  if (box.width < 8 || box.height < 8 || box.x < 0 || box.y < 0 ||
      box.x + box.width > photo_size.width || box.y + box.height > photo_size.height)
    throw InputError("subject: the box " + text + " must lie inside the " + size_text(photo_size) +
                     " photo and be at least 8 px each way");
  return box;
}

cv::Mat subject_mask(const cv::Mat& photo, const cv::Rect& box) {
  // GrabCut's cost grows with pixels and its answer hardly with resolution: work at <= 640 px.
  const double scale = std::min(1.0, 640.0 / std::max(photo.cols, photo.rows));
  cv::Mat small = photo;
  if (scale < 1.0) cv::resize(photo, small, {}, scale, scale, cv::INTER_AREA);
  cv::Rect r(cvRound(box.x * scale), cvRound(box.y * scale),
             std::max(2, cvRound(box.width * scale)), std::max(2, cvRound(box.height * scale)));
  r &= cv::Rect(0, 0, small.cols, small.rows);
  cv::Mat labels(small.size(), CV_8U, cv::Scalar(cv::GC_BGD)), background, foreground;
  cv::grabCut(small, labels, r, background, foreground, 5, cv::GC_INIT_WITH_RECT);
  cv::Mat subject = (labels == cv::GC_FGD) | (labels == cv::GC_PR_FGD);
  cv::Mat weight;
  subject.convertTo(weight, CV_32F, 1.0 / 255.0);
  weight = mask_at(weight, photo.size());
  cv::threshold(weight, weight, 0.5, 1.0, cv::THRESH_BINARY);
  return weight;
}

cv::Mat composite_regions(const cv::Mat& painted, const cv::Mat& photo, const cv::Mat& mask,
                          int feather) {
  CV_Assert(painted.type() == CV_8UC3 && photo.type() == CV_8UC3 && mask.type() == CV_32F);
  if (feather < 0) throw InputError("feather: must be 0 or more pixels");
  const cv::Mat base =
      photo.size() == painted.size() ? photo : resize_to(photo, painted.cols, painted.rows);
  cv::Mat weight = mask_at(mask, painted.size()).clone();
  if (feather > 0) {
    // A kernel of exactly 2·feather+1 px: nothing reaches further than feather from an edge.
    const int k = 2 * feather + 1;
    cv::GaussianBlur(weight, weight, {k, k}, feather / 2.0, feather / 2.0, cv::BORDER_REPLICATE);
  }
  cv::Mat out(painted.size(), CV_8UC3);
  for (int y = 0; y < out.rows; ++y) {
    const float* w = weight.ptr<float>(y);
    const uchar* p = painted.ptr<uchar>(y);
    const uchar* b = base.ptr<uchar>(y);
    uchar* o = out.ptr<uchar>(y);
    for (int x = 0; x < out.cols; ++x) {
      const float a = std::clamp(w[x], 0.0f, 1.0f);
      for (int c = 3 * x; c < 3 * x + 3; ++c)
        o[c] = cv::saturate_cast<uchar>(b[c] + a * (float(p[c]) - float(b[c])));
    }
  }
  return out;
}

}  // namespace pastiche
