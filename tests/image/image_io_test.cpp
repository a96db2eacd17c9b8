#include "image/image_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fixtures.h"

namespace pastiche {
namespace {

namespace fs = std::filesystem;

using testing::mean_abs_diff;
using testing::TempDir;

// 40x20 (wide) test picture: a smooth blue-green background with a red 10x5 block top-left.
cv::Mat test_picture(int width = 40, int height = 20) {
  cv::Mat image(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uint8_t>(120 + x), static_cast<uint8_t>(100 + 2 * y), 40);
    }
  }
  image(cv::Rect(0, 0, width / 4, height / 4)).setTo(cv::Scalar(0, 0, 255));
  return image;
}

std::string encode(const cv::Mat& image, const std::string& extension,
                   const std::vector<int>& params = {}) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(cv::imencode(extension, image, out, params));
  return std::string(out.begin(), out.end());
}

std::string as_string(const std::vector<uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

cv::Vec3d region_mean(const cv::Mat& image, cv::Rect rect) {
  const cv::Scalar m = cv::mean(image(rect));
  return {m[0], m[1], m[2]};
}

bool is_red(const cv::Vec3d& bgr) {
  return bgr[2] > 200 && bgr[0] < 60 && bgr[1] < 60;
}

// Which of the three error classes was thrown (the most derived one).
template <class F>
std::string error_kind(F f, std::string* message = nullptr) {
  try {
    f();
  } catch (const TooLargeError& e) {
    if (message) *message = e.what();
    return "TooLargeError";
  } catch (const UnsupportedTypeError& e) {
    if (message) *message = e.what();
    return "UnsupportedTypeError";
  } catch (const InputError& e) {
    if (message) *message = e.what();
    return "InputError";
  } catch (const std::exception& e) {
    if (message) *message = e.what();
    return "other exception";
  }
  return "no exception";
}

void put_be16(std::string& s, size_t at, uint32_t v) {
  s[at] = static_cast<char>(v >> 8);
  s[at + 1] = static_cast<char>(v);
}
void put_be32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (24 - 8 * i));
}
void put_le32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

// A PNG signature and IHDR chunk claiming width x height, with no image data after it.
std::string png_header_only(uint32_t width, uint32_t height) {
  std::string s("\x89PNG\r\n\x1A\n", 8);
  s += std::string(25, '\0');
  put_be32(s, 8, 13);
  s.replace(12, 4, "IHDR");
  put_be32(s, 16, width);
  put_be32(s, 20, height);
  s[24] = 8;  // bit depth
  s[25] = 2;  // colour type RGB; CRC left zero
  return s;
}

// An APP1 Exif segment with one IFD0 entry: Orientation (0x0112, SHORT) = orientation.
std::string exif_segment(int orientation, bool little_endian) {
  std::string tiff = little_endian ? std::string("II\x2A\0", 4) : std::string("MM\0\x2A", 4);
  auto u16 = [&](uint32_t v) {
    const char b[2] = {static_cast<char>(little_endian ? v : v >> 8),
                       static_cast<char>(little_endian ? v >> 8 : v)};
    tiff.append(b, 2);
  };
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      const int shift = little_endian ? 8 * i : 24 - 8 * i;
      tiff.push_back(static_cast<char>(v >> shift));
    }
  };
  u32(8);       // IFD0 offset
  u16(1);       // one entry
  u16(0x0112);  // Orientation
  u16(3);       // SHORT
  u32(1);       // count
  u16(static_cast<uint32_t>(orientation));
  u16(0);  // padding of the 4-byte value field
  u32(0);  // no next IFD
  std::string payload = std::string("Exif\0\0", 6) + tiff;
  std::string segment("\xFF\xE1\0\0", 4);
  put_be16(segment, 2, static_cast<uint32_t>(payload.size() + 2));
  return segment + payload;
}

std::string with_exif(const std::string& jpeg, int orientation, bool little_endian = false) {
  return jpeg.substr(0, 2) + exif_segment(orientation, little_endian) + jpeg.substr(2);
}

