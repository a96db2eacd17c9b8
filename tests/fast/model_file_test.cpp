#include "fast/model_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/fixtures.h"
#include "common/safetensors.h"
#include "fast_test_util.h"

namespace pastiche {
namespace {

using testing::TempDir;

template <typename E, typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

TEST(ModelFile, RoundTripKeepsWeightsAndMetadata) {
  TempDir dir;
  auto net = testing::random_net(4, 2, 2);
  const auto meta = testing::meta_for(net);
  save_fast_model(dir.file("m.safetensors"), FastModel(net, meta));
  auto loaded = load_fast_model(dir.file("m.safetensors"));
  EXPECT_EQ(loaded.meta().network.width, 4);
  EXPECT_EQ(loaded.meta().network.res_blocks, 2);
  EXPECT_EQ(loaded.meta().network.styles, 2);
  ASSERT_EQ(loaded.meta().styles.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(loaded.meta().styles[i].name, meta.styles[i].name);
    EXPECT_EQ(loaded.meta().styles[i].title, meta.styles[i].title);
    EXPECT_EQ(loaded.meta().styles[i].artist, meta.styles[i].artist);
    EXPECT_EQ(loaded.meta().styles[i].description, meta.styles[i].description);
    EXPECT_EQ(loaded.meta().styles[i].thumbnail_jpeg, meta.styles[i].thumbnail_jpeg);
  }
  EXPECT_EQ(loaded.meta().loss, meta.loss);
  EXPECT_EQ(loaded.meta().training, meta.training);
  auto original = net->named_parameters();
  for (const auto& p : loaded.net()->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), original[p.key()])) << p.key();
}

TEST(ModelFile, Fp16HalvesTheFileAndStaysClose) {
  TempDir dir;
  auto net = testing::random_net(8, 2, 1);
  save_fast_model(dir.file("f32.safetensors"), FastModel(net, testing::meta_for(net)), false);
  save_fast_model(dir.file("f16.safetensors"), FastModel(net, testing::meta_for(net)), true);
  const auto f32 = std::filesystem::file_size(dir.file("f32.safetensors"));
  const auto f16 = std::filesystem::file_size(dir.file("f16.safetensors"));
  EXPECT_LT(f16, f32 * 0.6);
  auto loaded = load_fast_model(dir.file("f16.safetensors"));
  auto original = net->named_parameters();
  for (const auto& p : loaded.net()->named_parameters()) {
    EXPECT_EQ(p.value().scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::allclose(p.value(), original[p.key()], 1e-3, 1e-4)) << p.key();
  }
  torch::NoGradGuard no_grad;
  auto x = torch::rand({1, 3, 32, 32});
  EXPECT_LT((loaded.net()->forward(x) - net->forward(x)).abs().max().item<float>(), 2e-3);
  const auto info = read_fast_model_info(dir.file("f16.safetensors"));
  EXPECT_EQ(info.dtype, "float16");
  EXPECT_EQ(info.name, "f16");
  EXPECT_EQ(info.styles, std::vector<std::string>{"style0"});
  EXPECT_EQ(info.title, "Title 0");
  EXPECT_EQ(info.width, 8);
}

TEST(ModelFile, Base64RoundTrip) {
  for (size_t n = 0; n < 10; ++n) {
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<uint8_t>(i * 37 + 200));
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  }
  EXPECT_EQ(base64_encode({'M', 'a', 'n'}), "TWFu");
  EXPECT_THROW(base64_decode("abc"), InputError);
  EXPECT_THROW(base64_decode("ab!="), InputError);
}

TEST(ModelFile, MissingFileIsNotFound) {
  EXPECT_THROW(load_fast_model("/nonexistent/model.safetensors"), NotFoundError);
}

