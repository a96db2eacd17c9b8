#include "common/safetensors.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "common/error.h"

namespace pastiche {

namespace {

static_assert(sizeof(void*) == 8, "64-bit platform expected");

// Upper bound for the JSON header; real headers are a few kB (the format's reference
// implementation uses 100 MB as well).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  int64_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {"F32", torch::kFloat, 4},  {"F16", torch::kHalf, 2}, {"BF16", torch::kBFloat16, 2},
    {"F64", torch::kDouble, 8}, {"I64", torch::kLong, 8}, {"I32", torch::kInt, 4},
    {"I16", torch::kShort, 2},  {"I8", torch::kChar, 1},  {"U8", torch::kByte, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeInfo& find_dtype(torch::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (type == d.type) return d;
  }
  throw std::invalid_argument(std::string("safetensors: unsupported tensor dtype ") +
                              c10::toString(type));
}

bool host_is_little_endian() {
  const uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

uint64_t read_u64_le(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct ParsedEntry {
  SafeTensorsHeader::Entry entry;
  const DtypeInfo* dtype = nullptr;
  uint64_t begin = 0, end = 0;  // relative to the start of the data section
};

struct ParsedHeader {
  std::map<std::string, ParsedEntry> entries;
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // absolute offset of the data section
};

[[noreturn]] void reject_safetensors(const std::string& what, const std::string& problem) {
  throw InputError("invalid safetensors file " + what + ": " + problem);
}

// Validates the 8-byte length prefix against the total size; returns the header length.
uint64_t check_prefix(const unsigned char* prefix, uint64_t total_size, const std::string& what) {
  if (!host_is_little_endian()) reject_safetensors(what, "big-endian hosts are not supported");
  const uint64_t n = read_u64_le(prefix);
  if (n > kMaxHeaderBytes) {
    reject_safetensors(what, "header length " + std::to_string(n) + " bytes is implausibly large");
  }
  if (n > total_size - 8) {
    reject_safetensors(what, "header length " + std::to_string(n) +
                                 " bytes runs past the end of the file (" +
                                 std::to_string(total_size) + " bytes)");
  }
  if (n < 2)
    reject_safetensors(what,
                       "header length " + std::to_string(n) + " is too short for a JSON object");
  return n;
}

ParsedHeader parse_header(const std::string& json_text, uint64_t total_size,
                          const std::string& what) {
  ParsedHeader out;
  out.data_start = 8 + json_text.size();
  const uint64_t data_size = total_size - out.data_start;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    reject_safetensors(what, std::string("header is not JSON (") + e.what() + ")");
  }
  if (!header.is_object()) reject_safetensors(what, "header is not a JSON object");
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) reject_safetensors(what, "__metadata__ is not an object");
      for (const auto& [key, v] : value.items()) {
        if (!v.is_string())
          reject_safetensors(what, "__metadata__ value for '" + key + "' is not a string");
        out.metadata[key] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!value.is_object()) reject_safetensors(what, where + " is not an object");
    if (!value.contains("dtype") || !value["dtype"].is_string()) {
      reject_safetensors(what, where + " has no dtype string");
    }
    ParsedEntry e;
    e.entry.dtype = value["dtype"].get<std::string>();
    e.dtype = find_dtype(e.entry.dtype);
    if (e.dtype == nullptr)
      reject_safetensors(what, where + " has unsupported dtype " + e.entry.dtype);
    if (!value.contains("shape") || !value["shape"].is_array()) {
      reject_safetensors(what, where + " has no shape array");
    }
    uint64_t elements = 1;
    bool overflow = false;
    for (const auto& dim : value["shape"]) {
      if (!dim.is_number_unsigned())
        reject_safetensors(what, where + " has a non-integer or negative dimension");
      const uint64_t d = dim.get<uint64_t>();
      if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        reject_safetensors(what, where + " has a dimension out of range");
      }
      if (d != 0 && elements > std::numeric_limits<uint64_t>::max() / d) overflow = true;
      elements *= d;
      e.entry.shape.push_back(static_cast<int64_t>(d));
    }
    const auto& offsets = value.contains("data_offsets") ? value["data_offsets"] : nlohmann::json();
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      reject_safetensors(what, where + " has no valid data_offsets [begin, end]");
    }
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    if (e.begin > e.end) reject_safetensors(what, where + " has data_offsets with begin > end");
    if (e.end > data_size) {
      reject_safetensors(what, where + " data_offsets [" + std::to_string(e.begin) + ", " +
                                   std::to_string(e.end) + "] run past the end of the data (" +
                                   std::to_string(data_size) + " bytes)");
    }
    const uint64_t size = static_cast<uint64_t>(e.dtype->size);
    if (overflow || elements > std::numeric_limits<uint64_t>::max() / size ||
        elements * size != e.end - e.begin) {
      reject_safetensors(
          what, where + " shape and dtype need " +
                    (overflow ? std::string("too many") : std::to_string(elements * size)) +
                    " bytes but data_offsets span " + std::to_string(e.end - e.begin));
    }
    out.entries.emplace(name, std::move(e));
  }
  return out;
}

