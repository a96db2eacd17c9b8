// The gallery over HTTP on both job stores: publishing (captions and their limits), browsing
// (pages, both orders, mine and my_rating), votes (1-5, one per client, changeable, never one's
// own, only on visible works), an operator hiding a work, stopping sharing or deleting the job,
// and the per-client rate limits.
#include "share_test_helpers.h"

namespace pastiche::testing {
namespace {

class GalleryRoutes : public ShareTest {
 protected:
  json gallery(Api& a, const std::string& query = "") {
    auto r = a.get("/api/gallery" + query);
    EXPECT_EQ(r->status, 200) << r->body;
    return parse_json(r);
  }
  std::vector<std::string> tokens(const json& page) {
    std::vector<std::string> out;
    for (const auto& w : page["works"]) out.push_back(w["token"]);
    return out;
  }
  Reply publish(Api& a, const std::string& id, const json& caption) {
    return post_json(a, "/api/jobs/" + id + "/publish", {{"caption", caption}});
  }
  std::string published(Api& a, const std::string& caption) {
    const std::string id = done_job(a);
    auto r = publish(a, id, caption);
    EXPECT_EQ(r->status, 200) << r->body;
    return parse_json(r)["token"];
  }
  Reply rate(Api& a, const std::string& token, const json& stars) {
    return put_json(a, "/api/gallery/" + token + "/rating", {{"stars", stars}});
  }
  static std::string field_of(const Reply& r) {
    auto j = json::parse(r->body, nullptr, false);
    return j.is_object() ? j.value("field", "") + "|" + j.value("error", "") : r->body;
  }
};

TEST_P(GalleryRoutes, PublishedWorksArePagedInBothOrdersAndRatedOncePerClient) {
  start();
  auto alice = api(kAlice), bob = api(kBob), carol = api(kCarol);
  const std::string first_job = done_job(alice);
  // Publishing makes the share link when there is none, and answers with the share object.
  auto made = publish(alice, first_job, "  The first one  ");
  ASSERT_EQ(made->status, 200) << made->body;
  auto share = parse_json(made);
  EXPECT_TRUE(share["published"].get<bool>());
  EXPECT_EQ(share["caption"], "The first one");  // trimmed
  const std::string t1 = share["token"];
  EXPECT_EQ(share["url"], "/s/" + t1);
  const std::string t2 = published(alice, "Second");
  const std::string t3 = published(bob, "Bob's");

  auto page = gallery(carol);
  EXPECT_EQ(page["total"], 3);
  EXPECT_EQ(page["sort"], "newest");
  EXPECT_EQ(page["limit"], 24);
  EXPECT_EQ(tokens(page), (std::vector<std::string>{t3, t2, t1}));
  const auto& w = page["works"][2];
  EXPECT_EQ(w["url"], "/s/" + t1);
  EXPECT_EQ(w["image_url"], "/s/" + t1 + "/image");
  EXPECT_EQ(w["thumbnail_url"], "/s/" + t1 + "/thumbnail");
  EXPECT_EQ(w["caption"], "The first one");
  EXPECT_EQ(w["style_title"], "Tiny 0");
  EXPECT_EQ(w["artist"], "Test");
  EXPECT_EQ(w["method"], "fast");
  EXPECT_EQ(w["width"], 64);
  EXPECT_EQ(w["height"], 48);
  EXPECT_TRUE(w["published_at"].is_string());
  EXPECT_TRUE(w["rating_avg"].is_null());
  EXPECT_TRUE(w["my_rating"].is_null());
  EXPECT_FALSE(w["mine"].get<bool>());
  EXPECT_TRUE(gallery(alice)["works"][2]["mine"].get<bool>());
  EXPECT_EQ(tokens(gallery(carol, "?limit=2")), (std::vector<std::string>{t3, t2}));
  auto last = gallery(carol, "?limit=2&offset=2");
  EXPECT_EQ(tokens(last), (std::vector<std::string>{t1}));
  EXPECT_EQ(last["total"], 3);
  EXPECT_EQ(last["offset"], 2);
  for (const char* bad : {"?limit=0", "?limit=61", "?offset=-1", "?sort=best", "?limit=x"}) {
    EXPECT_EQ(carol.get(std::string("/api/gallery") + bad)->status, 400) << bad;
  }

  // Votes: 1-5 only, one per client (a second changes it), never on one's own work.
  for (const json& bad : {json(0), json(6), json("4"), json(3.5), json(nullptr)}) {
    auto r = rate(carol, t1, bad);
    EXPECT_EQ(r->status, 400) << bad.dump();
    EXPECT_EQ(field_of(r).rfind("stars|stars: ", 0), 0u) << r->body;
  }
  auto own = rate(alice, t1, 5);
  EXPECT_EQ(own->status, 403);
  EXPECT_EQ(parse_json(own)["error"], "rating: you cannot rate your own work");
  auto v = parse_json(rate(bob, t1, 2));
  EXPECT_EQ(v["rating_count"], 1);
  EXPECT_EQ(v["my_rating"], 2);
  v = parse_json(rate(bob, t1, 5));
  EXPECT_EQ(v["rating_count"], 1);
  EXPECT_EQ(v["rating_avg"], 5.0);
  v = parse_json(rate(carol, t1, 4));
  EXPECT_EQ(v["rating_count"], 2);
  EXPECT_EQ(v["rating_avg"], 4.5);
  EXPECT_EQ(parse_json(rate(carol, t3, 1))["rating_avg"], 1.0);
  // top: t1 (4.5 from 2 votes: 18/5), t2 (no votes: 3), t3 (1 from 1 vote: 10/4).
  auto top = gallery(carol, "?sort=top");
  EXPECT_EQ(tokens(top), (std::vector<std::string>{t1, t2, t3}));
  EXPECT_EQ(top["sort"], "top");
  EXPECT_EQ(top["works"][0]["my_rating"], 4);
  EXPECT_TRUE(top["works"][1]["my_rating"].is_null());
  auto view = alice.job(first_job)["share"];
  EXPECT_EQ(view["rating_count"], 2);
  EXPECT_EQ(view["rating_avg"], 4.5);
  EXPECT_EQ(view["caption"], "The first one");

  EXPECT_EQ(carol.del("/api/gallery/" + t1 + "/rating")->status, 204);
  EXPECT_EQ(parse_json(rate(bob, t1, 5))["rating_count"], 1);
  EXPECT_EQ(rate(carol, std::string(22, 'A'), 3)->status, 404);  // no such work

  // Unpublished: out of the gallery and not to be rated, the link still works.
  ASSERT_EQ(alice.del("/api/jobs/" + first_job + "/publish")->status, 204);
  EXPECT_EQ(tokens(gallery(carol)), (std::vector<std::string>{t3, t2}));
  EXPECT_EQ(rate(carol, t1, 3)->status, 404);
  EXPECT_EQ(carol.del("/api/gallery/" + t1 + "/rating")->status, 404);
  EXPECT_EQ(visit("/s/" + t1)->status, 200);
  EXPECT_FALSE(alice.job(first_job)["share"]["published"].get<bool>());
  // Published again, its votes are back; the page links to the gallery then.
  ASSERT_EQ(publish(alice, first_job, nullptr)->status, 200);
  EXPECT_EQ(parse_json(rate(carol, t1, 3))["rating_count"], 2);
  EXPECT_NE(visit("/s/" + t1)->body.find("href=\"/gallery\""), std::string::npos);
  // Stopping sharing unpublishes; deleting the job removes it.
  ASSERT_EQ(alice.del("/api/jobs/" + first_job + "/share")->status, 204);
  EXPECT_EQ(gallery(carol)["total"], 2);
  EXPECT_EQ(rate(carol, t1, 3)->status, 404);
  share_token(alice, first_job);  // a new link, not published
  EXPECT_FALSE(alice.job(first_job)["share"]["published"].get<bool>());
  EXPECT_EQ(gallery(carol)["total"], 2);
  auto bobs = parse_json(bob.get("/api/history"))["items"][0]["id"].get<std::string>();
  ASSERT_EQ(bob.del("/api/history/" + bobs)->status, 204);
  EXPECT_EQ(tokens(gallery(carol)), (std::vector<std::string>{t2}));
  EXPECT_EQ(rate(carol, t3, 2)->status, 404);
}

TEST_P(GalleryRoutes, CaptionsArePlainShortTextAndOthersCannotPublishYourWork) {
  start();
  auto alice = api(kAlice), bob = api(kBob);
  const std::string id = done_job(alice);
  auto too_long = publish(alice, id, std::string(141, 'a'));
  EXPECT_EQ(too_long->status, 400);
  EXPECT_EQ(field_of(too_long).rfind("caption|caption: at most 140 characters", 0), 0u)
      << too_long->body;
  for (const char* bad : {"two\nlines", "bell\x07", "tab\there",
                          "\xe2\x80\xae"
                          "reversed"}) {
    auto r = publish(alice, id, bad);
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(field_of(r).rfind("caption|caption: ", 0), 0u) << r->body;
  }
  EXPECT_EQ(publish(alice, id, 42)->status, 400);
  EXPECT_EQ(post_json(alice, "/api/jobs/" + id + "/publish", json::array())->status, 400);
  EXPECT_TRUE(alice.job(id)["share"].is_null());  // nothing refused was half-done
  std::string accents;
  for (int i = 0; i < 140; ++i) accents += "\xc3\xa9";  // 140 characters, 280 bytes
  auto ok = publish(alice, id, accents);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(parse_json(ok)["caption"], accents);
  auto updated = publish(alice, id, "A <b>bold</b> & \"quoted\" <script>alert('x')</script>");
  ASSERT_EQ(updated->status, 200);
  const std::string token = parse_json(updated)["token"];
  auto html = visit("/s/" + token)->body;
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("A &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; "
                      "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
            std::string::npos)
      << html;
  EXPECT_EQ(gallery(bob)["total"], 1);

  EXPECT_EQ(publish(bob, id, "mine now")->status, 404);
  EXPECT_EQ(bob.del("/api/jobs/" + id + "/publish")->status, 404);
  EXPECT_EQ(parse_json(alice.get("/api/gallery"))["works"][0]["caption"],
            "A <b>bold</b> & \"quoted\" <script>alert('x')</script>");  // JSON keeps the text
}

TEST_P(GalleryRoutes, PaintingTitlesAndArtistsFromUsersAreEscapedInThePage) {
  start();
  auto alice = api(kAlice);
  auto up = alice.post("/api/styles", job_form({{"title", "<script>alert(\"t\")</script>"},
                                                {"artist", "Tom & \"Jerry\" <i>"}},
                                               png_of(synthetic_style_image(48, 48)), "image"));
  ASSERT_EQ(up->status, 201) << up->body;
  const std::string style = parse_json(up)["id"];
  const std::string id = alice.submit(
      {{"style", style}, {"method", "gatys"}, {"size", "64"}, {"steps", "2"}, {"scales", "1"}},
      png_of(test_photo(64, 64)));
  ASSERT_EQ(alice.wait_finished(id)["status"], "done");
  const std::string token = parse_json(publish(alice, id, nullptr))["token"];
  auto html = visit("/s/" + token)->body;
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("<i>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("Tom &amp; &quot;Jerry&quot; &lt;i&gt;"), std::string::npos);
  auto work = gallery(alice)["works"][0];
  EXPECT_EQ(work["artist"], "Tom & \"Jerry\" <i>");
  EXPECT_EQ(work["method"], "gatys");
}

TEST_P(GalleryRoutes, AnOperatorHidesAWork) {
  const std::string key = "admin-key-for-tests-0001";
  start([&](service::ServerConfig& c) { c.admin_key = key; });
  auto alice = api(kAlice), bob = api(kBob);
  const std::string token = published(alice, "hide me");
  auto hide = [&](const std::string& what, const httplib::Headers& headers) {
    return Reply(bob.http.Post(("/api/admin/gallery/" + token + "/" + what).c_str(), headers, "",
                               "application/json"));
  };
  EXPECT_EQ(hide("hide", client_headers(kBob))->status, 403);
  EXPECT_EQ(hide("hide", {{"X-Admin-Key", "wrong"}})->status, 403);
  EXPECT_EQ(gallery(bob)["total"], 1);
  EXPECT_EQ(hide("hide", {{"X-Admin-Key", key}})->status, 204);
  EXPECT_EQ(gallery(bob)["total"], 0);
  EXPECT_EQ(visit("/s/" + token)->status, 404);
  EXPECT_EQ(visit("/s/" + token + "/image")->status, 404);
  EXPECT_EQ(rate(bob, token, 4)->status, 404);
  EXPECT_EQ(Reply(bob.http.Post("/api/admin/gallery/AAAAAAAAAAAAAAAAAAAAAA/hide",
                                {{"X-Admin-Key", key}}, "", "application/json"))
                .status,
            404);
  EXPECT_EQ(hide("unhide", {{"X-Admin-Key", key}})->status, 204);
  EXPECT_EQ(gallery(bob)["total"], 1);
  EXPECT_EQ(visit("/s/" + token)->status, 200);

  // Stopping sharing and sharing again does not undo the hiding: the same dead link comes back.
  EXPECT_EQ(hide("hide", {{"X-Admin-Key", key}})->status, 204);
  const std::string id = parse_json(alice.get("/api/history"))["items"][0]["id"];
  ASSERT_EQ(alice.del("/api/jobs/" + id + "/share")->status, 204);
  EXPECT_EQ(share_token(alice, id), token);
  ASSERT_EQ(publish(alice, id, "again")->status, 200);
  EXPECT_EQ(gallery(bob)["total"], 0);
  EXPECT_EQ(visit("/s/" + token)->status, 404);
}

TEST_P(GalleryRoutes, AClientKeepsAtMost200ShareLinks) {
  start();
  auto alice = api(kAlice);
  const std::string shared = done_job(alice), other = done_job(alice);
  const std::string token = share_token(alice, shared);
  add_shares(kAlice, 199);  // with the one above: 200
  auto refused = post_json(alice, "/api/jobs/" + other + "/share", json::object());
  EXPECT_EQ(refused->status, 409);
  EXPECT_EQ(parse_json(refused)["error"].get<std::string>().rfind("share: you have 200 share", 0),
            0u)
      << refused->body;
  EXPECT_EQ(publish(alice, other, "x")->status, 409);
  EXPECT_EQ(share_token(alice, shared), token);  // an existing link is still answered
  ASSERT_EQ(alice.del("/api/jobs/" + shared + "/share")->status, 204);
  EXPECT_EQ(post_json(alice, "/api/jobs/" + other + "/share", json::object())->status, 200);
}

TEST_P(GalleryRoutes, PublishesAndVotesAreRateLimitedPerClient) {
  start();
  auto alice = api(kAlice), bob = api(kBob), carol = api(kCarol);
  const std::string id = done_job(alice);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(publish(alice, id, "take " + std::to_string(i))->status, 200) << i;
  }
  auto refused = publish(alice, id, "one too many");
  EXPECT_EQ(refused->status, 429);
  EXPECT_FALSE(refused->get_header_value("Retry-After").empty());
  EXPECT_EQ(parse_json(refused)["error"].get<std::string>().rfind("publish: ", 0), 0u);
  EXPECT_EQ(alice.job(id)["share"]["caption"], "take 19");

  const std::string token = alice.job(id)["share"]["token"];
  for (int i = 0; i < 60; ++i) ASSERT_EQ(rate(bob, token, 1 + i % 5)->status, 200) << i;
  auto too_many = rate(bob, token, 5);
  EXPECT_EQ(too_many->status, 429);
  EXPECT_FALSE(too_many->get_header_value("Retry-After").empty());
  EXPECT_EQ(parse_json(too_many)["error"].get<std::string>().rfind("rating: ", 0), 0u);
  EXPECT_EQ(rate(carol, token, 5)->status, 200);  // per client
  EXPECT_EQ(alice.job(id)["share"]["rating_count"], 2);
}

PASTICHE_INSTANTIATE_BACKENDS(GalleryRoutes);

}  // namespace
}  // namespace pastiche::testing
