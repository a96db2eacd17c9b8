#include "common/text.h"

namespace pastiche {

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte first, overlong lead (C0/C1) or beyond F4
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string text_problem(std::string_view s, bool allow_lines) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned c = p[i];
    if (c < 0x20 || c == 0x7f) {
      if (allow_lines && (c == '\t' || c == '\n' || c == '\r')) continue;
      return "control characters are not allowed";
    }
    // C1 controls: U+0080-U+009F are C2 80..C2 9F in UTF-8.
    if (c == 0xc2 && i + 1 < s.size() && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
      return "control characters are not allowed";
    }
    // U+202A-U+202E: E2 80 AA..AE; U+2066-U+2069: E2 81 A6..A9.
    if (c == 0xe2 && i + 2 < s.size()) {
      const unsigned b = p[i + 1], d = p[i + 2];
      if ((b == 0x80 && d >= 0xaa && d <= 0xae) || (b == 0x81 && d >= 0xa6 && d <= 0xa9)) {
        return "bidirectional override characters are not allowed";
      }
    }
  }
  return {};
}

std::string printable(std::string_view s, size_t max_chars) {
  std::string out;
  for (char ch : s.substr(0, max_chars)) {
    auto c = static_cast<unsigned char>(ch);
    out += (c < 0x20 || c >= 0x7F) ? '?' : ch;
  }
  if (s.size() > max_chars) out += "...";
  return out;
}

std::string ascii_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string safe_dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool is_valid_style_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.') return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace pastiche
