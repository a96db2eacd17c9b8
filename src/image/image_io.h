// Image files in and out. Everything inside Pastiche works on cv::Mat CV_8UC3 in OpenCV's BGR
// order ("an Image"); tensor conversions live in image/tensor_convert.h.
#pragma once
#include <opencv2/core.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pastiche {

struct ImageLimits {
  int64_t max_pixels = 40'000'000;          // width*height, checked from the header before decoding
  int64_t max_bytes = 64LL * 1024 * 1024;   // encoded size
};

// What the header says, read without decoding pixels.
struct ImageHeader {
  std::string format;  // "jpeg", "png", "webp", "bmp", "tiff"
  int width = 0;
  int height = 0;
};

// Sniffs the format from the magic bytes and reads the dimensions from the header.
// Throws UnsupportedTypeError when the bytes are not a supported image (message names what was
// detected, e.g. "text", "gif"), InputError when the header is truncated or malformed.
ImageHeader probe_image(std::string_view bytes);

// Decodes to 8-bit BGR: EXIF orientation applied, grey expanded, alpha composited over white,
// 16-bit scaled down. Refuses (TooLargeError) images over the limits before decoding them.
// `what` names the input in error messages ("content image 'x.jpg'").
cv::Mat decode_image(std::string_view bytes, const ImageLimits& limits = {},
                     const std::string& what = "image");
cv::Mat load_image(const std::string& path, const ImageLimits& limits = {});

// Encodes by format name ("png", "jpeg"/"jpg", "webp"); quality applies to jpeg/webp.
std::vector<uint8_t> encode_image(const cv::Mat& image, const std::string& format,
                                  int quality = 95);

// Writes atomically (temporary file + rename) so a failure never leaves a partial file.
// The format comes from the extension (.png, .jpg, .jpeg, .webp).
void save_image(const cv::Mat& image, const std::string& path, int quality = 95);

// Resizes so the longest side is `longest` px, keeping the aspect ratio (area filter when
// shrinking, cubic when enlarging). Returns the input unchanged when it already fits exactly.
cv::Mat resize_longest(const cv::Mat& image, int longest);

// Resizes to an exact size (same filter choice as resize_longest).
cv::Mat resize_to(const cv::Mat& image, int width, int height);

}  // namespace pastiche
