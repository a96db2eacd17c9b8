// Share links over HTTP on both job stores: unguessable tokens, one link per job, only for the
// owner's finished results; the public page (Open Graph tags, escaping, no cookie) and image
// (caching, 304); a stopped link, a deleted job and hidden work answer 404 at once, expired
// images 410; --public-url.
#include <regex>

#include "service_fixture.h"
#include "share_test_helpers.h"
#include "store/pg_job_store.h"
#include "store/sqlite_job_store.h"

namespace pastiche::testing {
namespace {

class ShareRoutes : public ShareTest {};

TEST_P(ShareRoutes, LinksAreUnguessableOnePerJobAndOnlyTheOwnersFinishedResults) {
  start();
  auto alice = api(kAlice), bob = api(kBob);
  const std::string id = done_job(alice), other = done_job(alice);

  auto made = post_json(alice, "/api/jobs/" + id + "/share", json::object());
  ASSERT_EQ(made->status, 200) << made->body;
  auto share = parse_json(made);
  const std::string token = share["token"];
  EXPECT_TRUE(std::regex_match(token, std::regex("[A-Za-z0-9_-]{22,}"))) << token;
  EXPECT_EQ(share["url"], "/s/" + token);
  EXPECT_TRUE(share["created_at"].is_string());
  EXPECT_EQ(token.find(id.substr(0, 8)), std::string::npos);  // not derived from the job id
  EXPECT_EQ(parse_json(post_json(alice, "/api/jobs/" + id + "/share", {}))["token"], token);
  const std::string second = share_token(alice, other);
  EXPECT_NE(second, token);
  EXPECT_EQ(second.size(), token.size());

  // Another client can neither share nor stop sharing it, nor see that it exists.
  EXPECT_EQ(post_json(bob, "/api/jobs/" + id + "/share", {})->status, 404);
  EXPECT_EQ(bob.del("/api/jobs/" + id + "/share")->status, 404);
  EXPECT_EQ(visit("/s/" + token)->status, 200);

  // The job's views carry the link: GET /api/jobs/{id} and history rows.
  auto view = alice.job(id)["share"];
  EXPECT_EQ(view["token"], token);
  EXPECT_EQ(view["url"], "/s/" + token);
  EXPECT_FALSE(view["published"].get<bool>());
  EXPECT_TRUE(view["caption"].is_null());
  EXPECT_TRUE(view["rating_avg"].is_null());
  EXPECT_EQ(view["rating_count"], 0);
  auto history = parse_json(alice.get("/api/history"))["items"];
  ASSERT_EQ(history.size(), 2u);
  for (const auto& row : history) EXPECT_TRUE(row["share"].is_object()) << row.dump();
  const std::string unshared = done_job(alice);
  EXPECT_TRUE(alice.job(unshared)["share"].is_null());

  // Only a finished result: a queued or running job is refused.
  const std::string running = submit_long_gatys(alice);
  auto early = post_json(alice, "/api/jobs/" + running + "/share", {});
  EXPECT_EQ(early->status, 409);
  EXPECT_EQ(parse_json(early)["error"], "share: only a finished result can be shared");
  EXPECT_TRUE(alice.job(running)["share"].is_null());
  alice.del("/api/jobs/" + running);
}

TEST_P(ShareRoutes, PageHasOpenGraphTagsWithAbsoluteUrlsAndTheImageIsCached) {
  start();
  auto alice = api(kAlice);
  const std::string id = done_job(alice);
  const std::string token = share_token(alice, id);
  const std::string base = "http://127.0.0.1:" + std::to_string(server->port());

  auto page = visit("/s/" + token);
  ASSERT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page->get_header_value("Set-Cookie"), "");  // shared caches may keep it
  const std::string& html = page->body;
  for (const std::string& tag :
       {meta_tag("property", "og:image", base + "/s/" + token + "/image"),
        meta_tag("property", "og:url", base + "/s/" + token),
        meta_tag("property", "og:image:width", "64"), meta_tag("property", "og:image:height", "48"),
        meta_tag("property", "og:image:type", "image/png"),
        meta_tag("property", "og:type", "website"),
        meta_tag("name", "twitter:card", "summary_large_image"),
        meta_tag("name", "twitter:image", base + "/s/" + token + "/image")}) {
    EXPECT_NE(html.find(tag), std::string::npos) << tag << "\n" << html;
  }
  for (const char* part : {"<html lang=\"en\">", "<main>", "<h1>", "property=\"og:title\"",
                           "name=\"twitter:title\"", "<title>", "prefers-color-scheme:dark",
                           "name=\"viewport\"", "Tiny 0", "Test", "Fast style transfer",
                           "href=\"/\">Make your own</a>", "name=\"robots\" content=\"noindex\""}) {
    EXPECT_NE(html.find(part), std::string::npos) << part;
  }
  EXPECT_NE(html.find("<img src=\"/s/" + token + "/image\" width=\"64\" height=\"48\" alt=\"A "),
            std::string::npos);
  EXPECT_EQ(html.find("/gallery"), std::string::npos);  // not published
  EXPECT_EQ(html.find("<script"), std::string::npos);

