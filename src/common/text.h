// Text that crosses a trust boundary: UTF-8 validation and JSON serialisation that cannot throw.
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

// A style or model name: 1-64 of [A-Za-z0-9_.-], not starting with '.' (safe as a file stem).
bool is_valid_style_name(std::string_view s);

// JSON text of `j`; invalid UTF-8 in any string becomes U+FFFD instead of an exception (stored
// data written before validation existed must never take the process down).
std::string safe_dump(const nlohmann::json& j);

}  // namespace pastiche
