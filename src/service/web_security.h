// What the service tells browsers about itself, and which browser requests it refuses: security
// headers on every response, and a same-origin check on state-changing requests (SameSite=Lax
// cookies alone still let a page on another port of the same host post with the user's cookie).
#pragma once
#include <string>
#include <vector>

#include "http/message.h"

namespace pastiche::service {

// Content-Security-Policy (the app's own origin only, no framing), nosniff, Referrer-Policy and
// friends: added to every response that does not set them itself.
http::Headers security_headers();

// Empty when the request may change state; otherwise why not (for a 403). A request is refused
// when its Origin (or, without one, its Referer) is present and is neither the server's own
// origin (http or https with the request's Host) nor one of `allowed` (scheme://host[:port]).
// Requests without either header (curl, scripts) are not browser-driven and pass.
std::string cross_origin_refusal(const http::Request& req, const std::vector<std::string>& allowed);

// The host names this server answers to, against DNS rebinding (a page on evil.example whose
// name is made to resolve to this server would otherwise pass the same-origin check with its own
// Host): "localhost", this machine's name, `host` when it is a name, the hosts of
// `allowed_origins`, and `allowed_hosts` (names, optionally with a port, which is ignored).
// IP literals are always accepted: a rebinding page cannot make the browser send one.
std::vector<std::string> served_host_names(const std::string& host,
                                           const std::vector<std::string>& allowed_hosts,
                                           const std::vector<std::string>& allowed_origins);

// Empty when the request's Host header names this server (or is absent, as in HTTP/1.0);
// otherwise why not (for a 421).
std::string host_refusal(const http::Request& req, const std::vector<std::string>& served);

}  // namespace pastiche::service
