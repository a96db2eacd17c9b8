// /api/styles: built-in and uploaded styles.
#include <cstdio>

#include "common/error.h"
#include "service/ids.h"
#include "service/routes.h"

namespace pastiche::service {

using nlohmann::json;

namespace {

json style_json(const StyleInfo& s, const std::string& client, const Engines& engines) {
  json methods = json::array();
  if (s.fast) methods.push_back("fast");
  if (s.gatys && (s.kind != "upload" || engines.gatys_available())) methods.push_back("gatys");
  if (s.has_painting() && engines.arbitrary_available()) methods.push_back("arbitrary");
  return {{"id", s.id},
          {"title", s.title},
          {"artist", s.artist},
          {"description", s.description},
          {"thumbnail_url", "/api/styles/" + s.id + "/thumbnail"},
          {"methods", methods},
          {"kind", s.kind},
          {"owned", s.kind == "upload" && s.owner == client},
          {"styles", s.substyles}};
}

std::string field_at_most(const FormFields& f, const std::string& name, size_t max) {
  auto it = f.find(name);
  if (it == f.end()) return {};
  if (it->second.size() > max) {
    throw InputError(name + ": at most " + std::to_string(max) + " characters");
  }
  return it->second;
}

std::string mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

// The per-client cap on uploaded paintings' bytes (409): `adding` more bytes must fit beside
// what `client` keeps already (`stored`: they are among those already).
void check_style_bytes(Context& ctx, const std::string& client, int64_t adding, bool stored) {
  const int64_t cap = ctx.config.max_style_bytes_per_client;
  if (cap <= 0) return;
  const int64_t kept = ctx.styles.uploaded_bytes(client);
  if (kept + adding <= cap) return;
  throw HttpError(409, "image: your uploaded paintings take " + mib(kept) +
                           (stored ? std::string() : " and this one " + mib(adding)) +
                           "; one client may keep " + mib(cap) +
                           " of them (--max-style-mb-per-client); delete some first");
}

// All clients' paintings together: at most config.style_quota_percent of the disk quota (507).
void check_style_share(Context& ctx, int64_t adding) {
  if (ctx.config.max_disk_bytes <= 0) return;
  const int64_t share = ctx.config.max_disk_bytes / 100 * ctx.config.style_quota_percent;
  const int64_t kept = ctx.images.bytes_under("styles/");
  if (kept + adding <= share) return;
  throw StorageFull("storage full: the paintings clients uploaded take " + mib(kept) + " of the " +
                    mib(share) + " the server keeps for them (" +
                    std::to_string(ctx.config.style_quota_percent) +
                    "% of its disk quota: they never expire); try again later");
}

}  // namespace

void register_style_routes(http::Router& http, Context& ctx) {
  http.Get("/api/styles", wrap(ctx, [&ctx](Call& c) {
             json styles = json::array();
             for (const auto& s : ctx.styles.list(c.client)) {
               styles.push_back(style_json(s, c.client, ctx.engines));
             }
             send_json(c.res, 200, {{"styles", styles}});
           }));

  http.Post("/api/styles", wrap(ctx, [&ctx](Call& c) {
              FormFields fields = form_fields(c.req, {"image"});
              for (const auto& [name, value] : fields) {
                if (name != "title" && name != "artist" && name != "description") {
                  throw InputError(name.substr(0, 40) + ": unknown field");
                }
              }
              std::string title = field_at_most(fields, "title", 200);
              std::string artist = field_at_most(fields, "artist", 200);
              std::string description = field_at_most(fields, "description", 2000);
              if (ctx.jobs.list_styles(c.client).size() >=
                  static_cast<size_t>(ctx.config.max_styles_per_client)) {
                throw HttpError(409, "image: you have " +
                                         std::to_string(ctx.config.max_styles_per_client) +
                                         " uploaded styles, the most one client may keep; "
                                         "delete some first");
              }
              auto bytes = upload_bytes(c.req, "image", ctx.config.max_upload_bytes);
              cv::Mat image = decode_upload(bytes, ctx.config, "image", 0);
              auto painting = StyleCatalog::encode_painting(image);
              check_style_bytes(ctx, c.client, painting.bytes(), false);
              check_style_share(ctx, painting.bytes());
              const std::string id = new_id();
              // Uploads never expire: the quota refuses one that does not fit, as it refuses a
              // job; reserved until its images are stored (they count themselves then).
              auto reservation = ctx.quota.reserve(id, painting.bytes(), "this painting");
              auto style =
                  ctx.styles.add_upload(id, c.client, painting, title, artist, description);
              reservation.release();
              try {
                // Uploads at once all passed the checks: those that went past a cap give way.
                check_style_bytes(ctx, c.client, 0, true);
                check_style_share(ctx, 0);
              } catch (...) {
                ctx.styles.remove_upload(style.id);
                throw;
              }
              ctx.log->info("style {} uploaded ({}x{}, {} bytes)", style.id, image.cols, image.rows,
                            painting.bytes());
              send_json(c.res, 201, style_json(style, c.client, ctx.engines));
            }));

  http.Delete(R"(/api/styles/([^/]+))", wrap(ctx, [&ctx](Call& c) {
                auto style = ctx.styles.find(c.req.matches[1], c.client, c.admin);
                if (!style) throw HttpError(404, "no such style");
                if (style->kind != "upload")
                  throw HttpError(403, "built-in styles cannot be deleted");
                ctx.styles.remove_upload(style->id);
                c.res.status = 204;
              }));

  http.Get(R"(/api/styles/([^/]+)/thumbnail)", wrap(ctx, [&ctx](Call& c) {
             auto style = ctx.styles.find(c.req.matches[1], c.client, c.admin);
             if (!style) throw HttpError(404, "no such style");
             c.res.set_header("Cache-Control", "private, max-age=3600");
             send_bytes(c.res, ctx.styles.thumbnail_jpeg(*style), "image/jpeg");
           }));
}

}  // namespace pastiche::service
