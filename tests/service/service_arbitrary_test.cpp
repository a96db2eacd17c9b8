// method=arbitrary through the HTTP API: any painting (built-in or uploaded) in one pass.
#include <gtest/gtest.h>

#include <cstdlib>

#include "arbitrary/arbitrary_trainer.h"
#include "service_fixture.h"

namespace pastiche::testing {
namespace {

using nlohmann::json;

constexpr const char* kArbitraryToken = "arbitrary-test-client-1";

// A server whose VGG has block 3 and a decoder trained briefly on it, offered through
// PASTICHE_ARBITRARY_MODEL (how an operator points the service at a decoder).
class ArbitraryApi : public ServerTest {
 protected:
  std::string vgg =
      write_synthetic_vgg(files.dir.file("vgg3.safetensors"), WeightConvention::caffe, 3, 21);
  void SetUp() override {
    const auto photos = files.dir.file("photos");
    std::filesystem::create_directories(photos);
    save_image(synthetic_content_image(48, 48), photos + "/a.png");
    ArbitraryTrainOptions o;
    o.datasets = {photos};
    o.output = files.dir.file("decoder.safetensors");
    o.vgg = vgg;
    o.size = 32;
    o.batch = 1;
    o.width = 8;
    o.iterations = 2;
    train_arbitrary_decoder(o);
    setenv("PASTICHE_ARBITRARY_MODEL", o.output.c_str(), 1);
    start([this](service::ServerConfig& c) { c.vgg_path = vgg; });
  }
  void TearDown() override { unsetenv("PASTICHE_ARBITRARY_MODEL"); }
};

TEST_F(ArbitraryApi, BuiltInAndUploadedPaintingsRunInOnePass) {
  auto a = api(kArbitraryToken);
  auto device = parse_json(a.get("/api/device"));
  EXPECT_TRUE(device["methods"]["arbitrary"].get<bool>()) << device.dump();
  EXPECT_TRUE(device["arbitrary_unavailable_reason"].is_null());
  // The painting of the styles directory offers it; the image-less fast model does not.
  for (const auto& s : parse_json(a.get("/api/styles"))["styles"]) {
    const bool has =
        std::find(s["methods"].begin(), s["methods"].end(), "arbitrary") != s["methods"].end();
    EXPECT_EQ(has, s["id"] == "stripes") << s.dump();
  }
  const auto photo = png_of(test_photo(80, 60));
  auto built_in =
      a.submit({{"style", "stripes"}, {"method", "arbitrary"}, {"strength", "0.7"}}, photo);
  auto done = a.wait_finished(built_in);
  ASSERT_EQ(done["status"], "done") << done.dump();
  EXPECT_EQ(done["method"], "arbitrary");
  EXPECT_EQ(done["params"]["strength"], 0.7);
  EXPECT_EQ(done["width"], 80);  // the photo's own size by default
  auto result = a.get("/api/jobs/" + built_in + "/result");
  ASSERT_EQ(result->status, 200);
  EXPECT_EQ(decode_image(result->body).cols, 80);

  auto up = a.post("/api/styles", job_form({{"title", "Never trained on"}},
                                           png_of(synthetic_style_image(40, 56)), "image"));
  ASSERT_EQ(up->status, 201) << up->body;
  auto style = json::parse(up->body);
  EXPECT_EQ(style["methods"], json::array({"gatys", "arbitrary"}));
  auto mixed = a.submit({{"style", "stripes," + style["id"].get<std::string>()},
                         {"method", "arbitrary"},
                         {"style_mix", "stripes=0.3," + style["id"].get<std::string>() + "=0.7"},
                         {"size", "64"}},
                        photo);
  auto mixed_done = a.wait_finished(mixed);
  ASSERT_EQ(mixed_done["status"], "done") << mixed_done.dump();
  EXPECT_EQ(mixed_done["width"], 64);
}

// "Refine with best quality": an optimisation that starts from the instant result (init_job).
TEST_F(ArbitraryApi, AGatysJobRefinesAnInstantResult) {
  auto a = api(kArbitraryToken);
  const auto photo = png_of(test_photo(80, 60));
  auto instant = a.submit({{"style", "stripes"}, {"method", "arbitrary"}, {"size", "64"}}, photo);
  ASSERT_EQ(a.wait_finished(instant)["status"], "done");

  auto refined = a.submit({{"style", "stripes"},
                           {"method", "gatys"},
                           {"init_job", instant},
                           {"size", "64"},
                           {"steps", "4"}},
                          photo);
  auto done = a.wait_finished(refined);
  ASSERT_EQ(done["status"], "done") << done.dump();
  EXPECT_EQ(done["params"]["init"], "image");
  EXPECT_EQ(done["params"]["init_job"], instant);
  // The picture it started from is the job's own copy: deleting the instant job loses nothing.
  EXPECT_EQ(a.del("/api/history/" + instant)->status, 204);
  auto again = a.submit({{"style", "stripes"},
                         {"method", "gatys"},
                         {"init_job", refined},
                         {"size", "64"},
                         {"steps", "2"}},
                        photo);
  EXPECT_EQ(a.wait_finished(again)["status"], "done");

  auto refused = [&](const std::vector<std::pair<std::string, std::string>>& fields,
                     const std::string& body, int status) {
    auto r = a.post("/api/jobs", job_form(fields, body));
    EXPECT_EQ(r->status, status) << r->body;
    return json::parse(r->body).value("error", "");
  };
  // Another shape of photo would be stretched; a deleted job, or another visitor's, is not found.
  EXPECT_EQ(refused({{"style", "stripes"}, {"method", "gatys"}, {"init_job", refined}},
                    png_of(test_photo(60, 60)), 400)
                .rfind("init_job: its result is 64x48, not the shape of this photo (60x60)", 0),
            0u);
  EXPECT_EQ(refused({{"style", "stripes"}, {"method", "gatys"}, {"init_job", instant}}, photo, 404),
            "init_job: no such job");
  auto other = api("arbitrary-test-client-2");
  auto r = other.post(
      "/api/jobs",
      job_form({{"style", "stripes"}, {"method", "gatys"}, {"init_job", refined}}, photo));
  EXPECT_EQ(r->status, 404) << r->body;
}

TEST_F(ArbitraryApi, RefusesWhatTheMethodCannotDo) {
  auto a = api(kArbitraryToken);
  const auto photo = png_of(test_photo());
  auto error = [&](const std::vector<std::pair<std::string, std::string>>& fields) {
    auto r = a.post("/api/jobs", job_form(fields, photo));
    EXPECT_EQ(r->status, 400) << r->body;
    return json::parse(r->body).value("error", "");
  };
  EXPECT_EQ(error({{"style", "tiny"}, {"method", "arbitrary"}}),
            "style: 'tiny' has no painting image for the arbitrary method; use method fast");
  EXPECT_EQ(error({{"style", "stripes"}, {"method", "arbitrary"}, {"steps", "10"}}),
            "steps: applies to method gatys only (this is an arbitrary job)");
  EXPECT_EQ(error({{"style", "stripes"}, {"method", "arbitrary"}, {"stroke_scale", "2"}}),
            "stroke_scale: applies to method fast only (this is an arbitrary job)");
  EXPECT_EQ(error({{"style", "stripes"}, {"method", "arbitrary"}, {"style_size", "9999"}})
                .rfind("style_size:", 0),
            0u);
}

}  // namespace
}  // namespace pastiche::testing
