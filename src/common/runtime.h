// Process-wide compute settings: threads and device. LibTorch on Debian defaults to one
// intra-op thread, so every entry point calls configure_threads() first.
#pragma once
#include <torch/types.h>

#include <string>

namespace pastiche {

// Sets LibTorch's intra-op threads; n <= 0 means all cores. Returns the count in effect.
int configure_threads(int n);

// "auto" picks CUDA when available, else CPU; "cpu" and "cuda" force one (cuda throws if absent).
torch::Device select_device(const std::string& preference = "auto");

struct DeviceInfo {
  std::string device;       // "cpu" or "cuda:0"
  std::string device_name;  // CPU model or GPU name
  int threads = 1;          // intra-op threads
  int cores = 1;            // hardware concurrency
  bool cuda_available = false;
  int cuda_devices = 0;
  std::string torch_version;
  std::string blas;  // BLAS library mapped into the process
  int64_t memory_total_bytes = 0;
  int64_t memory_available_bytes = 0;
  int64_t peak_rss_bytes = 0;
};
DeviceInfo device_info();

// True when the CPU computes bf16 dot products natively (AVX512-BF16 or AMX), where oneDNN
// runs bf16 convolutions about twice as fast as float32.
bool cpu_has_native_bf16();

// Peak resident set size of this process so far, bytes.
int64_t peak_rss_bytes();

}  // namespace pastiche
