// Text that crosses a trust boundary: UTF-8 validation and JSON serialisation that cannot throw;
// and ASCII case folding that no locale changes.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace pastiche {

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s);

// A short, printable rendering of untrusted text for an error message: invalid bytes and control
// characters become '?', and it is cut to `max_chars` bytes (with an ellipsis).
std::string printable(std::string_view s, size_t max_chars = 40);

// Why `s` (valid UTF-8) is not acceptable as text a user typed, or "" when it is: control
// characters (C0, DEL, C1) other than tab and line breaks where `allow_lines`, and the bidi
// controls that make text display in another order than it is stored (U+202A-U+202E,
// U+2066-U+2069): echoed back, they forge what other people read.
std::string text_problem(std::string_view s, bool allow_lines);

// A style or model name: 1-64 of [A-Za-z0-9_.-], not starting with '.' (safe as a file stem).
bool is_valid_style_name(std::string_view s);

// `s` with A-Z lower-cased and every other byte unchanged: for extensions, hashes, host names and
// format names, which are ASCII, whatever the process locale.
std::string ascii_lower(std::string s);

// JSON text of `j`; invalid UTF-8 in any string becomes U+FFFD instead of an exception (stored
// data written before validation existed must never take the process down).
std::string safe_dump(const nlohmann::json& j);

}  // namespace pastiche