SafeTensorsHeader public_header(const ParsedHeader& parsed) {
  SafeTensorsHeader h;
  for (const auto& [name, e] : parsed.entries) h.entries[name] = e.entry;
  h.metadata = parsed.metadata;
  return h;
}

torch::Tensor empty_for(const ParsedEntry& e) {
  return torch::empty(e.entry.shape, torch::TensorOptions().dtype(e.dtype->type));
}

std::string file_label(const std::string& path) {
  return "'" + path + "'";
}

// Opens a file and validates its header; leaves the stream positioned after the header.
ParsedHeader open_and_parse(const std::string& path, std::ifstream& in) {
  const std::string what = file_label(path);
  std::error_code ec;
  const uint64_t total = std::filesystem::file_size(path, ec);
  if (ec) throw InputError("cannot read safetensors file " + what + ": " + ec.message());
  in.open(path, std::ios::binary);
  if (!in) throw InputError("cannot open safetensors file " + what);
  if (total < 8)
    reject_safetensors(what,
                       "file is " + std::to_string(total) + " bytes, shorter than the header");
  unsigned char prefix[8];
  in.read(reinterpret_cast<char*>(prefix), 8);
  if (!in) reject_safetensors(what, "cannot read the header length");
  const uint64_t n = check_prefix(prefix, total, what);
  std::string json_text(n, '\0');
  in.read(json_text.data(), static_cast<std::streamsize>(n));
  if (!in) reject_safetensors(what, "cannot read the header");
  return parse_header(json_text, total, what);
}

}  // namespace

SafeTensors parse_safetensors(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 8) {
    reject_safetensors(what, std::to_string(bytes.size()) + " bytes, shorter than the header");
  }
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint64_t n = check_prefix(data, bytes.size(), what);
  const ParsedHeader parsed = parse_header(bytes.substr(8, n), bytes.size(), what);
  SafeTensors out;
  out.metadata = parsed.metadata;
  for (const auto& [name, e] : parsed.entries) {
    torch::Tensor t = empty_for(e);
    if (e.end > e.begin) {
      std::memcpy(t.data_ptr(), bytes.data() + parsed.data_start + e.begin, e.end - e.begin);
    }
    out.tensors.emplace(name, std::move(t));
  }
  return out;
}

SafeTensors read_safetensors(const std::string& path) {
  std::ifstream in;
  const ParsedHeader parsed = open_and_parse(path, in);
  SafeTensors out;
  out.metadata = parsed.metadata;
  for (const auto& [name, e] : parsed.entries) {
    torch::Tensor t = empty_for(e);
    if (e.end > e.begin) {
      in.seekg(static_cast<std::streamoff>(parsed.data_start + e.begin));
      in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(e.end - e.begin));
      if (!in)
        reject_safetensors(file_label(path), "cannot read the data of tensor '" + name + "'");
    }
    out.tensors.emplace(name, std::move(t));
  }
  return out;
}

SafeTensorsHeader read_safetensors_header(const std::string& path) {
  std::ifstream in;
  return public_header(open_and_parse(path, in));
}

std::string serialize_safetensors(const std::map<std::string, torch::Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) {
    nlohmann::json meta = nlohmann::json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  std::vector<torch::Tensor> ordered;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {  // std::map: sorted by name
    if (name.empty() || name == "__metadata__") {
      throw std::invalid_argument("safetensors: invalid tensor name '" + name + "'");
    }
    if (!tensor.defined()) {
      throw std::invalid_argument("safetensors: tensor '" + name + "' is undefined");
    }
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    const DtypeInfo& d = find_dtype(t.scalar_type());
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * static_cast<uint64_t>(d.size);
    header[name] = {
        {"dtype", d.name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    ordered.push_back(std::move(t));
  }
  std::string json_text = header.dump();
  json_text.append((8 - (8 + json_text.size()) % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + json_text.size() + offset);
  uint64_t n = json_text.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += json_text;
  for (const auto& t : ordered) {
    out.append(static_cast<const char*>(t.data_ptr()),
               static_cast<size_t>(t.numel()) * t.element_size());
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string bytes = serialize_safetensors(tensors, metadata);
  std::random_device rd;
  const std::string tmp =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd() & 0xffffff);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write '" + tmp + "'");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      out.close();
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error("cannot write '" + path + "' (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  }
}

}  // namespace pastiche
