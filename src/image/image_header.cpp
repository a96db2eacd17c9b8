// Format sniffing and header parsing without decoding. This is a security boundary (uploads from
// the internet): every read goes through Reader, which checks bounds and throws on truncation.
#include "image/image_header.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <string>
#include <utility>

#include "common/error.h"

namespace pastiche {
namespace detail {
namespace {

constexpr const char* kSupported = "JPEG, PNG, WebP, BMP or TIFF";

// Bounds-checked little/big-endian reads over a byte span. Every offset is checked against the
// span before it is dereferenced; a short read throws InputError("truncated <format> header").
class Reader {
 public:
  Reader(std::string_view bytes, std::string format, std::string what)
      : bytes_(bytes), format_(std::move(format)), what_(std::move(what)) {}

  size_t size() const { return bytes_.size(); }
  bool has(size_t offset, size_t n) const {
    return offset <= bytes_.size() && n <= bytes_.size() - offset;
  }
  void need(size_t offset, size_t n) const {
    if (!has(offset, n)) {
      throw InputError("cannot load " + what_ + ": truncated " + format_ + " header");
    }
  }
  uint32_t u8(size_t offset) const {
    need(offset, 1);
    return byte(offset);
  }
  uint32_t u16(size_t offset, bool little) const {
    need(offset, 2);
    return little ? byte(offset) | byte(offset + 1) << 8 : byte(offset) << 8 | byte(offset + 1);
  }
  uint32_t u24le(size_t offset) const {
    need(offset, 3);
    return byte(offset) | byte(offset + 1) << 8 | byte(offset + 2) << 16;
  }
  uint32_t u32(size_t offset, bool little) const {
    need(offset, 4);
    if (little) {
      return byte(offset) | byte(offset + 1) << 8 | byte(offset + 2) << 16 | byte(offset + 3) << 24;
    }
    return byte(offset) << 24 | byte(offset + 1) << 16 | byte(offset + 2) << 8 | byte(offset + 3);
  }
  bool matches(size_t offset, std::string_view tag) const {
    return has(offset, tag.size()) && bytes_.substr(offset, tag.size()) == tag;
  }
  const std::string& what() const { return what_; }
  [[noreturn]] void malformed(const std::string& why) const {
    throw InputError("cannot load " + what_ + ": malformed " + format_ + " header (" + why + ")");
  }

 private:
  uint32_t byte(size_t offset) const { return static_cast<uint8_t>(bytes_[offset]); }

  std::string_view bytes_;
  std::string format_;
  std::string what_;
};

bool starts_with(std::string_view bytes, std::string_view magic) {
  return bytes.size() >= magic.size() && bytes.substr(0, magic.size()) == magic;
}

// Lower-cased prefix after a UTF-8 BOM and leading whitespace, for sniffing markup.
std::string text_prefix(std::string_view bytes, size_t n) {
  if (starts_with(bytes, "\xEF\xBB\xBF")) bytes.remove_prefix(3);
  size_t i = 0;
  while (i < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[i]))) ++i;
  std::string out;
  for (; i < bytes.size() && out.size() < n; ++i) {
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(bytes[i]))));
  }
  return out;
}

// Text if the first 512 bytes hold no control characters other than whitespace and ESC
// (bytes >= 0x80 are allowed: UTF-8).
bool looks_like_text(std::string_view bytes) {
  const size_t n = std::min<size_t>(bytes.size(), 512);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == 0x7F ||
        (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1B)) {
      return false;
    }
  }
  return true;
}

