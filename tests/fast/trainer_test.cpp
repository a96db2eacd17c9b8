#include "fast/trainer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "common/error.h"
#include "common/fixtures.h"
#include "fast/model_file.h"
#include "fast/train_checkpoint.h"
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

// Largest absolute difference between the two model files' parameters.
double max_weight_difference(const std::string& a_path, const std::string& b_path) {
  auto a = load_fast_model(a_path);
  auto b = load_fast_model(b_path);
  auto pb = b.net()->named_parameters();
  double most = 0;
  for (const auto& p : a.net()->named_parameters())
    most = std::max(most, (p.value() - pb[p.key()]).abs().max().item<double>());
  return most;
}

// Trains 8 iterations straight into `straight`, and 4 then 4 more resumed into `halves`, after
// `edit` has rewritten the checkpoint written at iteration 4. Returns the resumed run's result.
TrainResult train_straight_and_resumed(const TinySetup& setup, const std::string& straight,
                                       const std::string& halves,
                                       const std::function<void(const std::string&)>& edit) {
  auto a = setup.options(straight);
  a.iterations = 8;
  train_fast_model(a);
  auto b = setup.options(halves);
  b.iterations = 4;
  train_fast_model(b);
  if (edit) edit(checkpoint_path_for(halves));
  b.iterations = 8;
  b.resume = true;
  return train_fast_model(b);
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
  const auto straight = setup.dir.file("a/model.safetensors");
  const auto halves = setup.dir.file("b/model.safetensors");
  const auto resumed = train_straight_and_resumed(setup, straight, halves, nullptr);
  EXPECT_EQ(resumed.resumed_from, 4);
  EXPECT_EQ(resumed.iterations, 8);
  EXPECT_EQ(read_log(resumed.log_path).size(), 8u);  // appended
  // Same batches, same weights, same Adam moments and step count: the same arithmetic.
  EXPECT_EQ(max_weight_difference(straight, halves), 0.0);
}

// The comparison above can fail: resuming with Adam's state dropped (fresh moments, step 0)
// ends far from the uninterrupted run, so an equal result shows the moments were restored.
TEST(Trainer, ResumeWithoutTheOptimiserStateDiffers) {
  TinySetup setup;
  const auto straight = setup.dir.file("a/model.safetensors");
  const auto halves = setup.dir.file("b/model.safetensors");
  train_straight_and_resumed(setup, straight, halves, [](const std::string& ckpt) {
    auto model = load_fast_model(ckpt);
    torch::optim::Adam fresh(model.net()->parameters(), torch::optim::AdamOptions(2e-2));
    save_checkpoint(ckpt, model, fresh, {4, 0, 4});
  });
  EXPECT_GT(max_weight_difference(straight, halves), 1e-3);
}

// Checkpoints written before the optimiser state was saved with LibTorch's serialisation held
// the moments as tensors "adam.exp_avg.<param>"/"adam.exp_avg_sq.<param>" and one "adam_step".
TEST(Trainer, ResumesACheckpointOfTheEarlierFormat) {
  TinySetup setup;
  const auto straight = setup.dir.file("a/model.safetensors");
  const auto halves = setup.dir.file("b/model.safetensors");
  const auto resumed =
      train_straight_and_resumed(setup, straight, halves, [](const std::string& ckpt) {
        auto model = load_fast_model(ckpt);
        torch::optim::Adam adam(model.net()->parameters(), torch::optim::AdamOptions(1));
        load_checkpoint(ckpt, model.net(), adam);
        std::map<std::string, torch::Tensor> legacy;
        int64_t step = 0;
        for (const auto& p : model.net()->named_parameters()) {
          const auto& state = static_cast<const torch::optim::AdamParamState&>(
              *adam.state().at(c10::guts::to_string(p.value().unsafeGetTensorImpl())));
          legacy["adam.exp_avg." + p.key()] = state.exp_avg();
          legacy["adam.exp_avg_sq." + p.key()] = state.exp_avg_sq();
          step = state.step();
        }
        const nlohmann::json info = {
            {"iteration", 4}, {"adam_step", step}, {"seconds", 0}, {"total_iterations", 4}};
        save_fast_model(ckpt, model, false, legacy, {{"checkpoint", info.dump()}});
        std::map<std::string, torch::Tensor> extra;
        load_fast_model(ckpt, &extra);
        ASSERT_EQ(extra.count(kOptimizerStateTensor), 0u);
      });
  EXPECT_EQ(resumed.resumed_from, 4);
  EXPECT_EQ(max_weight_difference(straight, halves), 0.0);
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
  o.width = 4;
  const auto ckpt = checkpoint_path_for(o.output);
  save_fast_model(ckpt, load_fast_model(ckpt));  // a model, not a checkpoint
  EXPECT_THROW(train_fast_model(o), InputError);
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
