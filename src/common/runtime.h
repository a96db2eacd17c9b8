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

// What the convolution networks compute in. auto = bf16 on CPUs with native bf16 dot products
// (float32 accumulation; 2x faster, about 10x with AMX), float32 elsewhere.
enum class Precision { automatic, fp32, bf16 };
const char* to_string(Precision p);
Precision parse_precision(const std::string& s);  // auto|fp32|bf16

// Tensor layout for the convolution networks. auto = channels-last for bf16 on the CPU: 3-15x
// faster than NCHW with AMX, 1.2-1.9x with AVX512-BF16 alone (AMD Zen 4, bench/RESULTS.md);
// NCHW elsewhere (float32 measured as fast or faster on NCHW, and CUDA picks its own kernels).
enum class MemoryLayout { automatic, nchw, channels_last };
const char* to_string(MemoryLayout layout);
MemoryLayout parse_memory_layout(const std::string& s);  // auto|nchw|channels-last

// A resolved (dtype, layout) pair for network inputs.
struct ComputeFormat {
  torch::ScalarType dtype = torch::kFloat;
  bool channels_last = false;
  bool bf16() const { return dtype == torch::kBFloat16; }
  torch::MemoryFormat memory_format() const {
    return channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  }
  // x cast to dtype and laid out accordingly.
  torch::Tensor apply(const torch::Tensor& x) const;
  std::string precision_name() const { return bf16() ? "bf16" : "fp32"; }
  std::string layout_name() const { return channels_last ? "channels-last" : "nchw"; }
};
ComputeFormat resolve_compute_format(Precision precision, MemoryLayout layout,
                                     torch::Device device);

// Moves the calling thread (and the threads it starts later, such as LibTorch's OpenMP pool,
// which inherit it) to Linux's SCHED_IDLE class: it then runs only when no normal thread wants
// the CPU. The service's job workers use it so request threads answer in milliseconds while
// both cores are busy stylising. Returns false where the system refuses.
bool set_thread_idle_priority();

// Peak resident set size of this process so far, bytes.
int64_t peak_rss_bytes();

}  // namespace pastiche
