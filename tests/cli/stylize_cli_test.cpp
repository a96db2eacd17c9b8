// The `pastiche stylize` contract as scripts see it: exit codes, one-line errors, no partial
// output, and the --json keys.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cli/cli_test_util.h"
#include "common/fixtures.h"
#include "fast/fast_test_util.h"
#include "image/image_io.h"

namespace pastiche::testing {
namespace {

class StylizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    save_image(synthetic_content_image(48, 36), dir_.file("photo.png"));
    save_image(synthetic_style_image(40, 40), dir_.file("painting.png"));
    write_synthetic_vgg(dir_.file("vgg.safetensors"), WeightConvention::torchvision, 2, 3);
  }

  std::string base_args(const std::string& output) const {
    return "stylize " + shell_quote(dir_.file("photo.png")) + " --style " +
           shell_quote(dir_.file("painting.png")) + " --vgg " +
           shell_quote(dir_.file("vgg.safetensors")) + " -o " + shell_quote(output) +
           " --size 32 --steps 6 --threads 1 -q";
  }

  static void expect_one_line_error(const CommandResult& r, const std::string& needle) {
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }

  TempDir dir_;
};

TEST_F(StylizeCli, JsonReportsTheContractKeysAndWritesTheImage) {
  const auto output = dir_.file("out.png");
  const auto r = run_cli(base_args(output) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"seconds", "iterations", "content_loss", "style_loss", "tv_loss",
                          "output", "width", "height"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["width"], 32);
  EXPECT_EQ(j["height"], 24);
  EXPECT_GE(j["iterations"].get<int>(), 1);
  EXPECT_LE(j["iterations"].get<int>(), 6);
  const auto image = load_image(output);
  EXPECT_EQ(image.cols, 32);
  EXPECT_EQ(image.rows, 24);
}

// --mask: the photo stays itself beyond the feather, the JSON says what was painted; a mask of
// another shape is a one-line error and leaves nothing.
TEST_F(StylizeCli, AMaskPaintsOnlyItsWhitePart) {
  const auto model = write_random_model(dir_.file("m.safetensors"), 4, 1, 1);
  cv::Mat mask(36, 48, CV_8UC3, cv::Scalar(0, 0, 0));
  mask(cv::Rect(24, 0, 24, 36)).setTo(cv::Scalar(255, 255, 255));
  save_image(mask, dir_.file("mask.png"));
  const auto output = dir_.file("half.png");
  const auto r = run_cli("stylize " + shell_quote(dir_.file("photo.png")) + " --model " +
                         shell_quote(model) + " --mask " + shell_quote(dir_.file("mask.png")) +
                         " --feather 3 -o " + shell_quote(output) + " --threads 1 -q --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["region"]["from"], "mask");
  EXPECT_NEAR(j["region"]["painted_fraction"].get<double>(), 0.5, 1e-6);
  const cv::Mat photo = load_image(dir_.file("photo.png")), out = load_image(output);
  ASSERT_EQ(out.size(), photo.size());
  cv::Mat diff;
  cv::absdiff(out(cv::Rect(0, 0, 20, 36)), photo(cv::Rect(0, 0, 20, 36)), diff);
  EXPECT_LE(cv::norm(diff, cv::NORM_INF), 2);
  cv::absdiff(out(cv::Rect(28, 0, 20, 36)), photo(cv::Rect(28, 0, 20, 36)), diff);
  EXPECT_GT(cv::norm(diff, cv::NORM_INF), 2);  // the painted half changed

  cv::Mat square(40, 40, CV_8UC3, cv::Scalar(255, 255, 255));
  save_image(square, dir_.file("square.png"));
  const auto refused = dir_.file("refused.png");
  const auto bad = run_cli("stylize " + shell_quote(dir_.file("photo.png")) + " --model " +
                           shell_quote(model) + " --mask " + shell_quote(dir_.file("square.png")) +
                           " -o " + shell_quote(refused) + " --threads 1 -q");
  expect_one_line_error(bad, "different shape");
  EXPECT_FALSE(std::filesystem::exists(refused));

  // A second style for the rest: the same model twice paints everything; mismatched flags refused.
  const auto photo_arg = "stylize " + shell_quote(dir_.file("photo.png")) + " --model " +
                         shell_quote(model) + " -o " + shell_quote(refused) + " --threads 1 -q";
  const auto two =
      run_cli(photo_arg + " --subject 10,8,20,20 --other-model " + shell_quote(model) + " --json");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(nlohmann::json::parse(two.out)["region"]["rest"], model);
  std::filesystem::remove(refused);
  expect_one_line_error(run_cli(photo_arg + " --invert-mask"), "need --mask or --subject");
  expect_one_line_error(run_cli(photo_arg + " --subject 40,30,20,20"), "must lie inside");
  expect_one_line_error(run_cli(photo_arg + " --mask " + shell_quote(dir_.file("mask.png")) +
                                " --other-style " + shell_quote(dir_.file("painting.png"))),
                        "--method arbitrary");
  EXPECT_FALSE(std::filesystem::exists(refused));
}

TEST_F(StylizeCli, MissingContentFileFailsWithoutOutput) {
  const auto output = dir_.file("never.png");
  const auto r = run_cli("stylize " + shell_quote(dir_.file("nope.jpg")) + " --style " +
                         shell_quote(dir_.file("painting.png")) + " -o " + shell_quote(output));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("nope.jpg"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(output));
}

TEST_F(StylizeCli, CorruptStyleImageIsAOneLineError) {
  {
    std::ofstream bad(dir_.file("bad.jpg"));
    bad << "this is not a jpeg";
  }
  const auto output = dir_.file("never.png");
  auto args = base_args(output);
  args.replace(args.find(shell_quote(dir_.file("painting.png"))),
               shell_quote(dir_.file("painting.png")).size(), shell_quote(dir_.file("bad.jpg")));
  const auto r = run_cli(args);
  expect_one_line_error(r, "bad.jpg");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(output));
}

