// Fuzzer bytes -> one request to the whole service (routes, form and JSON parsing, uploads,
// style uploads, field names with arbitrary bytes), served in-process by Server::handle().
// The property: every input is answered 2xx, 3xx or 4xx; never 5xx, never a crash.
//
// Input layout: byte 0 method, byte 1 route, byte 2 body kind, then segments separated by
// "\n--\n": [0] a raw path (used by the last route choice), [1] fields as "name=value" lines,
// [2] the uploaded file's bytes, [3] extra headers as "Name: value" lines.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "service/server.h"

namespace pastiche::fuzz {

constexpr const char* kFuzzClient = "fuzz-client-token-0001";

inline std::vector<std::string> split_segments(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(sep, pos);
    out.emplace_back(
        s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + sep.size();
  }
  return out;
}

// `job_id`: an existing job of kFuzzClient, so the per-job routes reach past the lookup.
inline http::Request request_from_bytes(const uint8_t* data, size_t size,
                                        const std::string& job_id) {
  static const char* kMethods[] = {"GET", "POST", "DELETE", "HEAD", "PATCH"};
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto byte = [&](size_t i) { return i < in.size() ? static_cast<uint8_t>(in[i]) : 0; };
  auto segments = split_segments(in.size() > 3 ? in.substr(3) : std::string_view(), "\n--\n");
  segments.resize(4);
  const std::vector<std::string> routes = {"/api/jobs",
                                           "/api/styles",
                                           "/api/stylize",
                                           "/api/history",
                                           "/api/jobs/" + job_id,
                                           "/api/jobs/" + job_id + "/events",
                                           "/api/jobs/" + job_id + "/result",
                                           "/api/jobs/" + job_id + "/thumbnail",
                                           "/api/history/" + job_id,
                                           "/api/styles/tiny/thumbnail",
                                           "/api/device",
                                           "/healthz",
                                           "/metrics",
                                           "/",
                                           segments[0]};
  http::Request req;
  req.method = kMethods[byte(0) % 5];
  req.path = routes[byte(1) % routes.size()];
  req.remote_addr = "127.0.0.1";
  req.headers.emplace("Host", "localhost");
  req.headers.emplace("X-Client-Token", kFuzzClient);
  for (const auto& line : split_segments(segments[3], "\n")) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon), value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.erase(0, 1);
    req.headers.erase(name);
    req.headers.emplace(name, value);
  }
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& line : split_segments(segments[1], "\n")) {
    auto eq = line.find('=');
    if (eq != std::string::npos) fields.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  const std::string file_field = req.path == "/api/jobs" ? "content" : "image";
  switch (byte(2) % 4) {
    case 0:  // multipart/form-data: text parts and the file
      req.headers.emplace("Content-Type", "multipart/form-data; boundary=x");
      for (const auto& [k, v] : fields) req.files.emplace(k, http::FilePart{"", "", v});
      if (!segments[2].empty()) {
        req.files.emplace(file_field, http::FilePart{"upload.png", "image/png", segments[2]});
      }
      break;
    case 1: {  // a JSON object of the fields (or the raw bytes when they are not valid JSON)
      req.headers.emplace("Content-Type", "application/json");
      nlohmann::json j = nlohmann::json::object();
      for (const auto& [k, v] : fields) j[k] = v;
      req.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (!segments[2].empty()) req.body = segments[2];
      break;
    }
    case 2:  // urlencoded body, decoded into parameters like the server does
      req.headers.emplace("Content-Type", "application/x-www-form-urlencoded");
      for (const auto& [k, v] : fields) req.params.emplace(k, v);
      break;
    default:  // query parameters only
      for (const auto& [k, v] : fields) req.params.emplace(k, v);
  }
  return req;
}

// Serves the request and returns its status (the caller decides what a 5xx means).
inline int serve(service::Server& server, const uint8_t* data, size_t size,
                 const std::string& job_id) {
  return server.handle(request_from_bytes(data, size, job_id)).status;
}

}  // namespace pastiche::fuzz
