#include "fast/neutral_style.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.h"
#include "common/fixtures.h"
#include "fast/fast_stylizer.h"
#include "fast_test_util.h"
#include "image/image_io.h"
#include "image/postprocess.h"

namespace pastiche {
namespace {

using testing::mean_abs_diff;
using testing::TempDir;

// A two-style random model and a folder of synthetic photos, the neutral style trained briefly.
struct NeutralSetup {
  TempDir dir;
  std::string photos = dir.file("photos");
  TransformerNet before = testing::random_net(8, 1, 2, 3);
  FastModel model{testing::random_net(8, 1, 2, 3), testing::meta_for(before)};
  NeutralTrainResult result;
  NeutralSetup() {
    std::filesystem::create_directories(photos);
    save_image(testing::synthetic_content_image(48, 40), photos + "/a.png");
    save_image(testing::synthetic_content_image(40, 56), photos + "/b.png");
    NeutralTrainOptions o;
    o.dataset = photos;
    o.iterations = 60;
    o.size = 32;
    o.batch = 2;
    o.learning_rate = 3e-2;
    result = train_neutral_style(model, o);
  }
  std::string save() {
    const auto path = dir.file("m.safetensors");
    save_fast_model(path, model);
    return path;
  }
};

TEST(NeutralStyle, LearnsOnlyItsOwnPairAndAppendsItLast) {
  NeutralSetup s;
  EXPECT_LT(s.result.final_loss, 0.7 * s.result.first_loss);
  const auto& meta = s.model.meta();
  ASSERT_EQ(meta.styles.size(), 3u);
  EXPECT_EQ(meta.network.styles, 3);
  EXPECT_EQ(meta.neutral_index(), 2);
  EXPECT_EQ(meta.styles[2].name, kNeutralStyleName);
  EXPECT_TRUE(meta.training.contains("neutral"));
  auto old_params = s.before->named_parameters();
  for (const auto& p : s.model.net()->named_parameters()) {
    const auto& old = old_params[p.key()];
    if (p.value().sizes() == old.sizes()) {
      EXPECT_TRUE(torch::equal(p.value(), old)) << p.key();  // convolutions untouched
    } else {
      EXPECT_TRUE(torch::equal(p.value().slice(0, 0, 2), old)) << p.key();  // styles' rows too
    }
  }
  EXPECT_THROW(s.model.style_index(kNeutralStyleName), NotFoundError);
}

TEST(NeutralStyle, SurvivesTheFileAndIsNotListedAsAStyle) {
  NeutralSetup s;
  const auto path = s.save();
  const auto info = read_fast_model_info(path);
  EXPECT_EQ(info.styles, (std::vector<std::string>{"style0", "style1"}));
  EXPECT_TRUE(info.true_strength);
  EXPECT_EQ(load_fast_model(path).meta().neutral_index(), 2);
  TempDir other;
  const auto plain = testing::write_random_model(other.file("p.safetensors"), 4, 1, 2);
  EXPECT_FALSE(read_fast_model_info(plain).true_strength);
  // Training again retrains the same slot rather than adding another.
  NeutralTrainOptions o;
  o.dataset = s.photos;
  o.iterations = 2;
  o.size = 32;
  train_neutral_style(s.model, o);
  EXPECT_EQ(s.model.meta().network.styles, 3);
}

TEST(NeutralStyle, AMisplacedNeutralEntryIsRejected) {
  TempDir dir;
  auto net = testing::random_net(4, 1, 2);
  auto meta = testing::meta_for(net);
  meta.styles[0].neutral = true;  // must be the last
  save_fast_model(dir.file("first.safetensors"), FastModel(net, meta));
  EXPECT_THROW(load_fast_model(dir.file("first.safetensors")), InputError);
  auto lone = testing::random_net(4, 1, 1);
  auto lone_meta = testing::meta_for(lone);
  lone_meta.styles[0].neutral = true;  // and not the only one
  save_fast_model(dir.file("lone.safetensors"), FastModel(lone, lone_meta));
  EXPECT_THROW(read_fast_model_info(dir.file("lone.safetensors")), InputError);
}

TEST(NeutralStyle, StrengthGoesFromThePhotoToTheStyleMonotonically) {
  NeutralSetup s;
  FastStylizer stylizer(s.save());
  const auto photo = testing::synthetic_content_image(96, 72);
  FastOptions o;
  const auto full = stylizer.stylize(photo, o);
  double previous_to_photo = -1, previous_to_full = 1e9;
  for (double strength : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    o.strength = strength;
    const auto out = stylizer.stylize(photo, o);
    const double to_photo = mean_abs_diff(out, photo), to_full = mean_abs_diff(out, full);
    EXPECT_GT(to_photo, previous_to_photo) << strength;
    EXPECT_LT(to_full, previous_to_full) << strength;
    previous_to_photo = to_photo;
    previous_to_full = to_full;
  }
  EXPECT_EQ(previous_to_full, 0.0);  // strength 1 is today's look, exactly
  o.strength = 0;
  EXPECT_EQ(mean_abs_diff(stylizer.stylize(photo, o), photo), 0.0);  // and 0 the photo's
  // Half strength is not a blend of the two ends: the painting itself is weaker.
  o.strength = 0.5;
  EXPECT_GT(mean_abs_diff(stylizer.stylize(photo, o), blend_with_original(full, photo, 0.5)), 1.0);
}

TEST(NeutralStyle, WithoutANeutralStyleStrengthIsABlendWithThePhoto) {
  TempDir dir;
  FastStylizer stylizer(testing::write_random_model(dir.file("m.safetensors"), 4, 1, 1));
  const auto photo = testing::synthetic_content_image(40, 40);
  FastOptions o;
  o.strength = 0;
  EXPECT_LE(mean_abs_diff(stylizer.stylize(photo, o), photo), 0.01);
  auto net = testing::random_net(4, 1, 1);
  EXPECT_THROW(FastModel(net, testing::meta_for(net)).style_weights({}, 0.5), InputError);
}

TEST(NeutralStyle, OptionsAreValidatedInOnePlace) {
  NeutralTrainOptions o;
  EXPECT_THROW(o.validate(), InputError);  // no dataset
  o.dataset = "photos";
  o.validate();
  o.iterations = 0;
  EXPECT_THROW(o.validate(), InputError);
  o.iterations = 10;
  o.size = 8;
  EXPECT_THROW(o.validate(), InputError);
  o.size = 64;
  o.learning_rate = 0;
  EXPECT_THROW(o.validate(), InputError);
}

}  // namespace
}  // namespace pastiche
