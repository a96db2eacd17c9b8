// The job_request fuzz target's function (see job_request_fuzz.cpp for the input layout),
// shared with the replay test in tests/service/fuzz_replay_test.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "image/image_io.h"
#include "service/job_request.h"

namespace pastiche::fuzz {

inline void parse_fields_and_upload(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find(std::string_view("\0\0", 2));
  std::string text(input.substr(0, split));
  std::string_view bytes =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 2);
  service::RequestLimits limits;
  try {
    service::FormFields fields;
    if (!text.empty() && text.front() == '{') {
      fields = service::fields_from_json(text);
    } else {
      size_t pos = 0;
      while (pos <= text.size()) {
        size_t amp = text.find('&', pos);
        if (amp == std::string::npos) amp = text.size();
        std::string item = text.substr(pos, amp - pos);
        size_t eq = item.find('=');
        if (eq != std::string::npos) fields[item.substr(0, eq)] = item.substr(eq + 1);
        pos = amp + 1;
      }
    }
    std::optional<service::JobSpec> spec;
    try {
      spec = service::parse_job_request(fields, limits);
    } catch (const InputError&) {
    }
    if (spec) {
      // An accepted spec must round-trip; any exception here is a bug too.
      try {
        // Its form fields parse back to the same spec.
        auto again = service::parse_job_request(service::request_fields(*spec), limits);
        if (again.params() != spec->params()) std::abort();
        // What is stored reads back exactly, without the form parser (a worker's view).
        auto stored = spec->to_stored();
        auto loaded = service::JobSpec::from_stored(nlohmann::json::parse(stored.dump()));
        if (loaded.to_stored() != stored || loaded.params() != spec->params()) std::abort();
      } catch (...) {
        std::abort();
      }
    }
    try {
      service::parse_stylize_request(fields, limits);
    } catch (const InputError&) {
    }
  } catch (const InputError&) {
  }
  if (!bytes.empty()) {
    try {
      auto header = pastiche::probe_image(bytes);
      if (static_cast<int64_t>(header.width) * header.height <= 1'000'000) {
        ImageLimits small;
        small.max_pixels = 1'000'000;
        small.max_bytes = 1 << 20;
        pastiche::decode_image(bytes, small, "content");
      }
    } catch (const InputError&) {
    }
  }
}

}  // namespace pastiche::fuzz
