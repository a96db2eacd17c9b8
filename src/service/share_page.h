// The public page behind a share link (/s/<token>): an HTML document rendered by the server, with
// no script (the CSP allows none inline), readable on a phone and in dark mode, and the Open Graph
// and Twitter card tags chat apps read for a preview. Every value from users (titles, artists,
// captions) is HTML-escaped here. Pure functions: no I/O.
#pragma once
#include <string>
#include <string_view>

namespace pastiche::service {

struct SharePageInfo {
  std::string token;        // checked by the caller: [A-Za-z0-9_-] only
  std::string base_url;     // absolute, without a trailing '/': "https://pastiche.example"
  std::string style_title;  // the painting(s), "A + B" for a blend
  std::string artist;       // "" when unknown
  std::string caption;      // "" when none or not published
  std::string method;       // "fast" | "gatys" | "arbitrary"
  int width = 0, height = 0;
  bool published = false;  // in the gallery: linked to it, and open to search engines
};

std::string html_escape(std::string_view text);
std::string render_share_page(const SharePageInfo& page);
// The page for a link that leads nowhere: 404 (unknown, stopped, deleted, hidden) or 410 (the
// picture's images were removed to free disk space).
std::string render_share_gone_page(int status);

// Why `url` cannot be --public-url, or "" when it can: http(s)://host[:port][/path], no query,
// fragment, credentials or characters that would need escaping.
std::string public_url_problem(std::string_view url);

}  // namespace pastiche::service
