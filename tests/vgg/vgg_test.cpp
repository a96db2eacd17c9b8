#include "vgg/vgg.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "common/fixtures.h"
#include "common/safetensors.h"

namespace pastiche {
namespace {

using testing::input_error_of;
using testing::TempDir;
using testing::write_synthetic_vgg;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

double max_rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item<double>();
}

TEST(Vgg, LayerNames) {
  const auto v16 = vgg_layer_names(VggArch::vgg16);
  const auto v19 = vgg_layer_names(VggArch::vgg19);
  EXPECT_EQ(v16.size(), 13u * 2 + 5);
  EXPECT_EQ(v19.size(), 16u * 2 + 5);
  EXPECT_EQ(v19[0], "conv1_1");
  EXPECT_EQ(v19[4], "pool1");
  EXPECT_EQ(v19.back(), "pool5");
  EXPECT_EQ(v19[v19.size() - 2], "relu5_4");
  EXPECT_EQ(v16[v16.size() - 2], "relu5_3");
}

TEST(Vgg, InspectsPartialFilesOfBothConventions) {
  TempDir dir;
  for (auto convention : {WeightConvention::caffe, WeightConvention::torchvision}) {
    SCOPED_TRACE(to_string(convention));
    const auto two =
        inspect_vgg_weights(write_synthetic_vgg(dir.file("two.safetensors"), convention, 2));
    EXPECT_EQ(two.convention, convention);
    EXPECT_EQ(two.arch, VggArch::vgg19);
    EXPECT_TRUE(two.arch_inferred);  // blocks 1-2 fit VGG16 and VGG19
    EXPECT_EQ(two.conv_layers, 4);
    EXPECT_FALSE(two.complete());
    EXPECT_EQ(two.available,
              (std::vector<std::string>{"conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1",
                                        "conv2_1", "relu2_1", "conv2_2", "relu2_2", "pool2"}));
    EXPECT_EQ(available_range(two), "relu1_1 … relu2_2");

    const auto three =
        inspect_vgg_weights(write_synthetic_vgg(dir.file("three.safetensors"), convention, 3));
    EXPECT_EQ(three.arch, VggArch::vgg19);  // conv3_4 exists only in VGG19
    EXPECT_FALSE(three.arch_inferred);
    EXPECT_EQ(three.conv_layers, 8);
    EXPECT_EQ(three.available.back(), "pool3");
  }
}

TEST(Vgg, DetectsVgg16AndHonoursMetadata) {
  TempDir dir;
  // VGG16 prefix: torchvision index 17 is conv4_1 in VGG16 but a ReLU position in VGG19.
  auto tensors = read_safetensors(write_synthetic_vgg(dir.file("s.safetensors"),
                                                      WeightConvention::torchvision, 2))
                     .tensors;
  const std::pair<int, std::pair<int, int>> extra[] = {
      {10, {128, 256}}, {12, {256, 256}}, {14, {256, 256}}, {17, {256, 512}}};
  for (const auto& [index, io] : extra) {
    tensors["features." + std::to_string(index) + ".weight"] =
        torch::randn({io.second, io.first, 3, 3}) * 0.01;
    tensors["features." + std::to_string(index) + ".bias"] = torch::zeros({io.second});
  }
  tensors["classifier.0.weight"] = torch::zeros({4, 4});  // ignored
  write_safetensors(dir.file("v16.safetensors"), tensors);
  const auto info = inspect_vgg_weights(dir.file("v16.safetensors"));
  EXPECT_EQ(info.arch, VggArch::vgg16);
  EXPECT_FALSE(info.arch_inferred);
  EXPECT_EQ(info.conv_layers, 8);
  EXPECT_EQ(available_range(info), "relu1_1 … relu4_1");
  EXPECT_TRUE(std::find(info.available.begin(), info.available.end(), "pool3") !=
              info.available.end());
  EXPECT_TRUE(std::find(info.available.begin(), info.available.end(), "pool4") ==
              info.available.end());

  // "module." prefix and metadata arch.
  std::map<std::string, torch::Tensor> prefixed;
  for (const auto& [k, v] : read_safetensors(dir.file("s.safetensors")).tensors) {
    prefixed["module." + k] = v;
  }
  write_safetensors(dir.file("meta.safetensors"), prefixed, {{"arch", "vgg16"}});
  const auto meta = inspect_vgg_weights(dir.file("meta.safetensors"));
  EXPECT_EQ(meta.arch, VggArch::vgg16);
  EXPECT_FALSE(meta.arch_inferred);
  EXPECT_EQ(meta.conv_layers, 4);
}

TEST(Vgg, RejectsGapsShapesAndForeignFiles) {
  TempDir dir;
  auto tensors =
      read_safetensors(write_synthetic_vgg(dir.file("s.safetensors"), WeightConvention::caffe, 2))
          .tensors;
  auto gap = tensors;
  gap.erase("block1_conv2/kernel");
  gap.erase("block1_conv2/bias");
  write_safetensors(dir.file("gap.safetensors"), gap);
  const std::string gap_error =
      input_error_of([&] { inspect_vgg_weights(dir.file("gap.safetensors")); });
  EXPECT_TRUE(contains(gap_error, "conv1_2")) << gap_error;
  EXPECT_TRUE(contains(gap_error, "missing")) << gap_error;

  auto no_bias = tensors;
  no_bias.erase("block2_conv2/bias");
  write_safetensors(dir.file("nobias.safetensors"), no_bias);
  EXPECT_TRUE(contains(input_error_of([&] { inspect_vgg_weights(dir.file("nobias.safetensors")); }),
                       "conv2_2 has no bias"));

  auto bad_shape = tensors;
  bad_shape["block2_conv1/kernel"] = torch::zeros({3, 3, 64, 64});
  write_safetensors(dir.file("shape.safetensors"), bad_shape);
  const std::string shape_error =
      input_error_of([&] { inspect_vgg_weights(dir.file("shape.safetensors")); });
  EXPECT_TRUE(contains(shape_error, "[3, 3, 64, 128]")) << shape_error;

  auto first_in = tensors;  // first conv must take 3 channels
  first_in["block1_conv1/kernel"] = torch::zeros({3, 3, 4, 64});
  write_safetensors(dir.file("in.safetensors"), first_in);
  EXPECT_THROW(inspect_vgg_weights(dir.file("in.safetensors")), InputError);

  auto ints = tensors;
  ints["block1_conv1/bias"] = torch::zeros({64}, torch::kInt);
  write_safetensors(dir.file("ints.safetensors"), ints);
  EXPECT_THROW(inspect_vgg_weights(dir.file("ints.safetensors")), InputError);

  write_safetensors(dir.file("other.safetensors"), {{"encoder.weight", torch::zeros({2})}});
  EXPECT_TRUE(contains(input_error_of([&] { inspect_vgg_weights(dir.file("other.safetensors")); }),
                       "not VGG weights"));
}

TEST(Vgg, PreprocessingOfAKnownPixel) {
  TempDir dir;
  const torch::Tensor pixel = torch::tensor({0.5f, 0.25f, 1.0f}).view({1, 3, 1, 1});
  Vgg caffe(write_synthetic_vgg(dir.file("c.safetensors"), WeightConvention::caffe, 1));
  const torch::Tensor c = caffe->preprocess(pixel).flatten();
  EXPECT_NEAR(c[0].item<float>(), 1.0 * 255 - 103.939, 1e-3);   // B
  EXPECT_NEAR(c[1].item<float>(), 0.25 * 255 - 116.779, 1e-3);  // G
  EXPECT_NEAR(c[2].item<float>(), 0.5 * 255 - 123.68, 1e-3);    // R
  Vgg tv(write_synthetic_vgg(dir.file("t.safetensors"), WeightConvention::torchvision, 1));
  const torch::Tensor t = tv->preprocess(pixel).flatten();
  EXPECT_NEAR(t[0].item<float>(), (0.5 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(t[1].item<float>(), (0.25 - 0.456) / 0.224, 1e-5);
  EXPECT_NEAR(t[2].item<float>(), (1.0 - 0.406) / 0.225, 1e-5);
}

// The same network in both conventions: the torchvision file is the caffe file with kernels
// permuted HWIO -> OIHW and the preprocessing difference folded into conv1_1. Zero padding
// differs at the image border (0 in one input space is not 0 in the other), so the comparison
// skips a margin that grows with depth.
TEST(Vgg, ConventionsGiveTheSameFeatures) {
  TempDir dir;
  const std::string caffe_path =
      write_synthetic_vgg(dir.file("caffe.safetensors"), WeightConvention::caffe, 2, 7);
  const auto caffe_tensors = read_safetensors(caffe_path).tensors;
  const double tv_mean[3] = {0.485, 0.456, 0.406}, tv_std[3] = {0.229, 0.224, 0.225};
  const double caffe_mean_bgr[3] = {103.939, 116.779, 123.68};
  const int features[4] = {0, 2, 5, 7};
  const char* caffe_names[4] = {"block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2"};
  std::map<std::string, torch::Tensor> tv;
  for (int i = 0; i < 4; ++i) {
    torch::Tensor w = caffe_tensors.at(std::string(caffe_names[i]) + "/kernel")
                          .permute({3, 2, 0, 1})
                          .to(torch::kDouble);  // OIHW
    torch::Tensor b = caffe_tensors.at(std::string(caffe_names[i]) + "/bias").to(torch::kDouble);
    if (i == 0) {
      // caffe input channel c' (BGR) = 255 * (std[2-c'] * x_t[2-c'] + mean[2-c']) - M[c'].
      torch::Tensor wt = torch::empty_like(w);
      torch::Tensor offset = torch::zeros_like(b);
      for (int cb = 0; cb < 3; ++cb) {
        const int rgb = 2 - cb;
        wt.select(1, rgb).copy_(w.select(1, cb) * 255.0 * tv_std[rgb]);
        offset += w.select(1, cb).sum({1, 2}) * (255.0 * tv_mean[rgb] - caffe_mean_bgr[cb]);
      }
      w = wt;
      b = b + offset;
    }
    tv["features." + std::to_string(features[i]) + ".weight"] = w.to(torch::kFloat);
    tv["features." + std::to_string(features[i]) + ".bias"] = b.to(torch::kFloat);
  }
  write_safetensors(dir.file("tv.safetensors"), tv);

  Vgg caffe(caffe_path);
  Vgg torchvision(dir.file("tv.safetensors"));
  EXPECT_EQ(torchvision->info().convention, WeightConvention::torchvision);
  torch::manual_seed(3);
  const torch::Tensor rgb = torch::rand({2, 3, 48, 48});
  const std::vector<std::string> layers = {"conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1",
                                           "conv2_1", "relu2_1", "conv2_2", "relu2_2", "pool2"};
  torch::NoGradGuard no_grad;
  auto a = caffe->forward(rgb, layers);
  auto b = torchvision->forward(rgb, layers);
  ASSERT_EQ(a.size(), layers.size());
  for (const auto& name : layers) {
    SCOPED_TRACE(name);
    const int64_t size = a.at(name).size(2);
    const int64_t margin = name == "pool2" ? 2 : size / 4;  // border affected by padding
    auto crop = [&](const torch::Tensor& t) {
      return t.narrow(2, margin, size - 2 * margin).narrow(3, margin, size - 2 * margin);
    };
    EXPECT_LT(max_rel_diff(crop(b.at(name)), crop(a.at(name))), 1e-4);
  }
}

TEST(Vgg, TruncatedFilesServeTheirLayersAndNameTheMissingOnes) {
  TempDir dir;
  Vgg vgg(write_synthetic_vgg(dir.file("block1.safetensors"), WeightConvention::caffe, 1));
  const torch::Tensor rgb = torch::rand({1, 3, 16, 16});
  auto out = vgg->forward(rgb, {"relu1_2", "pool1"});
  EXPECT_EQ(out.at("relu1_2").sizes(), (std::vector<int64_t>{1, 64, 16, 16}));
  EXPECT_EQ(out.at("pool1").sizes(), (std::vector<int64_t>{1, 64, 8, 8}));
  EXPECT_TRUE(vgg->has_layer("pool1"));
  EXPECT_FALSE(vgg->has_layer("relu2_1"));

  const std::string missing = input_error_of([&] { vgg->forward(rgb, {"relu1_1", "relu2_1"}); });
  EXPECT_TRUE(contains(missing, "layer relu2_1 is not in block1.safetensors")) << missing;
  EXPECT_TRUE(contains(missing, "available: relu1_1 … relu1_2")) << missing;
  EXPECT_TRUE(contains(missing, "pastiche weights fetch vgg19")) << missing;
  const std::string unknown = input_error_of([&] { vgg->check_layers({"relu9_1"}); });
  EXPECT_TRUE(contains(unknown, "relu9_1 is not a VGG19 layer")) << unknown;
  EXPECT_NO_THROW(vgg->check_layers({"conv1_1", "pool1"}));
  EXPECT_TRUE(vgg->forward(rgb, {}).empty());
}

TEST(Vgg, FrozenWeightsButGradientsReachTheInput) {
  TempDir dir;
  Vgg vgg(write_synthetic_vgg(dir.file("w.safetensors"), WeightConvention::torchvision, 2));
  for (const auto& p : vgg->parameters()) EXPECT_FALSE(p.requires_grad());
  EXPECT_EQ(vgg->parameters().size(), 8u);
  const torch::Tensor rgb = torch::rand({1, 3, 16, 16}).requires_grad_(true);
  auto out = vgg->forward(rgb, {"conv1_1", "relu1_1", "relu2_1"});
  // conv1_1 must not have been modified by the ReLU that follows it.
  EXPECT_LT(out.at("conv1_1").min().item<float>(), 0.0f);
  EXPECT_TRUE(torch::allclose(out.at("relu1_1"), out.at("conv1_1").clamp_min(0)));
  (out.at("relu2_1").sum() + out.at("conv1_1").pow(2).sum()).backward();
  ASSERT_TRUE(rgb.grad().defined());
  EXPECT_GT(rgb.grad().abs().sum().item<float>(), 0.0f);
}

TEST(Vgg, ChannelsLastGivesTheSameFeatures) {
  TempDir dir;
  Vgg vgg(write_synthetic_vgg(dir.file("w.safetensors"), WeightConvention::caffe, 2));
  const torch::Tensor rgb = torch::rand({2, 3, 20, 20});
  const std::vector<std::string> layers = {"relu1_1", "pool1", "conv2_2", "pool2"};
  torch::NoGradGuard no_grad;
  auto plain = vgg->forward(rgb, layers);
  auto cl = vgg->forward(rgb.contiguous(torch::MemoryFormat::ChannelsLast), layers);
  for (const auto& name : layers) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(cl.at(name).is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(plain.at(name).is_contiguous());
    EXPECT_LT(max_rel_diff(cl.at(name), plain.at(name)), 1e-5);
  }
}

TEST(Vgg, AveragePooling) {
  TempDir dir;
  Vgg vgg(write_synthetic_vgg(dir.file("w.safetensors"), WeightConvention::caffe, 1),
          PoolKind::avg);
  const torch::Tensor rgb = torch::rand({1, 3, 8, 8});
  auto out = vgg->forward(rgb, {"relu1_2", "pool1"});
  EXPECT_TRUE(torch::allclose(out.at("pool1"), torch::avg_pool2d(out.at("relu1_2"), 2, 2)));
}

TEST(Vgg, DefaultWeightsPathHonoursEnvironment) {
  TempDir dir;
  const std::string path =
      write_synthetic_vgg(dir.file("vgg19-test.safetensors"), WeightConvention::caffe, 1);
  const char* old_vgg = std::getenv("PASTICHE_VGG");
  const std::string saved_vgg = old_vgg ? old_vgg : "";
  const char* old_dir = std::getenv("PASTICHE_MODELS_DIR");
  const std::string saved_dir = old_dir ? old_dir : "";
  unsetenv("PASTICHE_VGG");
  setenv("PASTICHE_MODELS_DIR", dir.path().c_str(), 1);
  EXPECT_EQ(default_vgg_weights_path(), path);
  setenv("PASTICHE_VGG", "/somewhere/else.safetensors", 1);
  EXPECT_EQ(default_vgg_weights_path(), "/somewhere/else.safetensors");
  if (old_vgg)
    setenv("PASTICHE_VGG", saved_vgg.c_str(), 1);
  else
    unsetenv("PASTICHE_VGG");
  if (old_dir)
    setenv("PASTICHE_MODELS_DIR", saved_dir.c_str(), 1);
  else
    unsetenv("PASTICHE_MODELS_DIR");
}

}  // namespace
}  // namespace pastiche
