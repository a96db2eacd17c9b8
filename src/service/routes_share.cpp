// Share links: POST/DELETE /api/jobs/{id}/share (the job's owner), and what a link opens for
// anyone holding it: /s/{token} (an HTML page), /s/{token}/image and /s/{token}/thumbnail.
// The public routes set no cookie (shared caches may keep their answers) and answer a link
// that leads nowhere at once: 404 when unknown, stopped, hidden or deleted, 410 when expired.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

#include "common/error.h"
#include "image/image_io.h"
#include "service/file_names.h"
#include "service/ids.h"
#include "service/routes.h"
#include "service/share_page.h"
#include "service/shares.h"

namespace pastiche::service {

using nlohmann::json;

ShareRecord ensure_share(Context& ctx, const JobRecord& job) {
  if (job.status != JobStatus::done) {
    throw HttpError(409, "share: only a finished result can be shared");
  }
  if (auto existing = ctx.shares.get_by_job(job.id)) return *existing;
  if (ctx.shares.count_by_owner(job.owner) >= kMaxSharesPerClient) {
    throw HttpError(409, "share: you have " + std::to_string(kMaxSharesPerClient) +
                             " share links, the most one client may keep; stop sharing some "
                             "first");
  }
  return ctx.shares.create_or_get(job.id, job.owner, new_share_token(), now_ms());
}

std::string style_artists(Context& ctx, const std::string& styles, const std::string& owner) {
  std::vector<std::string> artists;
  size_t start = 0;
  while (start <= styles.size()) {
    size_t comma = std::min(styles.find(',', start), styles.size());
    auto style = ctx.styles.find(styles.substr(start, comma - start), owner, false);
    if (style && !style->artist.empty() &&
        std::find(artists.begin(), artists.end(), style->artist) == artists.end()) {
      artists.push_back(style->artist);
    }
    start = comma + 1;
  }
  std::string out;
  for (const auto& a : artists) out += (out.empty() ? "" : " & ") + a;
  return out;
}

json rating_average(const ShareRecord& share) {
  if (share.rating_count <= 0) return nullptr;
  double mean = static_cast<double>(share.rating_sum) / static_cast<double>(share.rating_count);
  return std::round(mean * 100) / 100;
}

json share_json(const std::optional<ShareRecord>& share) {
  if (!share) return nullptr;
  return {{"url", "/s/" + share->token},
          {"token", share->token},
          {"published", share->published},
          {"caption",
           share->published && !share->caption.empty() ? json(share->caption) : json(nullptr)},
          {"rating_avg", rating_average(*share)},
          {"rating_count", share->rating_count}};
}

std::map<std::string, ShareRecord> shares_of(Context& ctx, const std::vector<JobRecord>& jobs) {
  std::vector<std::string> ids;
  for (const auto& job : jobs) {
    if (job.status == JobStatus::done || job.status == JobStatus::expired) ids.push_back(job.id);
  }
  return ctx.shares.get_by_jobs(ids);
}

namespace {

// What a public link leads to: 200 with the share and its job, or 404 / 410.
struct Target {
  int status = 404;
  ShareRecord share;
  JobRecord job;
};

Target resolve(Context& ctx, const std::string& token) {
  Target t;
  if (!is_valid_share_token(token)) return t;
  auto share = ctx.shares.get_by_token(token);
  if (!share || share->hidden) return t;
  auto job = ctx.jobs.get(share->job_id);
  if (!job) return t;
  t.share = std::move(*share);
  t.job = std::move(*job);
  t.status = t.job.status == JobStatus::done ? 200 : t.job.status == JobStatus::expired ? 410 : 404;
  return t;
}

// The absolute base of the links in a page: --public-url, else the address the request used
// (its Host was checked against the served names before routing).
std::string public_base(Context& ctx, const http::Request& req) {
  std::string url = ctx.config.public_url;
  if (url.empty()) {
    std::string host = req.get_header_value("Host");
    bool plain = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
             c == '[' || c == ']';
    });
    if (!plain) host = ctx.config.host;
    bool https = ctx.config.trust_proxy && req.get_header_value("X-Forwarded-Proto") == "https";
    url = (https ? "https://" : "http://") + host;
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The public routes' own error mapping: no client identity, no cookie.
http::Handler public_route(Context& ctx,
                           std::function<void(const http::Request&, http::Response&)> f) {
  return [&ctx, f = std::move(f)](const http::Request& req, http::Response& res) {
    try {
      f(req, res);
    } catch (const DatabaseUnavailable& e) {
      ctx.log->warn("{} {}: {}", req.method, req.path, e.what());
      send_error(res, 503, "the database is unavailable; try again shortly", 5);
    } catch (const std::exception& e) {
      ctx.log->error("{} {}: {}", req.method, req.path, e.what());
      send_error(res, 500, "internal error");
    }
  };
}

void send_gone_page(http::Response& res, int status) {
  res.status = status;
  res.set_header("Cache-Control", "no-cache");
  res.set_content(render_share_gone_page(status), "text/html; charset=utf-8");
}

void handle_page(Context& ctx, const http::Request& req, http::Response& res) {
  Target t = resolve(ctx, req.matches[1]);
  if (t.status != 200) return send_gone_page(res, t.status);
  SharePageInfo page;
  page.token = t.share.token;
  page.base_url = public_base(ctx, req);
  page.style_title = t.job.style_title.empty() ? t.job.style : t.job.style_title;
  page.artist = style_artists(ctx, t.job.style, t.job.owner);
  page.published = t.share.published;
  page.caption = t.share.published ? t.share.caption : "";
  page.method = t.job.method;
  page.width = t.job.width;
  page.height = t.job.height;
  // Revalidated on every visit: a stopped link must stop showing at once.
  res.set_header("Cache-Control", "no-cache");
  res.set_content(render_share_page(page), "text/html; charset=utf-8");
}

bool etag_matches(const std::string& if_none_match, const std::string& etag) {
  size_t pos = 0;
  while (pos < if_none_match.size()) {
    size_t comma = std::min(if_none_match.find(',', pos), if_none_match.size());
    std::string item = if_none_match.substr(pos, comma - pos);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.rfind("W/", 0) == 0) item = item.substr(2);
    if (item == "*" || item == etag) return true;
    pos = comma + 1;
  }
  return false;
}

void handle_shared_image(Context& ctx, const http::Request& req, http::Response& res,
                         bool thumbnail) {
  Target t = resolve(ctx, req.matches[1]);
  if (t.status != 200) {
    return send_error(res, t.status,
                      t.status == 410 ? "the images of this picture were removed to free disk space"
                                      : "no such share link");
  }
  // A link's picture never changes (a new link is a new token): the token names the bytes.
  const std::string etag = "\"" + t.share.token + (thumbnail ? "-thumb" : "-image") + "\"";
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", "public, max-age=300");
  res.set_header("Cross-Origin-Resource-Policy", "cross-origin");  // chat apps' previews
  if (etag_matches(req.get_header_value("If-None-Match"), etag)) {
    res.status = 304;
    return;
  }
  std::optional<std::string> bytes;
  if (thumbnail) {
    bytes = ctx.images.get(thumb_key(t.job.id));
    if (!bytes) {
      if (auto result = ctx.images.get(result_key(t.job.id))) {
        bytes = make_thumbnail(decode_image(*result));
      }
    }
  } else {
    bytes = ctx.images.get(result_key(t.job.id));
  }
  if (!bytes) {
    res.headers.erase("ETag");
    res.set_header("Cache-Control", "no-cache");
    return send_error(res, 410, "the images of this picture were removed to free disk space");
  }
  const char* ext = thumbnail ? "jpg" : "png";
  res.set_header("Content-Disposition",
                 content_disposition("inline", job_download_name(t.job, ext)));
  send_bytes(res, *bytes, thumbnail ? "image/jpeg" : "image/png");
}

}  // namespace

