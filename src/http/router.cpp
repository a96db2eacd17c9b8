#include "http/router.h"

namespace pastiche::http {

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
  routes_.push_back({method, std::regex(pattern), std::move(handler)});
}

bool Router::dispatch(Request& req, Response& res) const {
  const std::string& method = req.method == "HEAD" ? std::string("GET") : req.method;
  for (const auto& route : routes_) {
    if (route.method != method) continue;
    std::smatch m;
    if (!std::regex_match(req.path, m, route.pattern)) continue;
    req.matches.clear();
    for (const auto& group : m) req.matches.push_back(group.str());
    route.handler(req, res);
    return true;
  }
  return false;
}

}  // namespace pastiche::http