// Names content that is not one of the supported formats. `image` is set when it is an image
// format we do not decode (so the message can say "convert it" rather than "not an image").
std::string detect_other(std::string_view bytes, bool& image) {
  image = true;
  if (starts_with(bytes, "GIF87a") || starts_with(bytes, "GIF89a")) return "gif";
  if (starts_with(bytes, "8BPS")) return "psd";
  if (starts_with(bytes, std::string_view("\0\0\1\0", 4))) return "ico";
  if (starts_with(bytes, std::string_view("\0\0\0\x0CjP  ", 8))) return "jpeg 2000";
  if (starts_with(bytes, "\xFF\x0A") || starts_with(bytes, std::string_view("\0\0\0\x0CJXL ", 8))) {
    return "jpeg xl";
  }
  if (starts_with(bytes, "II+") || starts_with(bytes, "MM\0+")) return "bigtiff";
  if (bytes.size() >= 12 && bytes.substr(4, 4) == "ftyp") {
    const std::string_view brand = bytes.substr(8, 4);
    if (brand == "heic" || brand == "heix" || brand == "mif1" || brand == "msf1") return "heic";
    if (brand == "avif" || brand == "avis") return "avif";
    image = false;
    return "video (mp4/mov)";
  }
  const std::string markup = text_prefix(bytes, 512);
  if (markup.rfind("<svg", 0) == 0 ||
      (markup.rfind("<?xml", 0) == 0 && markup.find("<svg") != std::string::npos)) {
    return "svg";
  }
  image = false;
  if (bytes.empty()) return "empty file";
  if (starts_with(bytes, "%PDF")) return "pdf";
  if (starts_with(bytes, "PK\3\4") || starts_with(bytes, "PK\5\6")) return "zip";
  if (starts_with(bytes, "\x1F\x8B")) return "gzip";
  if (starts_with(bytes, "RIFF") && bytes.size() >= 12) {
    const std::string_view form = bytes.substr(8, 4);
    if (form == "WAVE") return "audio (wav)";
    if (form == "AVI ") return "video (avi)";
    return "riff";
  }
  if (markup.rfind("<!doctype html", 0) == 0 || markup.rfind("<html", 0) == 0 ||
      markup.rfind("<head", 0) == 0 || markup.rfind("<body", 0) == 0) {
    return "html";
  }
  if (markup.rfind("<?xml", 0) == 0) return "xml";
  if (looks_like_text(bytes)) return "text";
  return "unknown binary data";
}

[[noreturn]] void unsupported(std::string_view bytes, const std::string& what) {
  bool image = false;
  const std::string detected = detect_other(bytes, image);
  if (image) {
    throw UnsupportedTypeError("cannot load " + what + ": unsupported image format (detected: " +
                               detected + "); convert it to " + kSupported);
  }
  throw UnsupportedTypeError("cannot load " + what + ": not an image (detected: " + detected +
                             "); use " + kSupported);
}

ImageHeader make_header(const Reader& r, const char* format, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0) r.malformed("zero or negative width or height");
  if (width > INT_MAX || height > INT_MAX) r.malformed("width or height out of range");
  return {format, static_cast<int>(width), static_cast<int>(height)};
}

// Frame header markers: SOF0-3, 5-7, 9-11, 13-15 (C4 is DHT, C8 JPG, CC DAC).
bool is_sof(uint32_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}
bool is_standalone(uint32_t marker) {
  return marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8);
}

// Walks the marker segments after SOI, calling visit(marker, segment_offset, segment_length)
// for each segment with a length (offset of the payload after the length field) until visit
// returns true, or throws at SOS/EOI/end of data. Returns the offset after the stopping marker.
template <class Visit>
size_t walk_jpeg(const Reader& r, Visit visit) {
  size_t pos = 2;  // after SOI
  for (;;) {
    if (r.u8(pos) != 0xFF) r.malformed("expected a marker at byte " + std::to_string(pos));
    while (r.u8(pos) == 0xFF) ++pos;  // fill bytes
    const uint32_t marker = r.u8(pos++);
    if (is_standalone(marker)) continue;
    if (marker == 0x00) r.malformed("stray 0xFF00 outside image data");
    if (marker == 0xD9) r.malformed("end of image before the frame header (SOF)");
    const uint32_t length = r.u16(pos, false);
    if (length < 2) r.malformed("segment length below 2");
    if (visit(marker, pos + 2, static_cast<size_t>(length - 2))) return pos + length;
    if (marker == 0xDA) r.malformed("image data before the frame header (SOF)");
    pos += length;
  }
}

