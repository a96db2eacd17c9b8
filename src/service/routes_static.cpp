// The web UI: static files from the web directory with an index.html fallback for client-side
// routes. Paths are resolved inside the directory only.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "service/routes.h"

namespace pastiche::service {

namespace fs = std::filesystem;

namespace {

const char* content_type(const std::string& ext) {
  static const std::map<std::string, const char*> types = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".wasm", "application/wasm"}};
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  return true;
}

constexpr const char* kNotBuilt = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pastiche</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Pastiche</h1>
<p>The service is running, but the web UI is not built. Build it with
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> (or pass <code>--web-dir</code>).</p>
<p>The API is available: see <a href="/api/openapi.json">/api/openapi.json</a>,
<a href="/api/styles">/api/styles</a> and <a href="/healthz">/healthz</a>.</p>
</body></html>
)";

}  // namespace

void register_static_routes(http::Router& http, Context& ctx) {
  http.Get(R"(/.*)", [&ctx](const http::Request& req, http::Response& res) {
    if (req.path.rfind("/api/", 0) == 0 || req.path == "/api") {
      send_error(res, 404, "no such endpoint: GET " + req.path.substr(0, 100));
      return;
    }
    if (ctx.web_dir.empty()) {
      if (req.path == "/" || req.path == "/index.html") {
        res.set_content(kNotBuilt, "text/html; charset=utf-8");
      } else {
        send_error(res, 404, "not found (the web UI is not built)");
      }
      return;
    }
    fs::path root(ctx.web_dir);
    fs::path rel = fs::path(req.path).relative_path().lexically_normal();
    bool safe = !rel.empty() && *rel.begin() != "..";
    for (const auto& part : rel) {
      if (part == ".." || part.string().rfind('.', 0) == 0) safe = false;
    }
    std::string body;
    if (safe) {
      fs::path file = root / rel;
      std::error_code ec;
      if (fs::is_regular_file(file, ec) && read_file(file, body)) {
        bool hashed = rel.begin() != rel.end() && *rel.begin() == "assets";
        res.set_header("Cache-Control",
                       hashed ? "public, max-age=31536000, immutable" : "no-cache");
        res.set_content(body, content_type(file.extension().string()));
        return;
      }
      if (rel.has_extension()) {  // a missing asset, not a client-side route
        send_error(res, 404, "not found");
        return;
      }
    }
    if (read_file(root / "index.html", body)) {
      res.set_header("Cache-Control", "no-cache");
      res.set_content(body, "text/html; charset=utf-8");
    } else {
      res.set_content(kNotBuilt, "text/html; charset=utf-8");
    }
  });
}

}  // namespace pastiche::service
