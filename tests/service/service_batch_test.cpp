// Batches and download names over HTTP, on every backend: POST /api/batches (all or nothing:
// one bad photo, too many photos or a cap refuses the whole batch, and nothing is left behind),
// GET /api/batches/{id}, the zip of its results (read back with libzip), the names photos keep
// (content_name, download_name, Content-Disposition, content_job).
#include <gtest/gtest.h>
#include <zip.h>

#include <string>
#include <utility>
#include <vector>

#include "service_fixture.h"

namespace pastiche::testing {
namespace {

using Photos = std::vector<std::pair<std::string, std::string>>;  // file name, bytes

Reply post_batch(Api& a, const std::vector<std::pair<std::string, std::string>>& fields,
                 const Photos& photos) {
  httplib::MultipartFormDataItems items;
  for (const auto& [k, v] : fields) items.push_back({k, v, "", ""});
  for (const auto& [name, bytes] : photos) items.push_back({"content", bytes, name, "image/png"});
  return a.post("/api/batches", items);
}

const std::vector<std::pair<std::string, std::string>> kFast = {
    {"style", "tiny"}, {"method", "fast"}, {"size", "64"}};
const std::vector<std::pair<std::string, std::string>> kLongGatys = {
    {"style", "stripes"}, {"method", "gatys"}, {"size", "64"}, {"steps", "2000"}, {"scales", "1"}};

// The entries of a zip archive: name, bytes and whether each is stored uncompressed.
struct ZipEntry {
  std::string name, bytes;
  bool stored = false;
};
std::vector<ZipEntry> read_zip(const std::string& archive) {
  std::vector<ZipEntry> out;
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(archive.data(), archive.size(), 0, &error);
  zip_t* z = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error) : nullptr;
  if (!z) {
    ADD_FAILURE() << "not a zip archive: " << zip_error_strerror(&error);
    if (src) zip_source_free(src);
    return out;
  }
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st);
    ZipEntry e{st.name, std::string(static_cast<size_t>(st.size), '\0'),
               st.comp_method == ZIP_CM_STORE};
    zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0);
    EXPECT_EQ(zip_fread(f, e.bytes.data(), e.bytes.size()), static_cast<zip_int64_t>(st.size));
    zip_fclose(f);
    out.push_back(std::move(e));
  }
  zip_discard(z);  // frees the source too
  return out;
}

class BatchTest : public BackendServerTest {
 protected:
  int64_t history_total(Api& a) { return parse_json(a.get("/api/history"))["total"]; }
};

TEST_P(BatchTest, ThreePhotosBecomeThreeJobsInOrderAndAZipOfTheirResults) {
  start();
  auto a = api(kAlice);
  const std::string photo = png_of(test_photo(80, 60));
  auto r =
      post_batch(a, kFast, {{"chicago.jpg", photo}, {"lake.png", photo}, {"chicago.png", photo}});
  ASSERT_EQ(r.status, 202) << r.body;
  const json created = parse_json(r);
  const std::string batch = created["id"];
  EXPECT_EQ(r.get_header_value("Location"), "/api/batches/" + batch);
  ASSERT_EQ(created["jobs"].size(), 3u);
  std::vector<std::string> ids;
  const std::vector<std::string> names = {"chicago", "lake", "chicago"};
  for (size_t i = 0; i < 3; ++i) {
    const json& job = created["jobs"][i];
    EXPECT_EQ(job["batch"], batch);
    EXPECT_EQ(job["content_name"], names[i]);
    EXPECT_EQ(job["status"], "queued");
    ids.push_back(job["id"]);
  }
  const std::string style = "tiny-0";  // the test model's title, "Tiny 0"
  EXPECT_EQ(created["jobs"][0]["style_title"], "Tiny 0");
  EXPECT_EQ(created["jobs"][1]["download_name"], "lake-" + style + ".png");

  auto got = parse_json(a.get("/api/batches/" + batch));
  EXPECT_EQ(got["id"], batch);
  EXPECT_EQ(got["total"], 3);
  EXPECT_TRUE(got["created_at"].is_string());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(got["jobs"][i]["id"], ids[i]);
  // History rows carry the batch.
  auto history = parse_json(a.get("/api/history"));
  ASSERT_EQ(history["total"], 3);
  for (const auto& item : history["items"]) EXPECT_EQ(item["batch"], batch);

  for (const auto& id : ids) ASSERT_EQ(a.wait_finished(id)["status"], "done");
  got = parse_json(a.get("/api/batches/" + batch));
  EXPECT_EQ(got["done"], 3);

  auto zip = a.get("/api/batches/" + batch + "/zip");
  ASSERT_EQ(zip.status, 200) << zip.body;
  EXPECT_EQ(zip.get_header_value("Content-Type"), "application/zip");
  EXPECT_EQ(zip.get_header_value("Content-Disposition"),
            "attachment; filename=\"pastiche-" + style + "-3-photos.zip\"");
  const auto entries = read_zip(zip.body);
  ASSERT_EQ(entries.size(), 3u);
  const std::vector<std::string> expected = {"chicago-" + style + ".png", "lake-" + style + ".png",
                                             "chicago-" + style + "-2.png"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(entries[i].name, expected[i]);
    EXPECT_TRUE(entries[i].stored) << entries[i].name;
    const cv::Mat image = decode_image(entries[i].bytes);
    EXPECT_EQ(image.cols, 64);
    EXPECT_EQ(image.rows, 48);
    auto result = a.get("/api/jobs/" + ids[i] + "/result");
    EXPECT_EQ(entries[i].bytes, result.body) << "entry " << i << " is job " << i << "'s result";
  }
}

