// The disk quota covers everything a client stores (issue 26, part 2): uploaded paintings count
// in it, beside a per-client cap of their own, and concurrent submits reserve their bytes
// atomically, so together they never store more than the quota allows. On every image backend.
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "service/style_catalog.h"
#include "service_fixture.h"
#include "store/pg_connection.h"
#include "store/pg_image_store.h"

namespace pastiche::testing {
namespace {

class QuotaTest : public BackendServerTest {
 protected:
  int uploaded_styles(Api& a) {
    const json styles = parse_json(a.get("/api/styles"));
    int n = 0;
    for (const auto& s : styles["styles"]) n += s["kind"] == "upload";
    return n;
  }
  static Reply upload(Api& a, const std::string& png) {
    return a.post("/api/styles", job_form({{"title", "Noise"}}, png, "image"));
  }
};

cv::Mat noise(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  cv::randu(m, 0, 255);  // noise: a PNG about as large as the pixels
  return m;
}

// Repro 3: 30 clients each uploaded a 1024x1024 noise painting past a 10 MB quota, all 201;
// uploads never expire, so every submit answered 507 afterwards.
TEST_P(QuotaTest, PaintingUploadsCountInTheQuotaAndDeletingOneFreesIt) {
  const cv::Mat painting = noise(160, 160);
  const std::string png = png_of(painting);
  const int64_t stored = service::StyleCatalog::encode_painting(painting).bytes();
  start([&](service::ServerConfig& c) {
    c.max_disk_bytes = 2 * stored + stored / 2;
    c.style_quota_percent = 100;  // paintings may fill it: its own test below
  });
  auto a = api(kAlice);

  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto up = upload(a, png);
    ASSERT_EQ(up.status, 201) << up.body;
    ids.push_back(parse_json(up)["id"]);
    EXPECT_EQ(stored_image_bytes(), (i + 1) * stored);
  }
  auto full = upload(a, png);
  EXPECT_EQ(full.status, 507) << full.body;
  EXPECT_NE(full.body.find("storage full"), std::string::npos) << full.body;
  EXPECT_NE(full.body.find("painting"), std::string::npos) << full.body;
  EXPECT_FALSE(full.get_header_value("Retry-After").empty());
  EXPECT_EQ(stored_image_bytes(), 2 * stored);  // nothing of it kept
  EXPECT_EQ(uploaded_styles(a), 2);

  // Deleting a painting gives its bytes back to the quota.
  EXPECT_EQ(a.del("/api/styles/" + ids[0])->status, 204);
  EXPECT_EQ(stored_image_bytes(), stored);
  EXPECT_EQ(upload(a, png).status, 201);
  EXPECT_EQ(stored_image_bytes(), 2 * stored);

  // A painting larger than what is left, from anyone: refused, and nothing of it stored.
  auto b = api(kBob);
  auto big = upload(b, png_of(noise(1024, 1024)));
  EXPECT_EQ(big.status, 507) << big.body;
  EXPECT_EQ(stored_image_bytes(), 2 * stored);
  EXPECT_EQ(uploaded_styles(b), 0);
}

// ...and after them the submits: paintings never expire, so all clients' together take at most
// half of the quota; jobs, which expire, keep the rest.
TEST_P(QuotaTest, PaintingsTakeAtMostTheirShareSoJobsAlwaysHaveRoom) {
  const cv::Mat painting = noise(320, 320);
  const std::string png = png_of(painting);
  const int64_t stored = service::StyleCatalog::encode_painting(painting).bytes();
  start([&](service::ServerConfig& c) { c.max_disk_bytes = 4 * stored + stored / 2; });
  for (const char* token : {kAlice, kBob}) {
    auto client = api(token);
    EXPECT_EQ(upload(client, png).status, 201);
  }
  auto third = api("carol-client-token-0003");
  auto refused = upload(third, png);
  EXPECT_EQ(refused.status, 507) << refused.body;
  EXPECT_NE(refused.body.find("50% of its disk quota"), std::string::npos) << refused.body;
  EXPECT_FALSE(refused.get_header_value("Retry-After").empty());
  EXPECT_EQ(stored_image_bytes(), 2 * stored);
  EXPECT_EQ(uploaded_styles(third), 0);
  // The other half is the jobs': a submit still fits.
  const std::string id = third.submit({{"style", "tiny"}}, png_of(test_photo(64, 64)));
  EXPECT_EQ(third.wait_finished(id)["status"], "done");
}

TEST_P(QuotaTest, OneClientsPaintingsHaveAByteCapOfTheirOwn) {
  const cv::Mat painting = noise(160, 160);
  const std::string png = png_of(painting);
  const int64_t stored = service::StyleCatalog::encode_painting(painting).bytes();
  start([&](service::ServerConfig& c) {
    c.max_disk_bytes = 0;  // no quota: the cap alone
    c.max_style_bytes_per_client = 2 * stored + stored / 2;
  });
  auto a = api(kAlice);
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto up = upload(a, png);
    ASSERT_EQ(up.status, 201) << up.body;
    ids.push_back(parse_json(up)["id"]);
  }
  auto capped = upload(a, png);
  EXPECT_EQ(capped.status, 409) << capped.body;
  EXPECT_NE(capped.body.find("--max-style-mb-per-client"), std::string::npos) << capped.body;
  EXPECT_EQ(uploaded_styles(a), 2);
  EXPECT_EQ(stored_image_bytes(), 2 * stored);

