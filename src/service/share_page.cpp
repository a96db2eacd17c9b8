#include "service/share_page.h"

#include <cctype>

namespace pastiche::service {

namespace {

// The web UI's paper-and-ink palette (web/src/app.css), light and dark; every text colour at
// least 4.5:1 on its background.
constexpr const char* kStyle = R"css(
:root{color-scheme:light dark;--bg:#f6f2ea;--fg:#1f1c18;--muted:#4d463d;--card:#fffdf9;
--line:#e2d9c9;--accent:#a84b25;--on-accent:#fffaf4;--focus:#1f6fd1;
--serif:'Iowan Old Style','Palatino Linotype',Palatino,'URW Palladio L',P052,Georgia,serif}
@media (prefers-color-scheme:dark){:root{--bg:#141418;--fg:#f1ece4;--muted:#c9c1b5;
--card:#1e1e25;--line:#32323b;--accent:#e98a5c;--on-accent:#1a1210;--focus:#8ab8ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header,main,footer{max-width:60rem;margin:0 auto;padding:1rem}
header a{color:var(--fg);font:700 1.3rem/1.2 var(--serif);text-decoration:none}
h1{font:700 1.6rem/1.25 var(--serif);margin:.25rem 0 1rem;overflow-wrap:anywhere}
figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:14px;
padding:.5rem}
img{display:block;max-width:100%;height:auto;margin:0 auto;border-radius:9px}
figcaption{padding:.75rem .25rem .25rem;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:1rem 0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
a{color:var(--accent)}
a:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.actions{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:1.5rem 0}
.button{display:inline-block;background:var(--accent);color:var(--on-accent);font-weight:600;
padding:.75rem 1.25rem;border-radius:999px;text-decoration:none}
footer{color:var(--muted);font-size:.9rem;border-top:1px solid var(--line)}
@media (min-width:48rem){h1{font-size:2.2rem}}
)css";

std::string method_name(const std::string& method) {
  if (method == "fast") return "Fast style transfer";
  if (method == "gatys") return "Neural style optimisation (Gatys)";
  if (method == "arbitrary") return "Arbitrary style transfer";
  return method;
}

std::string document(const std::string& head, const std::string& main) {
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"color-scheme\" content=\"light dark\">\n" +
         head + "<style>" + kStyle + "</style>\n</head>\n<body>\n" +
         "<header><a href=\"/\">Pastiche</a></header>\n<main>\n" + main +
         "</main>\n<footer><p>Photos painted in the style of famous paintings with "
         "Pastiche.</p></footer>\n</body>\n</html>\n";
}

std::string meta(const char* attribute, const char* name, const std::string& value) {
  return std::string("<meta ") + attribute + "=\"" + name + "\" content=\"" + html_escape(value) +
         "\">\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_share_page(const SharePageInfo& p) {
  const std::string url = p.base_url + "/s/" + p.token;
  const std::string image = url + "/image";
  const std::string after = p.artist.empty() ? p.style_title : p.style_title + " by " + p.artist;
  const std::string heading =
      p.caption.empty() ? "A photo painted in the style of " + p.style_title : p.caption;
  const std::string description = "A photo painted in the style of " + after + " with Pastiche.";
  const std::string alt = "A photo painted in the style of " + after;

  std::string head = "<title>" + html_escape(heading) + " · Pastiche</title>\n";
  head += meta("name", "description", description);
  // Unpublished links are unlisted: whoever has one may look, search engines should not.
  if (!p.published) head += meta("name", "robots", "noindex");
  head += meta("property", "og:type", "website");
  head += meta("property", "og:site_name", "Pastiche");
  head += meta("property", "og:title", heading);
  head += meta("property", "og:description", description);
  head += meta("property", "og:url", url);
  head += meta("property", "og:image", image);
  head += meta("property", "og:image:type", "image/png");
  head += meta("property", "og:image:width", std::to_string(p.width));
  head += meta("property", "og:image:height", std::to_string(p.height));
  head += meta("property", "og:image:alt", alt);
  head += meta("name", "twitter:card", "summary_large_image");
  head += meta("name", "twitter:title", heading);
  head += meta("name", "twitter:description", description);
  head += meta("name", "twitter:image", image);
  head += "<link rel=\"canonical\" href=\"" + html_escape(url) + "\">\n";

  std::string main = "<h1>" + html_escape(heading) + "</h1>\n<figure>\n<img src=\"/s/" +
                     html_escape(p.token) + "/image\" width=\"" + std::to_string(p.width) +
                     "\" height=\"" + std::to_string(p.height) + "\" alt=\"" + html_escape(alt) +
                     "\">\n";
  if (!p.caption.empty()) {
    main += "<figcaption>" + html_escape(p.caption) + "</figcaption>\n";
  }
  main += "</figure>\n<dl>\n<dt>Painting</dt><dd>" + html_escape(p.style_title) + "</dd>\n";
  if (!p.artist.empty()) main += "<dt>Artist</dt><dd>" + html_escape(p.artist) + "</dd>\n";
  main += "<dt>Method</dt><dd>" + html_escape(method_name(p.method)) + "</dd>\n</dl>\n";
  main += "<p class=\"actions\"><a class=\"button\" href=\"/\">Make your own</a>";
  if (p.published) main += " <a href=\"/gallery\">More works in the gallery</a>";
  main += "</p>\n";
  return document(head, main);
}

std::string render_share_gone_page(int status) {
  const bool expired = status == 410;
  const std::string heading =
      expired ? "This picture is no longer available" : "This share link does not work";
  const std::string text =
      expired ? "The server removed the picture's images to free disk space."
              : "Its owner may have stopped sharing it or deleted it, or the address is "
                "mistyped.";
  std::string head = "<title>" + heading + " · Pastiche</title>\n";
  head += meta("name", "robots", "noindex");
  return document(head, "<h1>" + heading + "</h1>\n<p>" + text +
                            "</p>\n<p class=\"actions\"><a class=\"button\" href=\"/\">Paint "
                            "your own photo</a></p>\n");
}

std::string public_url_problem(std::string_view url) {
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return "must start with http:// or https://";
  }
  const size_t slash = rest.find('/');
  const std::string_view host = rest.substr(0, slash);
  if (host.empty()) return "has no host name";
  for (char c : host) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                    c == ':' || c == '[' || c == ']';
    if (!ok) return "the host may hold only letters, digits, '.', '-', ':' and [] (no user@)";
  }
  if (slash == std::string_view::npos) return {};
  for (char c : rest.substr(slash)) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' ||
                    c == '-' || c == '_' || c == '~';
    if (!ok) return "the path may hold only letters, digits and / . - _ ~ (no query or fragment)";
  }
  return {};
}

}  // namespace pastiche::service