// ---------------------------------------------------------------------------------------------
// probe_image

TEST(ProbeImage, ReadsDimensionsOfEveryFormat) {
  const cv::Mat image = test_picture(37, 23);
  struct Case {
    std::string name, extension, format;
    std::vector<int> params;
  };
  const std::vector<Case> cases = {
      {"png", ".png", "png", {}},
      {"jpeg baseline", ".jpg", "jpeg", {}},
      {"jpeg progressive", ".jpg", "jpeg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}},
      {"webp lossy (VP8)", ".webp", "webp", {cv::IMWRITE_WEBP_QUALITY, 80}},
      {"webp lossless (VP8L)", ".webp", "webp", {cv::IMWRITE_WEBP_QUALITY, 101}},
      {"bmp", ".bmp", "bmp", {}},
      {"tiff", ".tiff", "tiff", {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string bytes = encode(image, c.extension, c.params);
    const ImageHeader header = probe_image(bytes);
    EXPECT_EQ(header.format, c.format);
    EXPECT_EQ(header.width, 37);
    EXPECT_EQ(header.height, 23);
    const cv::Mat decoded = decode_image(bytes);
    EXPECT_EQ(decoded.type(), CV_8UC3);
    EXPECT_EQ(decoded.cols, 37);
    EXPECT_EQ(decoded.rows, 23);
  }
}

TEST(ProbeImage, ProgressiveJpegHasSof2) {
  const std::string bytes = encode(test_picture(), ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  EXPECT_NE(bytes.find("\xFF\xC2"), std::string::npos);
  EXPECT_EQ(bytes.find("\xFF\xC0"), std::string::npos);
  const ImageHeader header = probe_image(bytes);
  EXPECT_EQ(header.width, 40);
  EXPECT_EQ(header.height, 20);
}

TEST(ProbeImage, WebpExtendedHeader) {
  std::string s("RIFF\0\0\0\0WEBPVP8X\x0A\0\0\0", 20);
  s += std::string(10, '\0');
  put_le32(s, 4, static_cast<uint32_t>(s.size() - 8));
  // canvas width-1 = 1999 and height-1 = 299, 24-bit little-endian
  s[24] = static_cast<char>(1999 & 0xFF);
  s[25] = static_cast<char>(1999 >> 8);
  s[27] = static_cast<char>(299 & 0xFF);
  s[28] = static_cast<char>(299 >> 8);
  const ImageHeader header = probe_image(s);
  EXPECT_EQ(header.format, "webp");
  EXPECT_EQ(header.width, 2000);
  EXPECT_EQ(header.height, 300);

  s[20] = 0x02;  // animation flag
  std::string message;
  EXPECT_EQ(error_kind([&] { probe_image(s); }, &message), "UnsupportedTypeError");
  EXPECT_NE(message.find("animated webp"), std::string::npos) << message;
}

TEST(ProbeImage, BmpTopDownHasNegativeHeight) {
  std::string bytes = encode(test_picture(), ".bmp");
  ASSERT_EQ(static_cast<uint8_t>(bytes[14]), 40);  // BITMAPINFOHEADER
  put_le32(bytes, 22, static_cast<uint32_t>(-20));
  const ImageHeader header = probe_image(bytes);
  EXPECT_EQ(header.width, 40);
  EXPECT_EQ(header.height, 20);
}

// A minimal TIFF header + IFD with ImageWidth/ImageLength as SHORT or LONG in either byte order.
std::string tiff_header(bool little, uint16_t type, uint32_t width, uint32_t height) {
  std::string s;
  auto u16 = [&](uint32_t v) {
    s.push_back(static_cast<char>(little ? v : v >> 8));
    s.push_back(static_cast<char>(little ? v >> 8 : v));
  };
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (little ? 8 * i : 24 - 8 * i)));
  };
  s += little ? std::string("II") : std::string("MM");
  u16(42);
  u32(8);
  u16(3);
  u16(254), u16(4), u32(1), u32(0);  // NewSubfileType, ignored
  for (const auto& [tag, value] : {std::pair{256u, width}, std::pair{257u, height}}) {
    u16(tag), u16(type), u32(1);
    if (type == 3) {
      u16(value), u16(0);
    } else {
      u32(value);
    }
  }
  u32(0);
  return s;
}

TEST(ProbeImage, TiffShortAndLongInBothByteOrders) {
  for (bool little : {true, false}) {
    for (uint16_t type : {uint16_t{3}, uint16_t{4}}) {
      SCOPED_TRACE(std::string(little ? "II" : "MM") + (type == 3 ? " SHORT" : " LONG"));
      const ImageHeader header = probe_image(tiff_header(little, type, 1234, 567));
      EXPECT_EQ(header.format, "tiff");
      EXPECT_EQ(header.width, 1234);
      EXPECT_EQ(header.height, 567);
    }
  }
  EXPECT_EQ(error_kind([] { probe_image(tiff_header(true, 2, 1, 1)); }), "InputError");
  EXPECT_EQ(error_kind([] { probe_image(tiff_header(true, 4, 0, 10)); }), "InputError");
  EXPECT_EQ(error_kind([] { probe_image(tiff_header(false, 4, 0x80000000u, 10)); }), "InputError");
}

TEST(ProbeImage, NamesNonImageContent) {
  struct Case {
    std::string bytes, kind, detected;
  };
  const std::vector<Case> cases = {
      {"", "UnsupportedTypeError", "empty"},
      {"GIF89a\x01\0\x01\0", "UnsupportedTypeError", "gif"},
      {"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "UnsupportedTypeError", "pdf"},
      {std::string("PK\3\4\x14\0\0\0", 8), "UnsupportedTypeError", "zip"},
      {"<!DOCTYPE html><html><body>Not found</body></html>", "UnsupportedTypeError", "html"},
      {"  <svg xmlns='http://www.w3.org/2000/svg'/>", "UnsupportedTypeError", "svg"},
      {"hello, this is a plain text file\nwith two lines\n", "UnsupportedTypeError", "text"},
      {"BMW is a car\n", "UnsupportedTypeError", "text"},
      {std::string("\0\0\0\x18"
                   "ftypheic\0\0\0\0",
                   16),
       "UnsupportedTypeError", "heic"},
      {std::string("\x01\x02\x03\x00\xFE\x80", 6), "UnsupportedTypeError", "unknown"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.detected);
    std::string message;
    EXPECT_EQ(error_kind([&] { probe_image(c.bytes); }, &message), c.kind);
    EXPECT_NE(message.find("detected: " + c.detected), std::string::npos) << message;
  }
}

TEST(ProbeImage, TruncatedHeadersAreInputErrors) {
  const cv::Mat image = test_picture();
  for (const std::string extension : {".png", ".jpg", ".webp", ".bmp", ".tiff"}) {
    SCOPED_TRACE(extension);
    const std::string bytes = encode(image, extension);
    // Cut inside the header: the magic still matches, the dimensions are missing.
    const std::string cut = bytes.substr(0, extension == std::string(".webp") ? 14 : 5);
    std::string message;
    EXPECT_EQ(error_kind([&] { probe_image(cut); }, &message), "InputError");
    EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  }
}

TEST(ProbeImage, MalformedJpegWithoutFrameHeader) {
  // SOI, a comment, then EOI: no SOF.
  const std::string bytes("\xFF\xD8\xFF\xFE\0\x04hi\xFF\xD9", 10);
  std::string message;
  EXPECT_EQ(error_kind([&] { probe_image(bytes); }, &message), "InputError");
  EXPECT_NE(message.find("malformed jpeg"), std::string::npos) << message;
}

// Every prefix and thousands of random corruptions of real headers: probe_image must either
// return or throw InputError (or a subclass), never read out of bounds (run under ASan to see).
TEST(ProbeImage, SurvivesTruncationAndCorruption) {
  const cv::Mat image = test_picture();
  std::mt19937 rng(1234);
  for (const std::string extension : {".png", ".jpg", ".webp", ".bmp", ".tiff"}) {
    SCOPED_TRACE(extension);
    const std::string bytes = encode(image, extension);
    for (size_t n = 0; n <= std::min<size_t>(bytes.size(), 700); ++n) {
      const std::string kind = error_kind([&] { probe_image(bytes.substr(0, n)); });
      EXPECT_TRUE(kind == "no exception" || kind == "InputError" || kind == "UnsupportedTypeError")
          << kind << " at length " << n;
    }
    for (int trial = 0; trial < 3000; ++trial) {
      std::string mutated = bytes.substr(0, std::min<size_t>(bytes.size(), 700));
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        // Mostly the first bytes (magic, sizes), sometimes anywhere in the header.
        const size_t span = trial % 2 ? std::min<size_t>(mutated.size(), 64) : mutated.size();
        mutated[rng() % span] = static_cast<char>(rng());
      }
      const std::string kind = error_kind([&] { probe_image(mutated); });
      EXPECT_TRUE(kind == "no exception" || kind == "InputError" || kind == "UnsupportedTypeError")
          << kind;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// decode_image / load_image

// Corrupted EXIF blocks are ignored (orientation 1 or whatever was read), never a crash; the
// pixels themselves are intact, so decoding succeeds.
TEST(DecodeImage, SurvivesCorruptExif) {
  const std::string jpeg = encode(test_picture(), ".jpg");
  const std::string good = with_exif(jpeg, 6);
  const size_t exif_size = exif_segment(6, false).size();
  std::mt19937 rng(99);
  for (int trial = 0; trial < 1500; ++trial) {
    std::string mutated = good;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      // After SOI (2) and the APP1 marker and length (4).
      mutated[6 + rng() % (exif_size - 4)] = static_cast<char>(rng());
    }
    const std::string kind = error_kind([&] {
      const cv::Mat image = decode_image(mutated);
      EXPECT_EQ(image.total(), 800u);
    });
    EXPECT_TRUE(kind == "no exception" || kind == "InputError") << kind;
  }
}

TEST(DecodeImage, PixelLimitIsCheckedBeforeDecoding) {
  const std::string bytes = png_header_only(100000, 100000);
  const ImageHeader header = probe_image(bytes);
  EXPECT_EQ(header.width, 100000);
  EXPECT_EQ(header.height, 100000);
  std::string message;
  EXPECT_EQ(error_kind([&] { decode_image(bytes, {}, "content image 'huge.png'"); }, &message),
            "TooLargeError");
  EXPECT_NE(message.find("content image 'huge.png'"), std::string::npos) << message;
  EXPECT_NE(message.find("100000x100000 = 10000 Mpx, over the limit of 40 Mpx; resize it first"),
            std::string::npos)
      << message;

  ImageLimits small;
  small.max_pixels = 40 * 20 - 1;
  EXPECT_EQ(error_kind([&] { decode_image(encode(test_picture(), ".png"), small); }),
            "TooLargeError");
  small.max_pixels = 40 * 20;
  EXPECT_EQ(decode_image(encode(test_picture(), ".png"), small).cols, 40);
}

TEST(DecodeImage, ByteLimit) {
  ImageLimits limits;
  const std::string bytes = encode(test_picture(), ".png");
  limits.max_bytes = static_cast<int64_t>(bytes.size()) - 1;
  std::string message;
  EXPECT_EQ(error_kind([&] { decode_image(bytes, limits); }, &message), "TooLargeError");
  EXPECT_NE(message.find("over the limit"), std::string::npos) << message;
}

TEST(DecodeImage, CorruptInputs) {
  const cv::Mat image = test_picture(64, 48);
  const std::string jpeg = encode(image, ".jpg");
  const std::string png = encode(image, ".png");
  const std::string webp = encode(image, ".webp");

  std::string message;
  EXPECT_EQ(error_kind([&] { decode_image(jpeg.substr(0, jpeg.size() / 2)); }, &message),
            "InputError");
  EXPECT_NE(message.find("corrupt or truncated jpeg"), std::string::npos) << message;
  EXPECT_EQ(error_kind([&] { decode_image(png.substr(0, png.size() - 30)); }, &message),
            "InputError");
  EXPECT_NE(message.find("corrupt or truncated png"), std::string::npos) << message;
  EXPECT_EQ(error_kind([&] { decode_image(webp.substr(0, webp.size() / 2)); }), "InputError");

  std::mt19937 rng(7);
  std::string random(4096, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  random[0] = '\x01';  // not accidentally a magic number
  EXPECT_EQ(error_kind([&] { decode_image(random); }), "UnsupportedTypeError");

  EXPECT_EQ(
      error_kind([&] { decode_image("just some words", {}, "style image 'x.jpg'"); }, &message),
      "UnsupportedTypeError");
  EXPECT_EQ(message,
            "cannot load style image 'x.jpg': not an image (detected: text); use JPEG, "
            "PNG, WebP, BMP or TIFF");

  // A valid header with no pixel data after it.
  EXPECT_EQ(error_kind([&] { decode_image(png_header_only(10, 10)); }), "InputError");
}

TEST(DecodeImage, GreyAlphaAndSixteenBit) {
  cv::Mat grey(8, 12, CV_8UC1);
  for (int y = 0; y < grey.rows; ++y) {
    for (int x = 0; x < grey.cols; ++x) grey.at<uint8_t>(y, x) = static_cast<uint8_t>(20 * x + y);
  }
  const cv::Mat from_grey = decode_image(encode(grey, ".png"));
  ASSERT_EQ(from_grey.type(), CV_8UC3);
  for (int y = 0; y < grey.rows; ++y) {
    for (int x = 0; x < grey.cols; ++x) {
      const uint8_t v = grey.at<uint8_t>(y, x);
      EXPECT_EQ(from_grey.at<cv::Vec3b>(y, x), cv::Vec3b(v, v, v));
    }
  }

  cv::Mat bgra(2, 3, CV_8UC4, cv::Scalar(255, 0, 0, 255));  // opaque blue
  bgra.at<cv::Vec4b>(0, 1) = cv::Vec4b(0, 0, 0, 0);         // transparent black -> white
  bgra.at<cv::Vec4b>(0, 2) = cv::Vec4b(0, 0, 0, 128);       // half black -> mid grey
  bgra.at<cv::Vec4b>(1, 0) = cv::Vec4b(0, 0, 255, 255);     // opaque red
  const cv::Mat flat = decode_image(encode(bgra, ".png"));
  ASSERT_EQ(flat.type(), CV_8UC3);
  EXPECT_EQ(flat.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 0, 0));
  EXPECT_EQ(flat.at<cv::Vec3b>(0, 1), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(flat.at<cv::Vec3b>(0, 2), cv::Vec3b(127, 127, 127));
  EXPECT_EQ(flat.at<cv::Vec3b>(1, 0), cv::Vec3b(0, 0, 255));

  cv::Mat deep(4, 4, CV_16UC3, cv::Scalar(65535, 257 * 100, 0));
  const cv::Mat shallow = decode_image(encode(deep, ".png"));
  ASSERT_EQ(shallow.type(), CV_8UC3);
  EXPECT_EQ(shallow.at<cv::Vec3b>(3, 3), cv::Vec3b(255, 100, 0));
}

TEST(DecodeImage, AppliesExifOrientation) {
  const cv::Mat image = test_picture(40, 20);  // red block top-left
  const std::string jpeg = encode(image, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});

  const cv::Mat upright = decode_image(jpeg);
  ASSERT_EQ(upright.cols, 40);
  ASSERT_EQ(upright.rows, 20);
  EXPECT_TRUE(is_red(region_mean(upright, cv::Rect(1, 1, 8, 3))));

  // 6: the camera was turned clockwise; displaying rotates 90 degrees clockwise, so the
  // top-left corner ends up top-right.
  for (bool little : {false, true}) {
    SCOPED_TRACE(little ? "II" : "MM");
    const cv::Mat cw = decode_image(with_exif(jpeg, 6, little));
    ASSERT_EQ(cw.cols, 20);
    ASSERT_EQ(cw.rows, 40);
    EXPECT_TRUE(is_red(region_mean(cw, cv::Rect(20 - 4, 1, 3, 8))));
    EXPECT_FALSE(is_red(region_mean(cw, cv::Rect(1, 1, 3, 8))));
  }
  // 8: rotate 90 degrees counter-clockwise, top-left goes bottom-left.
  const cv::Mat ccw = decode_image(with_exif(jpeg, 8));
  ASSERT_EQ(ccw.cols, 20);
  ASSERT_EQ(ccw.rows, 40);
  EXPECT_TRUE(is_red(region_mean(ccw, cv::Rect(1, 40 - 9, 3, 8))));
  // 3: rotate 180, top-left goes bottom-right; size unchanged.
  const cv::Mat half = decode_image(with_exif(jpeg, 3));
  ASSERT_EQ(half.cols, 40);
  EXPECT_TRUE(is_red(region_mean(half, cv::Rect(40 - 9, 20 - 4, 8, 3))));
  // 1 and an out-of-range value change nothing.
  EXPECT_LT(mean_abs_diff(decode_image(with_exif(jpeg, 1)), upright), 0.01);
  EXPECT_LT(mean_abs_diff(decode_image(with_exif(jpeg, 42)), upright), 0.01);
  // The header still reports the stored size.
  EXPECT_EQ(probe_image(with_exif(jpeg, 6)).width, 40);
}

TEST(LoadImage, MissingFileNamesThePath) {
  TempDir dir;
  const std::string path = (dir.path() / "nope.jpg").string();
  std::string message;
  EXPECT_EQ(error_kind([&] { load_image(path); }, &message), "InputError");
  EXPECT_NE(message.find("'" + path + "'"), std::string::npos) << message;
}

TEST(LoadImage, NamesThePathInDecodeErrors) {
  TempDir dir;
  const std::string path = (dir.path() / "notes.jpg").string();
  std::ofstream(path) << "this is not a picture\n";
  std::string message;
  EXPECT_EQ(error_kind([&] { load_image(path); }, &message), "UnsupportedTypeError");
  EXPECT_EQ(message, "cannot load image '" + path +
                         "': not an image (detected: text); use JPEG, PNG, WebP, BMP or TIFF");
}

// ---------------------------------------------------------------------------------------------
// encode_image / save_image

TEST(EncodeImage, RoundTrips) {
  const cv::Mat image = test_picture(50, 30);
  const cv::Mat png = decode_image(as_string(encode_image(image, "png")));
  EXPECT_EQ(cv::norm(png, image, cv::NORM_INF), 0.0);
  for (const std::string format : {"jpeg", "jpg", "JPEG", "webp"}) {
    SCOPED_TRACE(format);
    const std::string bytes = as_string(encode_image(image, format, 95));
    const cv::Mat back = decode_image(bytes);
    ASSERT_EQ(back.size(), image.size());
    EXPECT_LT(mean_abs_diff(back, image), 4.0);
  }
  EXPECT_EQ(probe_image(as_string(encode_image(image, "webp"))).format, "webp");
  EXPECT_EQ(probe_image(as_string(encode_image(image, "jpg"))).format, "jpeg");
  // Lower quality, smaller file.
  EXPECT_LT(encode_image(image, "jpeg", 10).size(), encode_image(image, "jpeg", 95).size());
}

TEST(EncodeImage, RejectsBadArguments) {
  std::string message;
  EXPECT_EQ(error_kind([&] { encode_image(test_picture(), "gif"); }, &message), "InputError");
  EXPECT_NE(message.find("png, jpeg (jpg), webp"), std::string::npos) << message;
  EXPECT_EQ(error_kind([&] { encode_image(test_picture(), "jpeg", 0); }), "InputError");
  EXPECT_EQ(error_kind([&] { encode_image(cv::Mat(), "png"); }), "InputError");
}

TEST(SaveImage, WritesAtomicallyAndRoundTrips) {
  TempDir dir;
  const cv::Mat image = test_picture();
  for (const std::string name : {"out.png", "out.jpg", "out.JPEG", "out.webp"}) {
    SCOPED_TRACE(name);
    const std::string path = (dir.path() / name).string();
    save_image(image, path);
    const cv::Mat back = load_image(path);
    EXPECT_EQ(back.size(), image.size());
    EXPECT_LT(mean_abs_diff(back, image), 4.0);
  }
  save_image(test_picture(10, 10), (dir.path() / "out.png").string());  // replaces
  EXPECT_EQ(load_image((dir.path() / "out.png").string()).cols, 10);
  // Only the four outputs: no temporary files left behind.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos);
  }
  EXPECT_EQ(files, 4);
}

TEST(SaveImage, FailuresLeaveNoFile) {
  TempDir dir;
  std::string message;
  const std::string gif = (dir.path() / "out.gif").string();
  EXPECT_EQ(error_kind([&] { save_image(test_picture(), gif); }, &message), "InputError");
  EXPECT_NE(message.find(".png, .jpg, .jpeg or .webp"), std::string::npos) << message;
  EXPECT_EQ(error_kind([&] { save_image(cv::Mat(), (dir.path() / "e.png").string()); }),
            "InputError");
  const std::string missing = (dir.path() / "no-such-dir" / "out.png").string();
  EXPECT_EQ(error_kind([&] { save_image(test_picture(), missing); }, &message), "InputError");
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

// ---------------------------------------------------------------------------------------------
// resize

TEST(Resize, LongestSideKeepsAspectRatio) {
  const cv::Mat image = test_picture(100, 50);
  const cv::Mat small = resize_longest(image, 40);
  EXPECT_EQ(small.cols, 40);
  EXPECT_EQ(small.rows, 20);
  const cv::Mat tall = resize_longest(test_picture(30, 90), 45);
  EXPECT_EQ(tall.cols, 15);
  EXPECT_EQ(tall.rows, 45);
  const cv::Mat large = resize_longest(image, 300);
  EXPECT_EQ(large.cols, 300);
  EXPECT_EQ(large.rows, 150);
  const cv::Mat same = resize_longest(image, 100);
  EXPECT_EQ(same.data, image.data);  // unchanged, not copied
  const cv::Mat thin = resize_longest(test_picture(1000, 4), 100);
  EXPECT_EQ(thin.rows, 1);  // never rounds down to zero
  EXPECT_EQ(error_kind([&] { resize_longest(image, 0); }), "InputError");
  EXPECT_EQ(error_kind([&] { resize_to(image, 10, -1); }), "InputError");
}

TEST(Resize, AreaWhenShrinkingCubicWhenEnlarging) {
  // A 1-px checkerboard shrunk by 2 averages to flat grey with INTER_AREA (linear would alias).
  cv::Mat board(8, 8, CV_8UC3);
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) board.at<cv::Vec3b>(y, x) = cv::Vec3b::all((x + y) % 2 ? 255 : 0);
  }
  const cv::Mat half = resize_to(board, 4, 4);
  cv::Mat expected_half;
  cv::resize(board, expected_half, cv::Size(4, 4), 0, 0, cv::INTER_AREA);
  EXPECT_EQ(cv::norm(half, expected_half, cv::NORM_INF), 0.0);
  const cv::Mat big = resize_to(board, 20, 20);
  cv::Mat expected_big;
  cv::resize(board, expected_big, cv::Size(20, 20), 0, 0, cv::INTER_CUBIC);
  EXPECT_EQ(cv::norm(big, expected_big, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace pastiche
