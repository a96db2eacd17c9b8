// Layer choice for the perceptual losses, with full and partial loss-network weights.
#include "perceptual/layers.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/fixtures.h"

namespace pastiche {
namespace {

using Names = std::vector<std::string>;

TEST(ChooseLayers, ClassicLayersWithTheFullNetwork) {
  testing::TempDir dir;
  Vgg vgg(
      testing::write_synthetic_vgg(dir.file("vgg.safetensors"), WeightConvention::torchvision, 5));
  auto choice = choose_layers(vgg, {}, {});
  EXPECT_EQ(choice.style, (Names{"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"}));
  EXPECT_EQ(choice.content, Names{"relu4_2"});
  EXPECT_TRUE(choice.note.empty()) << choice.note;
}

TEST(ChooseLayers, FallsBackToTheAvailableBlocksAndSaysSo) {
  testing::TempDir dir;
  Vgg vgg(testing::write_synthetic_vgg(dir.file("vgg.safetensors"), WeightConvention::caffe, 2));
  // Blocks 1-2 only: the first ReLU of each block for style, the deepest block's second for
  // content.
  auto choice = choose_layers(vgg, {}, {});
  EXPECT_EQ(choice.style, (Names{"relu1_1", "relu2_1"}));
  EXPECT_EQ(choice.content, Names{"relu2_2"});
  EXPECT_NE(choice.note.find("relu4_2"), std::string::npos) << choice.note;
  // What is asked for is kept, and checked.
  choice = choose_layers(vgg, {"relu1_2"}, {"relu1_1"});
  EXPECT_EQ(choice.style, Names{"relu1_2"});
  EXPECT_EQ(choice.content, Names{"relu1_1"});
  EXPECT_TRUE(choice.note.empty());
  try {
    choose_layers(vgg, {"relu1_1", "relu4_1"}, {});
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("relu4_1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pastiche
