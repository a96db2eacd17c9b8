// Reader and writer for the safetensors format (8-byte little-endian header length, JSON header,
// raw little-endian tensor data). Used for VGG weights and for Pastiche's own model files.
#pragma once
#include <torch/types.h>

#include <map>
#include <string>

namespace pastiche {

struct SafeTensors {
  std::map<std::string, torch::Tensor> tensors;  // CPU tensors, dtype as stored
  std::map<std::string, std::string> metadata;   // "__metadata__" (string values only)
};

// Reads all tensors (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL). Validates the header
// (offsets inside the file, shapes matching byte counts) and throws InputError naming the file and
// the problem otherwise.
SafeTensors read_safetensors(const std::string& path);
SafeTensors parse_safetensors(const std::string& bytes, const std::string& what = "safetensors");

// Only the header: names -> shapes and dtypes, plus metadata. Cheap for large files.
struct SafeTensorsHeader {
  struct Entry {
    std::string dtype;
    std::vector<int64_t> shape;
  };
  std::map<std::string, Entry> entries;
  std::map<std::string, std::string> metadata;
};
SafeTensorsHeader read_safetensors_header(const std::string& path);

// Writes tensors (made contiguous, moved to CPU) atomically (temporary file + rename).
void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
std::string serialize_safetensors(const std::map<std::string, torch::Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});

}  // namespace pastiche