void register_share_routes(http::Router& http, Context& ctx) {
  if (std::string problem = public_url_problem(ctx.config.public_url);
      !ctx.config.public_url.empty() && !problem.empty()) {
    throw InputError("--public-url: " + problem + " (for example https://pastiche.example)");
  }
  http.Post(R"(/api/jobs/([^/]+)/share)", wrap(ctx, [&ctx](Call& c) {
              ShareRecord share = ensure_share(ctx, load_job(ctx, c, c.req.matches[1]));
              send_json(c.res, 200,
                        {{"token", share.token},
                         {"url", "/s/" + share.token},
                         {"created_at", iso8601(share.created_ms)}});
            }));
  http.Delete(R"(/api/jobs/([^/]+)/share)", wrap(ctx, [&ctx](Call& c) {
                JobRecord job = load_job(ctx, c, c.req.matches[1]);
                auto share = ctx.shares.get_by_job(job.id);
                if (share && share->hidden) {
                  // Kept (dead: hidden) so that sharing again cannot undo the operator's hiding.
                  ctx.shares.unpublish(job.id);
                } else {
                  ctx.shares.revoke(job.id);  // its publication and votes too
                }
                c.res.status = 204;
              }));
  http.Get(R"(/s/([^/]+))",
           public_route(ctx, [&ctx](const http::Request& req, http::Response& res) {
             handle_page(ctx, req, res);
           }));
  for (bool thumbnail : {false, true}) {
    http.Get(std::string(R"(/s/([^/]+)/)") + (thumbnail ? "thumbnail" : "image"),
             public_route(ctx, [&ctx, thumbnail](const http::Request& req, http::Response& res) {
               handle_shared_image(ctx, req, res, thumbnail);
             }));
  }
}

}  // namespace pastiche::service