  auto b = api(kBob);  // another client's cap is its own
  EXPECT_EQ(upload(b, png).status, 201);
  EXPECT_EQ(a.del("/api/styles/" + ids[1])->status, 204);  // deleting frees room under the cap
  EXPECT_EQ(upload(a, png).status, 201);
  EXPECT_EQ(uploaded_styles(a), 2);
}

// Repro 4: 40 concurrent submits against a 10 MB quota stored 2.7x (PostgreSQL) and 3.6x (SQLite)
// the quota: each checked the stored bytes, none counted the others' photos nor any result yet
// to come. Now each reserves its photo and its result's bound first, in one atomic step.
TEST_P(QuotaTest, ConcurrentSubmitsNeverStoreMoreThanTheQuota) {
  constexpr int kClients = 40;
  constexpr int kSize = 384;  // a small photo, a larger result: most of a job's bytes come later
  const std::string photo = png_of(noise(96, 96));
  // One job's upper bound as the service counts it: its photo and its result (kSize px).
  const int64_t job_bound =
      static_cast<int64_t>(photo.size()) + (kSize + 1) * (kSize + 1) * 3 + 256 * 1024;
  const int64_t quota = 3 * 1024 * 1024;
  start([&](service::ServerConfig& c) {
    c.max_disk_bytes = quota;
    c.max_queue = kClients;
  });

  std::vector<int> status(kClients, 0);
  std::vector<std::string> ids(kClients);
  std::vector<std::string> tokens(kClients);
  std::mutex mutex;
  std::condition_variable go;
  bool started = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    tokens[i] = "concurrent-client-" + std::to_string(100 + i);
    threads.emplace_back([&, i] {
      Api client = api(tokens[i]);
      {
        std::unique_lock lock(mutex);
        go.wait(lock, [&] { return started; });
      }
      auto r = client.post("/api/jobs",
                           job_form({{"style", "tiny"}, {"size", std::to_string(kSize)}}, photo));
      status[i] = r.status;
      if (r.status == 202) ids[i] = parse_json(r)["id"];
    });
  }
  {
    std::lock_guard lock(mutex);
    started = true;
  }
  go.notify_all();
  for (auto& t : threads) t.join();

  int accepted = 0, refused = 0;
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(status[i] == 202 || status[i] == 507) << "client " << i << ": " << status[i];
    accepted += status[i] == 202;
    refused += status[i] == 507;
  }
  EXPECT_GE(accepted, 1);
  EXPECT_GE(refused, 1) << "the quota should not fit " << kClients << " jobs";
  for (int i = 0; i < kClients; ++i) {
    if (ids[i].empty()) continue;
    Api client = api(tokens[i]);
    EXPECT_EQ(client.wait_finished(ids[i])["status"], "done");
  }
  const int64_t after = stored_image_bytes();
  EXPECT_LE(after, quota + job_bound)
      << accepted << " accepted, " << refused << " refused; stored " << after << " bytes";
  RecordProperty("accepted", accepted);
  RecordProperty("stored_bytes", static_cast<int>(after));
}

PASTICHE_INSTANTIATE_IMAGE_BACKENDS(QuotaTest);

}  // namespace
}  // namespace pastiche::testing
