#include "image/image_io.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <system_error>

#include "common/error.h"
#include "common/text.h"
#include "image/image_header.h"

namespace pastiche {
namespace {

namespace fs = std::filesystem;

// "400 Mpx", "2.5 Mpx", "0.3 Mpx".
std::string megapixels(int64_t pixels) {
  const double mpx = static_cast<double>(pixels) / 1e6;
  char buffer[32];
  if (mpx >= 10 || std::abs(mpx - std::round(mpx)) < 0.05) {
    std::snprintf(buffer, sizeof buffer, "%.0f Mpx", mpx);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f Mpx", mpx);
  }
  return buffer;
}

// "70.0 MB" (MiB, as the limit is configured in MiB).
std::string megabytes(int64_t bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buffer;
}

// Applies EXIF orientation 2-8 (the transform that makes the stored pixels display upright).
cv::Mat apply_orientation(const cv::Mat& image, int orientation) {
  cv::Mat out;
  switch (orientation) {
    case 2:
      cv::flip(image, out, 1);
      break;  // mirror horizontally
    case 3:
      cv::rotate(image, out, cv::ROTATE_180);
      break;  // rotate 180
    case 4:
      cv::flip(image, out, 0);
      break;  // mirror vertically
    case 5:
      cv::transpose(image, out);
      break;  // transpose
    case 6:
      cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE);
      break;  // rotate 90 CW
    case 7:
      cv::transpose(image, out);
      cv::flip(out, out, -1);
      break;  // transverse
    case 8:
      cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;  // rotate 90 CCW
    default:
      out = image;
      break;
  }
  return out;
}

// Any decoded depth -> 8 bit. Floating point images are taken to be in [0, 1].
cv::Mat to_8bit(const cv::Mat& image, const std::string& what) {
  cv::Mat out;
  switch (image.depth()) {
    case CV_8U:
      return image;
    case CV_16U:
      image.convertTo(out, CV_8U, 1.0 / 257.0);
      return out;
    case CV_32F:
    case CV_64F:
      image.convertTo(out, CV_8U, 255.0);
      return out;
    default:
      throw UnsupportedTypeError("cannot load " + what +
                                 ": unsupported pixel type (signed integer samples); "
                                 "convert it to 8- or 16-bit RGB");
  }
}

// 8-bit BGRA or grey+alpha -> BGR over a white background.
cv::Mat composite_over_white(const cv::Mat& image) {
  const int channels = image.channels();
  const int colour_channels = channels - 1;
  cv::Mat out(image.rows, image.cols, CV_8UC3);
  for (int y = 0; y < image.rows; ++y) {
    const uint8_t* in = image.ptr<uint8_t>(y);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < image.cols; ++x, in += channels, o += 3) {
      const int alpha = in[colour_channels];
      for (int c = 0; c < 3; ++c) {
        const int value = in[colour_channels == 1 ? 0 : c];
        o[c] = static_cast<uint8_t>((value * alpha + 255 * (255 - alpha) + 127) / 255);
      }
    }
  }
  return out;
}

cv::Mat to_bgr(const cv::Mat& image, const std::string& what) {
  const cv::Mat eight = to_8bit(image, what);
  cv::Mat out;
  switch (eight.channels()) {
    case 1:
      cv::cvtColor(eight, out, cv::COLOR_GRAY2BGR);
      return out;
    case 2:
    case 4:
      return composite_over_white(eight);
    case 3:
      return eight;
    default:
      throw UnsupportedTypeError("cannot load " + what + ": unsupported number of channels (" +
                                 std::to_string(eight.channels()) + "); convert it to RGB");
  }
}

void require_image(const cv::Mat& image, const char* function) {
  if (image.empty()) throw InputError(std::string(function) + ": the image is empty");
  if (image.depth() != CV_8U) {
    throw InputError(std::string(function) + ": expected an 8-bit image, got depth " +
                     std::to_string(image.depth()));
  }
}

int choose_interpolation(const cv::Mat& image, int width, int height) {
  return width <= image.cols && height <= image.rows ? cv::INTER_AREA : cv::INTER_CUBIC;
}

}  // namespace

cv::Mat decode_image(std::string_view bytes, const ImageLimits& limits, const std::string& what) {
  const auto size = static_cast<int64_t>(bytes.size());
  if (size > limits.max_bytes || size > INT_MAX) {
    throw TooLargeError(
        "cannot load " + what + ": file is " + megabytes(size) + ", over the limit of " +
        megabytes(std::min<int64_t>(limits.max_bytes, INT_MAX)) + "; compress or resize it first");
  }
  const ImageHeader header = detail::probe_image(bytes, what);
  const int64_t pixels = int64_t{header.width} * header.height;
  if (pixels > limits.max_pixels) {
    throw TooLargeError("cannot load " + what + ": image is " + std::to_string(header.width) + "x" +
                        std::to_string(header.height) + " = " + megapixels(pixels) +
                        ", over the limit of " + megapixels(limits.max_pixels) +
                        "; resize it first");
  }
  const std::string corrupt = "cannot load " + what + ": corrupt or truncated " + header.format;
  if (header.format == "jpeg" && !detail::jpeg_has_end_marker(bytes)) {
    throw InputError(corrupt + " (no end-of-image marker)");
  }

  // IMREAD_UNCHANGED keeps alpha and 16-bit samples; it also makes OpenCV skip EXIF orientation,
  // which is applied below, so the result does not depend on the OpenCV version's behaviour.
  cv::Mat decoded;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    decoded = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw InputError(corrupt + " (" + e.err + ")");
  }
  if (decoded.empty()) throw InputError(corrupt);
  if (int64_t{decoded.cols} * decoded.rows > limits.max_pixels) {  // header lied
    throw InputError(corrupt + " (decoded size differs from the header)");
  }

  cv::Mat image = to_bgr(decoded, what);
  if (header.format == "jpeg")
    image = apply_orientation(image, detail::jpeg_exif_orientation(bytes));
  return image;
}