TEST(ModelFile, TruncatedFileGivesAClearError) {
  TempDir dir;
  testing::write_random_model(dir.file("m.safetensors"), 4, 1, 1);
  std::string bytes;
  {
    std::ifstream in(dir.file("m.safetensors"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  {
    std::ofstream out(dir.file("cut.safetensors"), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  const auto message =
      message_of<InputError>([&] { load_fast_model(dir.file("cut.safetensors")); });
  EXPECT_NE(message.find("cut.safetensors"), std::string::npos) << message;
  {
    std::ofstream out(dir.file("text.safetensors"));
    out << "hello, I am not a model";
  }
  EXPECT_THROW(load_fast_model(dir.file("text.safetensors")), InputError);
}

TEST(ModelFile, OtherSafetensorsAreNotFastModels) {
  TempDir dir;
  write_safetensors(dir.file("vgg.safetensors"), {{"features.0.weight", torch::zeros({2, 3})}});
  const auto message =
      message_of<InputError>([&] { load_fast_model(dir.file("vgg.safetensors")); });
  EXPECT_NE(message.find("not a Pastiche fast model"), std::string::npos) << message;
}

TEST(ModelFile, MismatchedShapeNamesTheTensor) {
  TempDir dir;
  auto net = testing::random_net(4, 1, 1);
  auto meta = testing::meta_for(net);
  // Claim a wider network than the tensors hold.
  auto metadata = encode_model_metadata(meta, "float32");
  metadata["network"] = TransformerNetOptions{8, 1, 1}.to_json().dump();
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : net->named_parameters()) tensors[p.key()] = p.value();
  write_safetensors(dir.file("bad.safetensors"), tensors, metadata);
  const auto message =
      message_of<InputError>([&] { load_fast_model(dir.file("bad.safetensors")); });
  EXPECT_NE(message.find("has shape"), std::string::npos) << message;
  EXPECT_NE(message.find("expected"), std::string::npos) << message;

  tensors.erase("in3.gamma");
  metadata["network"] = net->options().to_json().dump();
  write_safetensors(dir.file("missing.safetensors"), tensors, metadata);
  const auto missing =
      message_of<InputError>([&] { load_fast_model(dir.file("missing.safetensors")); });
  EXPECT_NE(missing.find("in3.gamma"), std::string::npos) << missing;
}

TEST(ModelFile, WrongVersionAndMalformedMetadata) {
  TempDir dir;
  auto net = testing::random_net(4, 1, 1);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : net->named_parameters()) tensors[p.key()] = p.value();
  auto metadata = encode_model_metadata(testing::meta_for(net), "float32");
  metadata["format_version"] = "99";
  write_safetensors(dir.file("v99.safetensors"), tensors, metadata);
  const auto message =
      message_of<InputError>([&] { load_fast_model(dir.file("v99.safetensors")); });
  EXPECT_NE(message.find("version 99"), std::string::npos) << message;

  metadata["format_version"] = "1";
  metadata["styles"] = "[not json";
  write_safetensors(dir.file("json.safetensors"), tensors, metadata);
  EXPECT_THROW(load_fast_model(dir.file("json.safetensors")), InputError);

  metadata["styles"] = R"([{"name":"a"},{"name":"b"}])";
  write_safetensors(dir.file("count.safetensors"), tensors, metadata);
  EXPECT_THROW(load_fast_model(dir.file("count.safetensors")), InputError);

  tensors["conv1.conv.weight"] = torch::full_like(tensors["conv1.conv.weight"], NAN);
  metadata = encode_model_metadata(testing::meta_for(net), "float32");
  write_safetensors(dir.file("nan.safetensors"), tensors, metadata);
  EXPECT_THROW(load_fast_model(dir.file("nan.safetensors")), InputError);
}

TEST(ModelFile, StyleWeightsAreNormalisedAndChecked) {
  auto net = testing::random_net(4, 1, 3);
  FastModel model(net, testing::meta_for(net));
  EXPECT_TRUE(torch::equal(model.style_weights({}), torch::tensor({1.0f, 0.0f, 0.0f})));
  EXPECT_TRUE(torch::allclose(model.style_weights({{"style1", 1.0}, {"style2", 3.0}}),
                              torch::tensor({0.0f, 0.25f, 0.75f})));
  EXPECT_THROW(model.style_weights({{"nope", 1.0}}), NotFoundError);
  EXPECT_THROW(model.style_weights({{"style0", 0.0}}), InputError);
  EXPECT_THROW(model.style_weights({{"style0", -1.0}}), InputError);
}

}  // namespace
}  // namespace pastiche