TEST_P(BatchTest, TheZipAnswers409BeforeAnyResultAndOtherClientsSeeNoBatch) {
  start();
  auto a = api(kAlice);
  auto r =
      post_batch(a, kLongGatys,
                 {{"a.png", png_of(test_photo(64, 64))}, {"b.png", png_of(test_photo(64, 64))}});
  ASSERT_EQ(r.status, 202) << r.body;
  const json created = parse_json(r);
  const std::string batch = created["id"];
  auto zip = a.get("/api/batches/" + batch + "/zip");
  EXPECT_EQ(zip.status, 409) << zip.body;
  EXPECT_NE(parse_json(zip)["error"].get<std::string>().find("no result is ready yet"),
            std::string::npos);

  auto b = api(kBob);
  EXPECT_EQ(b.get("/api/batches/" + batch).status, 404);
  EXPECT_EQ(b.get("/api/batches/" + batch + "/zip").status, 404);
  EXPECT_EQ(a.get("/api/batches/not-an-id").status, 404);
  EXPECT_EQ(a.get("/api/batches/" + std::string(32, '0')).status, 404);
  for (const auto& job : created["jobs"]) a.del("/api/jobs/" + job["id"].get<std::string>());
}

TEST_P(BatchTest, OneBadPhotoRefusesTheBatchNamingItAndLeavesNothing) {
  start();
  auto a = api(kAlice);
  const std::string good = png_of(test_photo(80, 60));
  auto r = post_batch(a, kFast,
                      {{"a.png", good}, {"holiday.jpg", "not an image at all"}, {"c.png", good}});
  EXPECT_EQ(r.status, 415) << r.body;  // an unknown type, as for one photo
  json error = parse_json(r);
  EXPECT_EQ(error["error"].get<std::string>().rfind("content[2] (holiday.jpg): ", 0), 0u) << r.body;
  EXPECT_EQ(error["field"], "content");

  // Found only once the first photo is stored (its shape needs a larger size): that is removed.
  r = post_batch(a, kFast, {{"a.png", good}, {"tall.png", png_of(test_photo(16, 160))}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(parse_json(r)["error"].get<std::string>().rfind("content[2] (tall.png): size: ", 0), 0u)
      << r.body;
  EXPECT_EQ(history_total(a), 0);
  EXPECT_EQ(stored_image_bytes(), 0);
}

TEST_P(BatchTest, MorePhotosThanMaxBatchAreRefusedNamingTheLimit) {
  start();
  auto a = api(kAlice);
  EXPECT_EQ(parse_json(a.get("/api/device"))["limits"]["max_batch"], 10);
  Photos eleven(11, {"p.png", png_of(test_photo(32, 32))});
  auto r = post_batch(a, kFast, eleven);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("at most 10 photos"), std::string::npos) << r.body;
  EXPECT_EQ(post_batch(a, kFast, {}).status, 400);
  EXPECT_EQ(history_total(a), 0);
  // content_job and init_job belong to single jobs.
  r = post_batch(a, {{"style", "tiny"}, {"content_job", std::string(32, 'a')}},
                 {{"p.png", png_of(test_photo(32, 32))}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(parse_json(r)["error"].get<std::string>().rfind("content_job: ", 0), 0u);
}

TEST_P(BatchTest, ClientAndQueueCapsCountTheWholeBatch) {
  start([](service::ServerConfig& c) {
    c.max_jobs_per_client = {{"gatys", 2}};
    c.max_queue = 3;
  });
  auto a = api(kAlice);
  const std::string photo = png_of(test_photo(64, 64));
  auto r = post_batch(a, kLongGatys, {{"a.png", photo}, {"b.png", photo}, {"c.png", photo}});
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(parse_json(r)["error"].get<std::string>().rfind("client job cap: ", 0), 0u) << r.body;
  EXPECT_FALSE(r.get_header_value("Retry-After").empty());
  EXPECT_EQ(history_total(a), 0);
  EXPECT_EQ(stored_image_bytes(), 0);

  // The queue bound: 4 photos where 3 fit.
  auto b = api(kBob);
  r = post_batch(b, kFast, Photos(4, {"p.png", photo}));
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("room for 3 more jobs, not the 4"), std::string::npos) << r.body;
  EXPECT_EQ(history_total(b), 0);

  // Two fit the cap.
  r = post_batch(a, kLongGatys, {{"a.png", photo}, {"b.png", photo}});
  ASSERT_EQ(r.status, 202) << r.body;
  for (const auto& job : parse_json(r)["jobs"]) a.del("/api/jobs/" + job["id"].get<std::string>());
}

TEST_P(BatchTest, ResultsDownloadUnderThePhotosNameAndContentJobKeepsIt) {
  start();
  auto a = api(kAlice);
  auto r = a.post("/api/jobs", {{"style", "tiny", "", ""},
                                {"method", "fast", "", ""},
                                {"size", "64", "", ""},
                                {"content", png_of(test_photo(80, 60)),
                                 "C:\\My Photos\\Chicago "
                                 "Skyline.jpg",
                                 "image/jpeg"}});
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = parse_json(r)["id"];
  json job = a.wait_finished(id);
  ASSERT_EQ(job["status"], "done");
  EXPECT_EQ(job["content_name"], "Chicago-Skyline");
  EXPECT_EQ(job["download_name"], "chicago-skyline-tiny-0.png");
  EXPECT_TRUE(job["batch"].is_null());

  auto png = a.get("/api/jobs/" + id + "/result?download=1");
  ASSERT_EQ(png.status, 200);
  EXPECT_EQ(png.get_header_value("Content-Disposition"),
            "attachment; filename=\"chicago-skyline-tiny-0.png\"");
  auto jpeg = a.get("/api/jobs/" + id + "/result?download=1&format=jpeg");
  EXPECT_EQ(jpeg.get_header_value("Content-Disposition"),
            "attachment; filename=\"chicago-skyline-tiny-0.jpg\"");
  EXPECT_EQ(a.get("/api/jobs/" + id + "/result").get_header_value("Content-Disposition"), "");

  // The same photo in another style keeps its name.
  auto again =
      a.http.Post("/api/jobs", client_headers(a.token),
                  json({{"content_job", id}, {"style", "tiny"}, {"method", "fast"}}).dump(),
                  "application/json");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 202) << again->body;
  const json second = a.job(json::parse(again->body)["id"].get<std::string>());
  EXPECT_EQ(second["content_name"], "Chicago-Skyline");
  EXPECT_EQ(second["download_name"].get<std::string>().rfind("chicago-skyline-", 0), 0u);

  // A photo sent without a file name has none: the download falls back to the style.
  r = a.post("/api/jobs", {{"style", "tiny", "", ""},
                           {"method", "fast", "", ""},
                           {"content", png_of(test_photo(80, 60)), "", "image/png"}});
  ASSERT_EQ(r.status, 202) << r.body;
  const json unnamed = a.job(parse_json(r)["id"].get<std::string>());
  EXPECT_TRUE(unnamed["content_name"].is_null());
  EXPECT_EQ(unnamed["download_name"], "pastiche-tiny-0.png");
}

PASTICHE_INSTANTIATE_IMAGE_BACKENDS(BatchTest);

}  // namespace
}  // namespace pastiche::testing