ImageHeader probe_jpeg(const Reader& r) {
  int64_t width = 0, height = 0;
  walk_jpeg(r, [&](uint32_t marker, size_t payload, size_t length) {
    if (!is_sof(marker)) return false;
    if (length < 5) r.malformed("frame header too short");
    height = r.u16(payload + 1, false);  // payload: precision, height, width, components
    width = r.u16(payload + 3, false);
    if (height == 0) r.malformed("height defined by a DNL marker is not supported");
    return true;
  });
  return make_header(r, "jpeg", width, height);
}

ImageHeader probe_png(const Reader& r) {
  r.need(0, 8);
  if (!r.matches(4, "\r\n\x1A\n")) r.malformed("bad signature; was it transferred as text?");
  // Signature (8), then the IHDR chunk: length (4) = 13, type (4), width (4), height (4), ...
  if (r.u32(8, false) != 13 || !r.matches(12, "IHDR")) r.malformed("first chunk is not IHDR");
  const uint32_t width = r.u32(16, false), height = r.u32(20, false);
  return make_header(r, "png", width, height);
}

ImageHeader probe_webp(const Reader& r) {
  // RIFF (4), size (4), WEBP (4), then the first chunk: fourcc (4), size (4), payload at 20.
  r.need(12, 8);
  if (r.matches(12, "VP8 ")) {
    // Lossy: 3-byte frame tag, start code 9D 01 2A, 14-bit width and height (+2 scale bits).
    if (r.u8(23) != 0x9D || r.u8(24) != 0x01 || r.u8(25) != 0x2A) r.malformed("bad VP8 start code");
    return make_header(r, "webp", r.u16(26, true) & 0x3FFF, r.u16(28, true) & 0x3FFF);
  }
  if (r.matches(12, "VP8L")) {
    // Lossless: signature 0x2F, then 14 bits width-1 and 14 bits height-1.
    if (r.u8(20) != 0x2F) r.malformed("bad VP8L signature");
    const uint32_t bits = r.u32(21, true);
    return make_header(r, "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (r.matches(12, "VP8X")) {
    // Extended: flags (1), reserved (3), 24-bit canvas width-1 and height-1.
    const uint32_t flags = r.u8(20);
    const int64_t width = int64_t{r.u24le(24)} + 1, height = int64_t{r.u24le(27)} + 1;
    if (flags & 0x02) {
      throw UnsupportedTypeError("cannot load " + r.what() +
                                 ": unsupported image format (detected: animated webp); "
                                 "use a still image");
    }
    return make_header(r, "webp", width, height);
  }
  r.malformed("first chunk is not VP8, VP8L or VP8X");
}

ImageHeader probe_bmp(const Reader& r) {
  // File header (14), then the DIB header: size (4), width, height, planes (2), ...
  const uint32_t dib_size = r.u32(14, true);
  if (dib_size == 12) {  // BITMAPCOREHEADER: 16-bit unsigned width and height
    if (r.u16(22, true) != 1) r.malformed("planes is not 1");
    return make_header(r, "bmp", r.u16(18, true), r.u16(20, true));
  }
  if (dib_size < 40) r.malformed("unknown DIB header size " + std::to_string(dib_size));
  // BITMAPINFOHEADER and later: signed 32-bit; a negative height means top-down rows.
  const int64_t width = static_cast<int32_t>(r.u32(18, true));
  const int64_t height = static_cast<int32_t>(r.u32(22, true));
  if (r.u16(26, true) != 1) r.malformed("planes is not 1");
  return make_header(r, "bmp", width, height < 0 ? -height : height);
}

ImageHeader probe_tiff(const Reader& r) {
  const bool little = r.u8(0) == 'I';
  const uint32_t ifd = r.u32(4, little);
  if (ifd < 8) r.malformed("first IFD offset inside the file header");
  const uint32_t count = r.u16(ifd, little);
  r.need(size_t{ifd} + 2, size_t{count} * 12);
  int64_t width = -1, height = -1;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t entry = size_t{ifd} + 2 + size_t{i} * 12;
    const uint32_t tag = r.u16(entry, little);
    if (tag != 256 && tag != 257) continue;  // ImageWidth, ImageLength
    const uint32_t type = r.u16(entry + 2, little);
    int64_t value;
    if (type == 3) {  // SHORT: left-justified in the 4-byte value field
      value = r.u16(entry + 8, little);
    } else if (type == 4) {  // LONG
      value = r.u32(entry + 8, little);
    } else {
      r.malformed("image width/length tag has type " + std::to_string(type));
    }
    (tag == 256 ? width : height) = value;
  }
  if (width < 0 || height < 0) r.malformed("no ImageWidth/ImageLength tags in the first IFD");
  return make_header(r, "tiff", width, height);
}

}  // namespace

