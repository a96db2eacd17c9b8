#include "common/safetensors.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/fixtures.h"

namespace pastiche {
namespace {

using testing::write_file;

std::string with_header(const std::string& json, const std::string& data) {
  std::string out;
  const uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + json + data;
}

std::string safetensors_error(const std::string& bytes) {
  try {
    parse_safetensors(bytes, "test.safetensors");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SafeTensors, RoundTripAllDtypesAndMetadata) {
  testing::TempDir dir;
  std::map<std::string, torch::Tensor> tensors;
  tensors["f32"] = torch::randn({2, 3});
  tensors["f16"] = torch::randn({4}).to(torch::kHalf);
  tensors["bf16"] = torch::randn({2, 2}).to(torch::kBFloat16);
  tensors["f64"] = torch::randn({3, 1, 2}, torch::kDouble);
  tensors["i64"] = torch::tensor(std::vector<int64_t>{-5, 7, int64_t{1} << 40});
  tensors["i32"] = torch::tensor({-1, 2, 3}, torch::kInt);
  tensors["i16"] = torch::tensor({-300, 300}, torch::kShort);
  tensors["i8"] = torch::tensor({-100, 100}, torch::kChar);
  tensors["u8"] = torch::tensor({0, 255}, torch::kByte);
  tensors["bool"] = torch::tensor({true, false, true}, torch::kBool);
  tensors["scalar"] = torch::tensor(2.5f);
  tensors["empty"] = torch::zeros({0, 3});
  tensors["strided"] = torch::arange(12, torch::kFloat).view({3, 4}).t();  // non-contiguous
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"arch", "vgg19"}};
  const std::string path = dir.file("all.safetensors");
  write_safetensors(path, tensors, meta);

  const SafeTensors back = read_safetensors(path);
  EXPECT_EQ(back.metadata, meta);
  ASSERT_EQ(back.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    SCOPED_TRACE(name);
    const torch::Tensor& b = back.tensors.at(name);
    EXPECT_EQ(b.scalar_type(), t.scalar_type());
    EXPECT_EQ(b.sizes(), t.sizes());
    EXPECT_TRUE(torch::equal(b, t));
  }
  const SafeTensorsHeader header = read_safetensors_header(path);
  EXPECT_EQ(header.entries.at("bf16").dtype, "BF16");
  EXPECT_EQ(header.entries.at("f64").shape, (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(header.entries.at("scalar").shape, std::vector<int64_t>{});
  EXPECT_EQ(header.metadata, meta);

  const SafeTensors parsed = parse_safetensors(serialize_safetensors(tensors, meta));
  EXPECT_TRUE(torch::equal(parsed.tensors.at("i64"), tensors.at("i64")));
}

TEST(SafeTensors, HeaderIsPaddedAndSorted) {
  const std::string bytes =
      serialize_safetensors({{"b", torch::ones({1})}, {"a", torch::zeros({3})}}, {{"k", "v"}});
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ((8 + n) % 8, 0u);
  const std::string json = bytes.substr(8, n);
  EXPECT_EQ(json[json.find_last_not_of(' ')], '}');  // padding is trailing spaces
  const auto header = nlohmann::json::parse(json);
  EXPECT_EQ(header["__metadata__"]["k"], "v");
  EXPECT_EQ(header["a"]["data_offsets"], nlohmann::json::array({0, 12}));  // sorted: a first
  EXPECT_EQ(header["b"]["data_offsets"], nlohmann::json::array({12, 16}));
  EXPECT_EQ(bytes.size(), 8 + n + 16);
}

TEST(SafeTensors, WriteIsAtomicAndLeavesNoTemporaries) {
  testing::TempDir dir;
  const std::string path = dir.file("x.safetensors");
  write_safetensors(path, {{"x", torch::ones({2})}});
  write_safetensors(path, {{"x", torch::zeros({3})}});  // replaces
  EXPECT_EQ(read_safetensors(path).tensors.at("x").numel(), 3);
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(SafeTensors, CorruptInputsAreInputErrors) {
  const std::string good_json = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string data(8, '\0');
  EXPECT_NO_THROW(parse_safetensors(with_header(good_json, data)));

  EXPECT_NE(safetensors_error("abc").find("shorter than the header"), std::string::npos);
  // Header length larger than the file.
  std::string too_long = with_header(good_json, data);
  too_long[0] = static_cast<char>(0xff);
  too_long[1] = static_cast<char>(0x7f);
  EXPECT_NE(safetensors_error(too_long).find("past the end"), std::string::npos);
  // Absurd header length.
  std::string huge = with_header(good_json, data);
  huge[7] = 0x10;
  EXPECT_NE(safetensors_error(huge).find("implausibly large"), std::string::npos);
  // Offsets past the end of the data.
  EXPECT_NE(safetensors_error(
                with_header(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data))
                .find("past the end"),
            std::string::npos);
  // Shape and byte count disagree.
  EXPECT_NE(safetensors_error(
                with_header(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data))
                .find("bytes"),
            std::string::npos);
  EXPECT_NE(safetensors_error(
                with_header(R"({"x":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", data))
                .find("span 8"),
            std::string::npos);
  // begin > end.
  EXPECT_NE(safetensors_error(
                with_header(R"({"x":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}})", data))
                .find("begin > end"),
            std::string::npos);
  // Not JSON / not an object / bad fields.
  EXPECT_NE(safetensors_error(with_header("{not json}", data)).find("not JSON"), std::string::npos);
  EXPECT_NE(safetensors_error(with_header("[1, 2]", data)).find("not a JSON object"),
            std::string::npos);
  EXPECT_NE(safetensors_error(
                with_header(R"({"x":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", data))
                .find("unsupported dtype Q7"),
            std::string::npos);
  EXPECT_NE(safetensors_error(
                with_header(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data))
                .find("negative"),
            std::string::npos);
  EXPECT_NE(safetensors_error(with_header(R"({"x":{"dtype":"F32","shape":[2]}})", data))
                .find("data_offsets"),
            std::string::npos);
  EXPECT_NE(
      safetensors_error(with_header(R"({"__metadata__":{"a":1}})", data)).find("not a string"),
      std::string::npos);
  // Overflowing shapes must not wrap around to a matching byte count.
  EXPECT_NE(
      safetensors_error(with_header(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,2],)"
                                    R"("data_offsets":[0,8]}})",
                                    data)),
      "no error");
}

TEST(SafeTensors, FileErrorsNameTheFile) {
  testing::TempDir dir;
  const std::string path = dir.file("broken.safetensors");
  write_file(path, with_header("{oops", "12345678"));
  try {
    read_safetensors(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.safetensors"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_safetensors_header(path), InputError);
  EXPECT_THROW(read_safetensors(dir.file("missing.safetensors")), InputError);
}

}  // namespace
}  // namespace pastiche
