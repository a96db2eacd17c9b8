// The gallery: owners publish a finished result (its share link) with a caption, anyone browses
// /api/gallery, clients other than the owner rate a work 1-5 stars (one vote each, changeable),
// and an operator may hide a work. Publishing and voting are rate-limited per client.
#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/text.h"
#include "service/ids.h"
#include "service/routes.h"
#include "service/shares.h"

namespace pastiche::service {

using nlohmann::json;

namespace {

constexpr size_t kMaxCaptionChars = 140;

// The JSON object of a request body; {} when there is none.
json body_object(const http::Request& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError("body: expected a JSON object");
  return j;
}

size_t utf8_chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// {"caption": "..."}: plain text of one line, at most kMaxCaptionChars after trimming spaces.
std::string parse_caption(const http::Request& req) {
  json body = body_object(req);
  if (!body.contains("caption") || body["caption"].is_null()) return {};
  if (!body["caption"].is_string()) throw InputError("caption: must be text");
  std::string caption = body["caption"].get<std::string>();
  caption.erase(0, caption.find_first_not_of(' '));
  caption.erase(caption.find_last_not_of(' ') + 1);
  if (!is_valid_utf8(caption)) throw InputError("caption: not valid UTF-8 text");
  if (std::string problem = text_problem(caption, false); !problem.empty()) {
    throw InputError("caption: " + problem + " (one line of plain text)");
  }
  if (size_t n = utf8_chars(caption); n > kMaxCaptionChars) {
    throw InputError("caption: at most " + std::to_string(kMaxCaptionChars) +
                     " characters (this one has " + std::to_string(n) + ")");
  }
  return caption;
}

int parse_stars(const http::Request& req) {
  json body = body_object(req);
  const json& stars = body.contains("stars") ? body["stars"] : json();
  if (!stars.is_number_integer() || stars.get<int64_t>() < 1 || stars.get<int64_t>() > 5) {
    throw InputError("stars: must be a whole number from 1 to 5");
  }
  return stars.get<int>();
}

void limit(RateLimiter& limiter, const std::string& client, const std::string& what) {
  double retry = 0;
  if (!limiter.allow(client, &retry)) {
    throw HttpError(429, what + "; try again later", std::max(1.0, retry));
  }
}

// A work others may see and rate: published, not hidden, its job done. 404 otherwise.
ShareRecord visible_work(Context& ctx, const std::string& token) {
  if (is_valid_share_token(token)) {
    auto share = ctx.shares.get_by_token(token);
    if (share && share->published && !share->hidden) {
      auto job = ctx.jobs.get(share->job_id);
      if (job && job->status == JobStatus::done) return *share;
    }
  }
  throw HttpError(404, "no such work in the gallery");
}

void handle_publish(Context& ctx, Call& c) {
  JobRecord job = load_job(ctx, c, c.req.matches[1]);
  if (job.status != JobStatus::done) {
    throw HttpError(409, "publish: only a finished result can be published");
  }
  const std::string caption = parse_caption(c.req);
  limit(ctx.publish_limiter, c.client, "publish: at most 20 publishes per client an hour");
  ShareRecord share = ensure_share(ctx, job);
  ctx.shares.publish(job.id, caption, now_ms());
  send_json(c.res, 200, share_json(ctx.shares.get_by_token(share.token)));
}

int bounded(const http::Request& req, const char* name, int def, int lo, int hi) {
  if (!req.has_param(name)) return def;
  const std::string v = req.get_param_value(name);
  try {
    size_t used = 0;
    long n = std::stol(v, &used);
    if (used == v.size() && n >= lo && n <= hi) return static_cast<int>(n);
  } catch (const std::exception&) {
  }
  throw InputError(std::string(name) + ": must be a whole number from " + std::to_string(lo) +
                   " to " + std::to_string(hi));
}

void handle_gallery(Context& ctx, Call& c) {
  std::string sort = c.req.has_param("sort") ? c.req.get_param_value("sort") : "newest";
  if (sort != "newest" && sort != "top") throw InputError("sort: must be newest or top");
  const int limit = bounded(c.req, "limit", 24, 1, 60);
  const int offset = bounded(c.req, "offset", 0, 0, 1'000'000);
  GalleryPage page = ctx.shares.gallery(sort == "top" ? GallerySort::top : GallerySort::newest,
                                        limit, offset, c.client);
  json works = json::array();
  for (const auto& w : page.works) {
    const std::string url = "/s/" + w.share.token;
    works.push_back({{"token", w.share.token},
                     {"url", url},
                     {"image_url", url + "/image"},
                     {"thumbnail_url", url + "/thumbnail"},
                     {"caption", w.share.caption.empty() ? json(nullptr) : json(w.share.caption)},
                     {"style_title", w.style_title},
                     {"artist", style_artists(ctx, w.style, w.share.owner)},
                     {"method", w.method},
                     {"width", w.width},
                     {"height", w.height},
                     {"published_at", iso8601(w.share.published_ms)},
                     {"rating_avg", rating_average(w.share)},
                     {"rating_count", w.share.rating_count},
                     {"my_rating", w.my_rating > 0 ? json(w.my_rating) : json(nullptr)},
                     {"mine", w.share.owner == c.client}});
  }
  c.res.set_header("Cache-Control", "private, no-cache");  // my_rating and mine are the caller's
  send_json(c.res, 200,
            {{"works", works},
             {"total", page.total},
             {"limit", limit},
             {"offset", offset},
             {"sort", sort}});
}

void handle_rate(Context& ctx, Call& c) {
  ShareRecord share = visible_work(ctx, c.req.matches[1]);
  if (share.owner == c.client) throw HttpError(403, "rating: you cannot rate your own work");
  const int stars = parse_stars(c.req);
  limit(ctx.rating_limiter, c.client, "rating: at most 60 votes per client an hour");
  if (!ctx.shares.rate(share.token, c.client, stars, now_ms())) {
    throw HttpError(404, "no such work in the gallery");
  }
  auto now = ctx.shares.get_by_token(share.token);
  if (!now) throw HttpError(404, "no such work in the gallery");
  send_json(c.res, 200,
            {{"rating_avg", rating_average(*now)},
             {"rating_count", now->rating_count},
             {"my_rating", stars}});
}

void handle_hide(Context& ctx, Call& c, bool hidden) {
  if (!c.admin) throw HttpError(403, "X-Admin-Key: required to hide or show gallery works");
  const std::string token = c.req.matches[1];
  if (!is_valid_share_token(token) || !ctx.shares.set_hidden(token, hidden)) {
    throw HttpError(404, "no such work");
  }
  ctx.log->info("gallery work {} {}", token, hidden ? "hidden" : "shown again");
  c.res.status = 204;
}

}  // namespace

void register_gallery_routes(http::Router& http, Context& ctx) {
  http.Post(R"(/api/jobs/([^/]+)/publish)", wrap(ctx, [&ctx](Call& c) { handle_publish(ctx, c); }));
  http.Delete(R"(/api/jobs/([^/]+)/publish)", wrap(ctx, [&ctx](Call& c) {
                JobRecord job = load_job(ctx, c, c.req.matches[1]);
                ctx.shares.unpublish(job.id);  // the link stays
                c.res.status = 204;
              }));
  http.Get("/api/gallery", wrap(ctx, [&ctx](Call& c) { handle_gallery(ctx, c); }));
  http.add("PUT", R"(/api/gallery/([^/]+)/rating)",
           wrap(ctx, [&ctx](Call& c) { handle_rate(ctx, c); }));
  http.Delete(R"(/api/gallery/([^/]+)/rating)", wrap(ctx, [&ctx](Call& c) {
                ShareRecord share = visible_work(ctx, c.req.matches[1]);
                ctx.shares.unrate(share.token, c.client);
                c.res.status = 204;
              }));
  http.Post(R"(/api/admin/gallery/([^/]+)/hide)",
            wrap(ctx, [&ctx](Call& c) { handle_hide(ctx, c, true); }));
  http.Post(R"(/api/admin/gallery/([^/]+)/unhide)",
            wrap(ctx, [&ctx](Call& c) { handle_hide(ctx, c, false); }));
}

}  // namespace pastiche::service