cv::Mat load_image(const std::string& path, const ImageLimits& limits) {
  const std::string what = "image '" + path + "'";
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError("cannot load " + what + ": no such file");
  if (fs::is_directory(path, ec)) throw InputError("cannot load " + what + ": it is a directory");
  const auto size = fs::file_size(path, ec);
  if (!ec && static_cast<int64_t>(size) > limits.max_bytes) {
    throw TooLargeError("cannot load " + what + ": file is " +
                        megabytes(static_cast<int64_t>(size)) + ", over the limit of " +
                        megabytes(limits.max_bytes) + "; compress or resize it first");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot load " + what + ": cannot open the file (permissions?)");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError("cannot load " + what + ": read error");
  return decode_image(bytes, limits, what);
}

std::vector<uint8_t> encode_image(const cv::Mat& image, const std::string& format, int quality) {
  require_image(image, "encode_image");
  const std::string name = ascii_lower(format);
  std::string extension;
  std::vector<int> params;
  if (quality < 1 || quality > 100) {
    throw InputError("image quality must be in [1, 100], got " + std::to_string(quality));
  }
  if (name == "png") {
    extension = ".png";
  } else if (name == "jpeg" || name == "jpg") {
    extension = ".jpg";
    params = {cv::IMWRITE_JPEG_QUALITY, quality};
  } else if (name == "webp") {
    extension = ".webp";
    params = {cv::IMWRITE_WEBP_QUALITY, quality};
  } else {
    throw InputError("unknown image format '" + format + "'; supported: png, jpeg (jpg), webp");
  }
  std::vector<uint8_t> out;
  bool ok = false;
  try {
    ok = cv::imencode(extension, image, out, params);
  } catch (const cv::Exception& e) {
    throw std::runtime_error("cannot encode image as " + name + ": " + e.err);
  }
  if (!ok) throw std::runtime_error("cannot encode image as " + name);
  return out;
}

void save_image(const cv::Mat& image, const std::string& path, int quality) {
  const fs::path target(path);
  const std::string extension = ascii_lower(target.extension().string());
  std::string format;
  if (extension == ".png" || extension == ".webp") {
    format = extension.substr(1);
  } else if (extension == ".jpg" || extension == ".jpeg") {
    format = "jpeg";
  } else {
    throw InputError("cannot save image '" + path + "': unknown extension '" + extension +
                     "'; use .png, .jpg, .jpeg or .webp");
  }
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    throw InputError("cannot save image '" + path + "': directory '" + directory.string() +
                     "' does not exist");
  }
  const std::vector<uint8_t> bytes = encode_image(image, format, quality);

  // Same directory, so the rename is atomic and never crosses file systems.
  static std::atomic<unsigned> counter{0};
  const fs::path temporary =
      directory / ("." + target.filename().string() + ".tmp" + std::to_string(::getpid()) + "." +
                   std::to_string(counter++));
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      fs::remove(temporary, ec);
      throw std::runtime_error("cannot save image '" + path + "': write to '" + temporary.string() +
                               "' failed (disk full or no permission?)");
    }
  }
  fs::rename(temporary, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw std::runtime_error("cannot save image '" + path + "': " + ec.message());
  }
}

cv::Mat resize_longest(const cv::Mat& image, int longest) {
  require_image(image, "resize_longest");
  if (longest < 1) {
    throw InputError("image size must be at least 1 px, got " + std::to_string(longest));
  }
  const int current = std::max(image.cols, image.rows);
  if (current == longest) return image;
  const double scale = static_cast<double>(longest) / current;
  const int width = image.cols >= image.rows
                        ? longest
                        : std::max(1, static_cast<int>(std::lround(image.cols * scale)));
  const int height = image.rows >= image.cols
                         ? longest
                         : std::max(1, static_cast<int>(std::lround(image.rows * scale)));
  return resize_to(image, width, height);
}

cv::Mat resize_to(const cv::Mat& image, int width, int height) {
  require_image(image, "resize_to");
  if (width < 1 || height < 1) {
    throw InputError("image size must be at least 1x1 px, got " + std::to_string(width) + "x" +
                     std::to_string(height));
  }
  if (width == image.cols && height == image.rows) return image;
  cv::Mat out;
  cv::resize(image, out, cv::Size(width, height), 0, 0, choose_interpolation(image, width, height));
  return out;
}

}  // namespace pastiche