ImageHeader probe_image(std::string_view bytes, const std::string& what) {
  if (starts_with(bytes, "\xFF\xD8")) return probe_jpeg(Reader(bytes, "jpeg", what));
  if (starts_with(bytes, "\x89PNG")) return probe_png(Reader(bytes, "png", what));
  if (starts_with(bytes, "RIFF") && bytes.size() >= 12 && bytes.substr(8, 4) == "WEBP") {
    return probe_webp(Reader(bytes, "webp", what));
  }
  // "BM" is a weak magic: a real header always holds zero bytes, text starting with "BM" does not.
  if (starts_with(bytes, "BM") && !looks_like_text(bytes)) {
    return probe_bmp(Reader(bytes, "bmp", what));
  }
  if (starts_with(bytes, std::string_view("II*\0", 4)) ||
      starts_with(bytes, std::string_view("MM\0*", 4))) {
    return probe_tiff(Reader(bytes, "tiff", what));
  }
  unsupported(bytes, what);
}

int jpeg_exif_orientation(std::string_view bytes) {
  if (!starts_with(bytes, "\xFF\xD8\xFF")) return 1;
  int orientation = 1;
  try {
    const Reader r(bytes, "jpeg", "image");
    walk_jpeg(r, [&](uint32_t marker, size_t payload, size_t length) {
      if (marker == 0xDA || is_sof(marker)) return true;  // EXIF comes before the frame
      if (marker != 0xE1 || length < 6 || !r.matches(payload, std::string_view("Exif\0\0", 6))) {
        return false;
      }
      // The TIFF structure inside the segment; offsets are relative to its start, and the
      // sub-reader keeps every read inside this segment.
      r.need(payload, length);
      const Reader tiff(std::string_view(bytes.data() + payload + 6, length - 6), "exif", "image");
      const uint32_t order = tiff.u16(0, false);
      if (order != 0x4949 && order != 0x4D4D) return true;
      const bool little = order == 0x4949;
      if (tiff.u16(2, little) != 42) return true;
      const uint32_t ifd = tiff.u32(4, little);
      const uint32_t count = tiff.u16(ifd, little);
      for (uint32_t i = 0; i < count; ++i) {
        const size_t entry = size_t{ifd} + 2 + size_t{i} * 12;
        if (tiff.u16(entry, little) != 0x0112) continue;    // Orientation
        if (tiff.u16(entry + 2, little) != 3) return true;  // must be SHORT
        const uint32_t value = tiff.u16(entry + 8, little);
        if (value >= 1 && value <= 8) orientation = static_cast<int>(value);
        return true;
      }
      return true;
    });
  } catch (const InputError&) {
    // Malformed JPEG or EXIF: keep what was found (usually 1); decoding reports real problems.
  }
  return orientation;
}

bool jpeg_has_end_marker(std::string_view bytes) {
  size_t scan = 0;
  try {
    const Reader r(bytes, "jpeg", "image");
    scan = walk_jpeg(r, [](uint32_t marker, size_t, size_t) { return marker == 0xDA; });
  } catch (const InputError&) {
    return false;
  }
  // Entropy-coded data never contains FF D9 (0xFF is stuffed as FF 00), so the first FF D9 after
  // the first scan header is the end of image; thumbnails in APPn segments come before it.
  return bytes.find("\xFF\xD9", scan) != std::string_view::npos;
}

}  // namespace detail

ImageHeader probe_image(std::string_view bytes) {
  return detail::probe_image(bytes, "image");
}

}  // namespace pastiche
