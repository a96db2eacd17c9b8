// Routes: (method, regular expression over the whole path) -> handler, tried in the order they
// were added (so a catch-all goes last). HEAD is served by the GET routes.
#pragma once
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "http/message.h"

namespace pastiche::http {

using Handler = std::function<void(const Request&, Response&)>;

class Router {
 public:
  void add(const std::string& method, const std::string& pattern, Handler handler);
  void Get(const std::string& pattern, Handler h) { add("GET", pattern, std::move(h)); }
  void Post(const std::string& pattern, Handler h) { add("POST", pattern, std::move(h)); }
  void Delete(const std::string& pattern, Handler h) { add("DELETE", pattern, std::move(h)); }

  // Runs the first matching route (filling req.matches); false when none matches.
  bool dispatch(Request& req, Response& res) const;

 private:
  struct Route {
    std::string method;
    std::regex pattern;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace pastiche::http