  auto image = visit("/s/" + token + "/image");
  ASSERT_EQ(image->status, 200);
  EXPECT_EQ(image->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(image->get_header_value("Cache-Control"), "public, max-age=300");
  EXPECT_EQ(image->get_header_value("Cross-Origin-Resource-Policy"), "cross-origin");
  EXPECT_EQ(image->get_header_value("Content-Disposition").rfind("inline; filename=\"", 0), 0u);
  EXPECT_EQ(image->body, alice.get("/api/jobs/" + id + "/result")->body);
  const std::string etag = image->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = visit("/s/" + token + "/image", {{"If-None-Match", etag}});
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  EXPECT_EQ(visit("/s/" + token + "/image", {{"If-None-Match", "\"other\""}})->status, 200);
  auto thumb = visit("/s/" + token + "/thumbnail");
  ASSERT_EQ(thumb->status, 200);
  EXPECT_EQ(thumb->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_NE(thumb->get_header_value("ETag"), etag);
  auto thumb_again =
      visit("/s/" + token + "/thumbnail", {{"If-None-Match", thumb->get_header_value("ETag")}});
  EXPECT_EQ(thumb_again->status, 304);
}

TEST_P(ShareRoutes, StoppedLinksDeletedJobsAnswer404AtOnceAndExpiredImages410) {
  start();
  auto alice = api(kAlice);
  const std::string id = done_job(alice);
  const std::string token = share_token(alice, id);
  const std::string etag = visit("/s/" + token + "/image")->get_header_value("ETag");

  ASSERT_EQ(alice.del("/api/jobs/" + id + "/share")->status, 204);
  auto page = visit("/s/" + token);
  EXPECT_EQ(page->status, 404);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<h1>"), std::string::npos);
  EXPECT_EQ(visit("/s/" + token + "/image")->status, 404);
  EXPECT_EQ(visit("/s/" + token + "/image", {{"If-None-Match", etag}})->status, 404);
  EXPECT_EQ(visit("/s/" + token + "/thumbnail")->status, 404);
  EXPECT_TRUE(alice.job(id)["share"].is_null());
  const std::string renewed = share_token(alice, id);
  EXPECT_NE(renewed, token);  // a new link; the old one stays dead
  EXPECT_EQ(visit("/s/" + token)->status, 404);

  ASSERT_EQ(alice.del("/api/history/" + id)->status, 204);
  EXPECT_EQ(visit("/s/" + renewed)->status, 404);
  EXPECT_EQ(visit("/s/" + renewed + "/image")->status, 404);
  EXPECT_EQ(visit("/s/not-a-token")->status, 404);
  EXPECT_EQ(visit("/s/" + std::string(22, 'A'))->status, 404);

  // The disk quota expired the job (its row stays, its images are gone): 410.
  const std::string old = done_job(alice);
  const std::string expired = share_token(alice, old);
  mark_expired(old);
  EXPECT_EQ(visit("/s/" + expired)->status, 410);
  EXPECT_NE(visit("/s/" + expired)->body.find("no longer available"), std::string::npos);
  EXPECT_EQ(visit("/s/" + expired + "/image")->status, 410);
  EXPECT_EQ(alice.job(old)["share"]["token"], expired);  // the owner still sees the link
}

TEST_P(ShareRoutes, PublicUrlMakesTheAbsoluteLinksAndIsValidated) {
  start([](service::ServerConfig& c) { c.public_url = "https://pastiche.example/"; });
  auto alice = api(kAlice);
  const std::string token = share_token(alice, done_job(alice));
  auto html = visit("/s/" + token)->body;
  EXPECT_NE(
      html.find(meta_tag("property", "og:image", "https://pastiche.example/s/" + token + "/image")),
      std::string::npos)
      << html;
  EXPECT_NE(html.find(meta_tag("property", "og:url", "https://pastiche.example/s/" + token)),
            std::string::npos);
  server.reset();
  for (const char* bad : {"ftp://pastiche.example", "https://", "https://user@host",
                          "https://pastiche.example/?q=1", "https://a.example/<x>"}) {
    auto config = files.config();
    if (pg) config.database = pg->url();
    config.public_url = bad;
    EXPECT_THROW(service::Server{config}, std::exception) << bad;
  }
}

PASTICHE_INSTANTIATE_BACKENDS(ShareRoutes);

}  // namespace
}  // namespace pastiche::testing
