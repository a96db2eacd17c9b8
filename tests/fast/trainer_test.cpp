#include "fast/trainer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/fixtures.h"
#include "fast/model_file.h"
#include "image/image_io.h"

namespace pastiche {
namespace {

using testing::TempDir;

// Tiny photos, a tiny painting and synthetic VGG weights (blocks 1-2).
struct TinySetup {
  TempDir dir;
  std::string vgg, style, photos;
  TinySetup() {
    vgg = testing::write_synthetic_vgg(dir.file("vgg.safetensors"), WeightConvention::torchvision,
                                       2, 5);
    style = dir.file("stripes.png");
    save_image(testing::synthetic_style_image(48, 48), style);
    photos = dir.file("photos");
    std::filesystem::create_directories(photos + "/nested");
    save_image(testing::synthetic_content_image(48, 40), photos + "/a.png");
    save_image(testing::synthetic_content_image(40, 56), photos + "/b.jpg");
    cv::Mat c = testing::synthetic_content_image(44, 44);
    cv::flip(c, c, 0);
    save_image(c, photos + "/nested/c.png");
  }
  TrainOptions options(const std::string& output) const {
    TrainOptions o;
    o.styles = {StyleSpec{style, "", "Stripes", "Nobody", "Red and blue stripes. Thin lines."}};
    o.dataset = photos;
    o.output = output;
    o.vgg = vgg;
    o.size = 32;
    o.batch = 2;
    o.width = 4;
    o.res_blocks = 1;
    o.learning_rate = 2e-2;
    o.style_weight = 10;
    o.tv_weight = 0;
    o.log_every = 1;
    o.preview_size = 40;
    o.checkpoint_every = 0;
    return o;
  }
};

std::vector<nlohmann::json> read_log(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// Every parameter of the two model files agrees within float tolerance.
void expect_same_weights(const std::string& a_path, const std::string& b_path, double atol) {
  auto a = load_fast_model(a_path);
  auto b = load_fast_model(b_path);
  auto pb = b.net()->named_parameters();
  for (const auto& p : a.net()->named_parameters())
    EXPECT_TRUE(torch::allclose(p.value(), pb[p.key()], 1e-4, atol)) << p.key();
}

TEST(Trainer, ValidatesOptionsInOnePlace) {
  TrainOptions o;
  EXPECT_THROW(o.validate(), InputError);  // no style
  o.styles = {StyleSpec{"s.jpg", "", "", "", ""}};
  o.dataset = "d";
  o.output = "m.safetensors";
  EXPECT_NO_THROW(o.validate());
  auto bad = o;
  bad.output = "m.pt";
  EXPECT_THROW(bad.validate(), InputError);
  bad = o;
  bad.iterations = 10;
  bad.epochs = 1;
  EXPECT_THROW(bad.validate(), InputError);
  bad = o;
  bad.batch = 0;
  EXPECT_THROW(bad.validate(), InputError);
  bad = o;
  bad.styles.push_back(StyleSpec{"other/s.png", "", "", "", ""});
  EXPECT_THROW(bad.validate(), InputError);  // both named "s"
  EXPECT_EQ(o.total_iterations(100), 2000);
  o.epochs = 2;
  EXPECT_EQ(o.total_iterations(10), 5);  // 2 * 10 / batch 4, rounded up
}

TEST(Trainer, FewIterationsLowerTheLossAndWriteAModel) {
  TinySetup setup;
  auto o = setup.options(setup.dir.file("out/model.safetensors"));
  o.iterations = 40;
  o.checkpoint_every = 20;
  int checkpoints = 0;
  TrainCallbacks callbacks;
  callbacks.on_checkpoint = [&](const std::string&, const std::string& preview, int) {
    ++checkpoints;
    EXPECT_TRUE(std::filesystem::exists(preview));
  };
  const auto result = train_fast_model(o, callbacks);
  EXPECT_EQ(result.iterations, 40);
  EXPECT_EQ(checkpoints, 2);  // iteration 20 and the end
  // Default layers for blocks 1-2 weights come from the core engine's choice.
  EXPECT_EQ(result.content_layers, std::vector<std::string>{"relu2_2"});
  const auto log = read_log(result.log_path);
  ASSERT_EQ(log.size(), 40u);
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) {
    first += log[static_cast<size_t>(i)]["style"].get<double>();
    last += log[log.size() - 1 - static_cast<size_t>(i)]["style"].get<double>();
  }
  EXPECT_LT(last, 0.8 * first) << "style loss did not fall: " << first / 5 << " -> " << last / 5;

  auto model = load_fast_model(o.output);
  EXPECT_EQ(model.meta().network.width, 4);
  ASSERT_EQ(model.meta().styles.size(), 1u);
  EXPECT_EQ(model.meta().styles[0].name, "stripes");
  EXPECT_EQ(model.meta().styles[0].title, "Stripes");
  EXPECT_EQ(model.meta().styles[0].artist, "Nobody");
  EXPECT_FALSE(model.meta().styles[0].thumbnail_jpeg.empty());
  EXPECT_EQ(model.meta().training["iterations"], 40);
  EXPECT_EQ(model.meta().loss["content_layers"], nlohmann::json({"relu2_2"}));
  EXPECT_TRUE(std::filesystem::exists(result.checkpoint_path));
}

TEST(Trainer, ResumedRunMatchesAnUninterruptedOne) {
  TinySetup setup;
  auto straight = setup.options(setup.dir.file("a/model.safetensors"));
  straight.iterations = 8;
  train_fast_model(straight);

  auto first_half = setup.options(setup.dir.file("b/model.safetensors"));
  first_half.iterations = 4;
  train_fast_model(first_half);
  auto second_half = first_half;
  second_half.iterations = 8;
  second_half.resume = true;
  const auto resumed = train_fast_model(second_half);
  EXPECT_EQ(resumed.resumed_from, 4);
  EXPECT_EQ(resumed.iterations, 8);
  EXPECT_EQ(read_log(resumed.log_path).size(), 8u);  // appended
  expect_same_weights(straight.output, second_half.output, 1e-5);
}

TEST(Trainer, ResumeNeedsAMatchingCheckpoint) {
  TinySetup setup;
  auto o = setup.options(setup.dir.file("m.safetensors"));
  o.iterations = 2;
  o.resume = true;
  EXPECT_THROW(train_fast_model(o), InputError);  // no checkpoint yet
  o.resume = false;
  train_fast_model(o);
  o.resume = true;
  o.width = 8;
  EXPECT_THROW(train_fast_model(o), InputError);  // different network
}

TEST(Trainer, InitFromStartsAtAnotherModelsWeights) {
  TinySetup setup;
  auto base = setup.options(setup.dir.file("base.safetensors"));
  base.iterations = 6;
  train_fast_model(base);

  // One step at a negligible rate: the fine-tuned weights are the base model's, not a fresh init.
  auto tuned = setup.options(setup.dir.file("tuned.safetensors"));
  tuned.init_from = base.output;
  tuned.iterations = 1;
  tuned.learning_rate = 1e-9;
  tuned.seed = 7;  // a fresh initialisation would differ from the base's seed-0 one
  const auto result = train_fast_model(tuned);
  EXPECT_EQ(result.resumed_from, 0);
  EXPECT_EQ(result.iterations, 1);
  expect_same_weights(base.output, tuned.output, 1e-6);

  auto mismatched = tuned;
  mismatched.output = setup.dir.file("wide.safetensors");
  mismatched.width = 8;
  EXPECT_THROW(train_fast_model(mismatched), InputError);
  auto both = tuned;
  both.resume = true;
  EXPECT_THROW(both.validate(), InputError);
}

TEST(Trainer, MultiStyleModelHoldsEveryStyle) {
  TinySetup setup;
  auto o = setup.options(setup.dir.file("multi.safetensors"));
  const auto second = setup.dir.file("dots.png");
  cv::Mat dots(40, 40, CV_8UC3, cv::Scalar(30, 200, 30));
  for (int y = 4; y < 40; y += 8)
    for (int x = 4; x < 40; x += 8) dots.at<cv::Vec3b>(y, x) = cv::Vec3b(255, 0, 255);
  save_image(dots, second);
  o.styles.push_back(StyleSpec{second, "dots", "", "", ""});
  o.iterations = 4;
  train_fast_model(o);
  auto model = load_fast_model(o.output);
  ASSERT_EQ(model.meta().styles.size(), 2u);
  EXPECT_EQ(model.meta().styles[1].name, "dots");
  EXPECT_EQ(model.meta().styles[1].title, "Dots");
  EXPECT_EQ(model.meta().network.styles, 2);
}

TEST(Trainer, MissingInputsGiveClearErrors) {
  TinySetup setup;
  auto o = setup.options(setup.dir.file("m.safetensors"));
  o.iterations = 1;
  auto bad = o;
  bad.dataset = setup.dir.file("nope");
  EXPECT_THROW(train_fast_model(bad), InputError);
  bad = o;
  bad.styles[0].image = setup.dir.file("missing.png");
  EXPECT_THROW(train_fast_model(bad), InputError);
  bad = o;
  bad.style_layers = {"relu5_1"};
  EXPECT_THROW(train_fast_model(bad), InputError);
}

}  // namespace
}  // namespace pastiche