TEST_F(StylizeCli, UnknownLayerNamesTheLayerAndTheAvailableRange) {
  const auto output = dir_.file("never.png");
  const auto r = run_cli(base_args(output) + " --style-layers relu1_1,relu5_1");
  expect_one_line_error(r, "relu5_1");
  EXPECT_NE(r.err.find("relu2_2"), std::string::npos) << r.err;  // the deepest available
  EXPECT_FALSE(std::filesystem::exists(output));
}

TEST_F(StylizeCli, BadNumbersAreRejected) {
  const auto output = dir_.file("never.png");
  EXPECT_NE(run_cli(base_args(output) + " --steps many").exit_code, 0);
  expect_one_line_error(run_cli(base_args(output) + " --blend 3"), "blend");
  expect_one_line_error(run_cli(base_args(output) + " --style-blend 1,x"), "style-blend");
  expect_one_line_error(run_cli(base_args(output) + " --optimizer sgd"), "optimizer");
  EXPECT_FALSE(std::filesystem::exists(output));
}

TEST_F(StylizeCli, UnwritableOutputFormatIsRefusedBeforeWork) {
  const auto r = run_cli(base_args(dir_.file("out.gif")));
  expect_one_line_error(r, "out.gif");
}

TEST_F(StylizeCli, MissingVggWeightsExplainWhatToDo) {
  auto args = base_args(dir_.file("x.png"));
  const auto vgg = shell_quote(dir_.file("vgg.safetensors"));
  args.replace(args.find(vgg), vgg.size(), shell_quote(dir_.file("missing.safetensors")));
  const auto r = run_cli(args);
  expect_one_line_error(r, "missing.safetensors");
  EXPECT_FALSE(std::filesystem::exists(dir_.file("x.png")));
}

TEST_F(StylizeCli, HelpListsDefaults) {
  const auto r = run_cli("stylize --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--size INT=512"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--optimizer lbfgs|adam=lbfgs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--steps INT=0 (automatic)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--style-weight FLOAT=20"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--tile INT=0 (automatic)"), std::string::npos) << r.out;
}

