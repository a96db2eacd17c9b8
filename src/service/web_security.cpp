#include "service/web_security.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>

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

// "scheme://host[:port]" of an absolute URL (Referer), or the Origin header as it is.
std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  auto path = url.find('/', scheme_end + 3);
  return url.substr(0, path);
}

// "host" of "host", "host:port", "[v6]" or "[v6]:port", lower-cased, without a trailing dot.
std::string host_name_of(const std::string& host_header) {
  std::string h = ascii_lower(host_header);
  if (!h.empty() && h[0] == '[') {
    auto close = h.find(']');
    return close == std::string::npos ? h : h.substr(0, close + 1);
  }
  auto colon = h.find(':');
  if (colon != std::string::npos) h = h.substr(0, colon);
  if (!h.empty() && h.back() == '.') h.pop_back();
  return h;
}

bool is_ip_literal(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    return inet_pton(AF_INET6, name.substr(1, name.size() - 2).c_str(), buf) == 1;
  }
  return inet_pton(AF_INET, name.c_str(), buf) == 1;
}

}  // namespace

std::vector<std::string> served_host_names(const std::string& host,
                                           const std::vector<std::string>& allowed_hosts,
                                           const std::vector<std::string>& allowed_origins) {
  std::vector<std::string> names = {"localhost"};
  char own[256] = {0};
  if (gethostname(own, sizeof own - 1) == 0 && own[0]) names.push_back(host_name_of(own));
  if (!host.empty()) names.push_back(host_name_of(host));
  for (const auto& h : allowed_hosts) names.push_back(host_name_of(h));
  for (const auto& o : allowed_origins) {
    auto scheme_end = o.find("://");
    names.push_back(host_name_of(scheme_end == std::string::npos ? o : o.substr(scheme_end + 3)));
  }
  return names;
}

std::string host_refusal(const http::Request& req, const std::vector<std::string>& served) {
  if (!req.has_header("Host")) return {};
  const std::string name = host_name_of(req.get_header_value("Host"));
  if (is_ip_literal(name)) return {};
  if (std::find(served.begin(), served.end(), name) != served.end()) return {};
  return "Host: " + printable(name, 100) +
         " is not a name of this server (allow it with serve --allowed-host)";
}

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
  origin = ascii_lower(origin);
  std::string host = ascii_lower(req.get_header_value("Host"));
  if (!host.empty() && (origin == "http://" + host || origin == "https://" + host)) return {};
  for (const auto& a : allowed) {
    if (origin == ascii_lower(a)) return {};
  }
  return std::string(header) + ": requests from " + printable(origin, 100) +
         " may not change anything here (allow it with serve --allowed-origin)";
}

}  // namespace pastiche::service
