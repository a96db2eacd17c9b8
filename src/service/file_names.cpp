#include "service/file_names.h"

#include <cctype>
#include <set>

namespace pastiche::service {

namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// The code point at s[i] (advancing i), or kInvalid for a byte that does not start a well-formed
// sequence (one byte is consumed then).
char32_t next_code_point(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  const int extra = b0 >= 0xC2 && b0 <= 0xDF   ? 1
                    : b0 >= 0xE0 && b0 <= 0xEF ? 2
                    : b0 >= 0xF0 && b0 <= 0xF4 ? 3
                                               : -1;
  if (extra < 0 || i + static_cast<size_t>(extra) >= s.size()) {
    ++i;
    return kInvalid;
  }
  char32_t cp = b0 & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kInvalid;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  const char32_t min = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kInvalid;
  }
  i += static_cast<size_t>(extra) + 1;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_ascii_alnum(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Beyond ASCII, everything counts as a letter except the blocks of punctuation, symbols,
// spaces, invisible and private characters (no Unicode tables needed for a file name).
bool is_name_char(char32_t c) {
  if (c < 0x80) return is_ascii_alnum(c) || c == '-' || c == '_';
  if (c <= 0xBF) return c == 0xAA || c == 0xB5 || c == 0xBA;  // controls, symbols; ª µ º
  if (c == 0xD7 || c == 0xF7) return false;                   // × ÷
  struct Range {
    char32_t lo, hi;
  };
  static constexpr Range kNotLetters[] = {
      {0x061C, 0x061C},   {0x180E, 0x180E}, {0x2000, 0x2BFF},   {0x2E00, 0x2E7F},
      {0x3000, 0x303F},   {0xE000, 0xF8FF}, {0xFE00, 0xFE0F},   {0xFE30, 0xFE6F},
      {0xFEFF, 0xFEFF},   {0xFF00, 0xFF0F}, {0xFF1A, 0xFF20},   {0xFF3B, 0xFF40},
      {0xFF5B, 0xFF65},   {0xFFF0, 0xFFFF}, {0x1F000, 0x1FAFF}, {0xE0000, 0xE007F},
      {0xF0000, 0x10FFFF}};
  for (const auto& r : kNotLetters) {
    if (c >= r.lo && c <= r.hi) return false;
  }
  return true;
}

// Latin letters with diacritics as plain ASCII (Latin-1 and Latin Extended-A); "" otherwise.
const char* ascii_of(char32_t c) {
  static const char* const kLatin1[64] = {
      "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I",  "I",
      "D", "N", "O", "O", "O", "O", "O",  "",  "O", "U", "U", "U", "U", "Y", "TH", "ss",
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
      "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};
  if (c >= 0xC0 && c <= 0xFF) return kLatin1[c - 0xC0];
  struct Range {
    char32_t lo, hi;
    const char* ascii;
  };
  static constexpr Range kExtendedA[] = {
      {0x100, 0x105, "a"}, {0x106, 0x10D, "c"},  {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},
      {0x11C, 0x123, "g"}, {0x124, 0x127, "h"},  {0x128, 0x131, "i"}, {0x132, 0x133, "ij"},
      {0x134, 0x135, "j"}, {0x136, 0x138, "k"},  {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},
      {0x14C, 0x151, "o"}, {0x152, 0x153, "oe"}, {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},
      {0x162, 0x167, "t"}, {0x168, 0x173, "u"},  {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
      {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"}};
  for (const auto& r : kExtendedA) {
    if (c >= r.lo && c <= r.hi) return r.ascii;
  }
  return "";
}

bool is_combining_mark(char32_t c) {
  return c >= 0x300 && c <= 0x36F;
}

// Cuts `s` (ASCII, words joined by '-') to at most `max` characters, at a word boundary when
// one is in the second half, without a trailing '-'.
std::string cut_words(std::string s, size_t max) {
  if (s.size() > max) {
    const bool mid_word = s[max] != '-';
    s.resize(max);
    if (mid_word) {
      const auto dash = s.rfind('-');
      if (dash != std::string::npos && dash >= max / 2) s.resize(dash);
    }
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s;
}

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t at = s.find(sep, start);
    out.emplace_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return out;
    start = at + sep.size();
  }
}

std::string joined_slugs(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    const std::string s = slug(p);
    if (s.empty()) continue;
    out += (out.empty() ? "" : "-and-") + s;
  }
  return out;
}

}  // namespace

std::string content_name_from_filename(std::string_view filename) {
  const auto slash = filename.find_last_of("/\\");
  std::string_view base = slash == std::string_view::npos ? filename : filename.substr(slash + 1);
  const auto dot = base.rfind('.');
  if (dot != std::string_view::npos && dot > 0) base = base.substr(0, dot);
  std::string out;
  size_t chars = 0;
  bool dash = true;  // no leading '-'
  for (size_t i = 0; i < base.size() && chars < kMaxContentNameChars;) {
    const char32_t c = next_code_point(base, i);
    if (c != kInvalid && is_name_char(c) && c != '-') {
      append_utf8(out, c);
      ++chars;
      dash = false;
    } else if (!dash) {
      out += '-';
      ++chars;
      dash = true;
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string slug(std::string_view text) {
  std::string out;
  bool dash = true;
  for (size_t i = 0; i < text.size();) {
    const char32_t c = next_code_point(text, i);
    std::string ascii;
    if (c != kInvalid && c < 0x80 && is_ascii_alnum(c)) {
      ascii = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else if (c != kInvalid && is_combining_mark(c)) {
      continue;  // "e" + U+0301 is "e"
    } else if (c != kInvalid) {
      for (const char* p = ascii_of(c); *p; ++p) ascii += static_cast<char>(std::tolower(*p));
    }
    if (!ascii.empty()) {
      out += ascii;
      dash = false;
    } else if (!dash) {
      out += '-';
      dash = true;
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string style_slug(std::string_view style_titles, std::string_view style_fallback) {
  std::string style = joined_slugs(split(style_titles, " + "));
  if (style.empty()) style = joined_slugs(split(style_fallback, ","));
  return style.empty() ? "painting" : style;
}

std::string download_name(std::string_view content_name, std::string_view style_titles,
                          std::string_view style_fallback, std::string_view extension) {
  const std::string style = style_slug(style_titles, style_fallback);
  std::string content = cut_words(slug(content_name), kMaxContentNameChars);
  const size_t max_stem = kMaxDownloadNameChars - 1 - extension.size();
  std::string stem = (content.empty() ? std::string("pastiche") : content) + "-" + style;
  return cut_words(stem, max_stem) + "." + std::string(extension);
}

std::vector<std::string> deduplicated(const std::vector<std::string>& names) {
  std::set<std::string> used(names.begin(), names.end());
  std::set<std::string> taken;
  std::vector<std::string> out;
  for (const auto& name : names) {
    if (taken.insert(name).second) {
      out.push_back(name);
      continue;
    }
    const auto dot = name.rfind('.');
    const std::string stem = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
    const std::string ext = stem.size() == name.size() ? "" : name.substr(stem.size());
    for (int k = 2;; ++k) {
      std::string candidate = stem + "-" + std::to_string(k) + ext;
      if (used.count(candidate) || taken.count(candidate)) continue;
      taken.insert(candidate);
      out.push_back(std::move(candidate));
      break;
    }
  }
  return out;
}

std::string content_disposition(std::string_view kind, std::string_view filename) {
  std::string ascii;
  for (size_t i = 0; i < filename.size();) {
    const char32_t c = next_code_point(filename, i);
    const bool plain = c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
    ascii += plain ? static_cast<char>(c) : '_';
  }
  std::string out = std::string(kind) + "; filename=\"" + ascii + "\"";
  if (ascii == filename) return out;
  // RFC 5987 attr-char: ALPHA DIGIT ! # $ & + - . ^ _ ` | ~; everything else percent-encoded.
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += "; filename*=UTF-8''";
  for (unsigned char b : filename) {
    const bool attr =
        is_ascii_alnum(b) ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(b)) != std::string_view::npos;
    if (attr) {
      out += static_cast<char>(b);
    } else {
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

}  // namespace pastiche::service
