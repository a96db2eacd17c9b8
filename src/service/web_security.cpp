#include "service/web_security.h"

#include <algorithm>
#include <cctype>

#include "common/text.h"

namespace pastiche::service {

http::Headers security_headers() {
  return {
      // Blob and data URLs: the UI previews chosen files before upload. Inline styles: Svelte
      // sets style attributes for layout (progress bars, the comparison slider).
      {"Content-Security-Policy",
       "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
  };
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "scheme://host[:port]" of an absolute URL (Referer), or the Origin header as it is.
std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  auto path = url.find('/', scheme_end + 3);
  return url.substr(0, path);
}

}  // namespace

std::string cross_origin_refusal(const http::Request& req,
                                 const std::vector<std::string>& allowed) {
  std::string origin;
  const char* header = "Origin";
  if (req.has_header("Origin")) {
    origin = req.get_header_value("Origin");
  } else if (req.has_header("Referer")) {
    origin = origin_of(req.get_header_value("Referer"));
    header = "Referer";
  } else {
    return {};
  }
  origin = lower(origin);
  std::string host = lower(req.get_header_value("Host"));
  if (!host.empty() && (origin == "http://" + host || origin == "https://" + host)) return {};
  for (const auto& a : allowed) {
    if (origin == lower(a)) return {};
  }
  return std::string(header) + ": requests from " + printable(origin, 100) +
         " may not change anything here (allow it with serve --allowed-origin)";
}

}  // namespace pastiche::service