// The CLI parses each setting with the catalogue's own parser: the flag is named, the rule is the
// one the HTTP API states for the same field.
TEST_F(StylizeCli, ARefusedValueNamesTheFlagWithTheCataloguesRule) {
  auto r = run_cli(base_args(dir_.file("w.png")) + " --style-weight 0");
  expect_one_line_error(r, "--style-weight: must be greater than 0 and at most 1000000000");
  EXPECT_EQ(r.exit_code, 2);
  r = run_cli(base_args(dir_.file("w.png")) + " --optimizer sgd");
  expect_one_line_error(r, "--optimizer: must be lbfgs or adam");
  r = run_cli(base_args(dir_.file("w.png")) + " --steps 12px");
  expect_one_line_error(r, "--steps: must be an integer");
  EXPECT_FALSE(std::filesystem::exists(dir_.file("w.png")));
}

TEST_F(StylizeCli, ASettingOfTheOtherMethodIsRefusedNotIgnored) {
  const auto r = run_cli(base_args(dir_.file("t.png")) + " --tile 256");
  expect_one_line_error(r, "--tile: applies to --model (fast) or --method arbitrary only");
  EXPECT_FALSE(std::filesystem::exists(dir_.file("t.png")));
}

TEST_F(StylizeCli, AnyPaintingInOnePassWithATrainedDecoder) {
  // A caffe-convention VGG with block 3 (relu3_1) and a decoder trained on it for a few steps.
  const auto vgg = write_synthetic_vgg(dir_.file("vgg3.safetensors"), WeightConvention::caffe, 3);
  std::filesystem::create_directories(dir_.file("photos"));
  save_image(synthetic_content_image(48, 40), dir_.file("photos/a.png"));
  const auto decoder = dir_.file("decoder.safetensors");
  const auto train = run_cli("train-arbitrary --dataset " + shell_quote(dir_.file("photos")) +
                             " -o " + shell_quote(decoder) + " --vgg " + shell_quote(vgg) +
                             " --iterations 3 --size 32 --batch 1 --width 8 --threads 1 -q --json");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  EXPECT_EQ(nlohmann::json::parse(train.out)["iterations"], 3);
  const auto output = dir_.file("instant.png");
  const std::string args = "stylize " + shell_quote(dir_.file("photo.png")) + " --style " +
                           shell_quote(dir_.file("painting.png")) + " --method arbitrary" +
                           " --arbitrary-model " + shell_quote(decoder) + " --vgg " +
                           shell_quote(vgg) + " -o " + shell_quote(output) + " --threads 1 -q";
  const auto r = run_cli(args + " --strength 0.5 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "arbitrary");
  EXPECT_EQ(j["width"], 48);  // the photo's own size
  EXPECT_EQ(load_image(output).rows, 36);
  // A Gatys-only setting is refused, and a decoder never meets another encoder.
  expect_one_line_error(run_cli(args + " --steps 5"), "--steps: applies to the other methods");
  expect_one_line_error(
      run_cli("stylize " + shell_quote(dir_.file("photo.png")) + " --style " +
              shell_quote(dir_.file("painting.png")) + " --method arbitrary --arbitrary-model " +
              shell_quote(decoder) + " --vgg " + shell_quote(dir_.file("vgg.safetensors")) +
              " -o " + shell_quote(dir_.file("x.png")) + " -q"),
      "is not in");
  EXPECT_FALSE(std::filesystem::exists(dir_.file("x.png")));

  // Refined by the optimisation, starting from the instant result.
  const auto refined = dir_.file("refined.png");
  const auto refine = run_cli(base_args(refined) + " --init-image " + shell_quote(output));
  ASSERT_EQ(refine.exit_code, 0) << refine.err;
  EXPECT_EQ(load_image(refined).cols, 32);
  expect_one_line_error(run_cli(args + " --init-image " + shell_quote(output)),
                        "--init-image: the optimisation (Gatys) starts from a picture");
  expect_one_line_error(
      run_cli(base_args(refined) + " --init noise --init-image " + shell_quote(output)),
      "init: a picture to start from was given, but init is noise");
}

TEST(TrainCli, HelpListsTheTrainingDefaultsFromTheCatalogue) {
  const auto r = run_cli("train --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--style-weight FLOAT=35"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--lr FLOAT=0.001"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--iterations INT=0 (from --epochs, else 2000)"), std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace pastiche::testing
