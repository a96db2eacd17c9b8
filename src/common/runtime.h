// Process-wide compute settings: threads and device. LibTorch on Debian defaults to one
// intra-op thread, so every entry point calls configure_threads() first.
#pragma once
#include <torch/types.h>

#include <string>

#include "common/compute_probe.h"
#include "common/enum_names.h"

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
  std::string blas;       // BLAS library mapped into the process
  std::string allocator;  // "tcmalloc" or "glibc" (see memory_allocator())
  int64_t memory_total_bytes = 0;
  int64_t memory_available_bytes = 0;
  int64_t peak_rss_bytes = 0;
  ComputeProbe compute;  // the CPU's automatic precision and layout, and the figures behind them
};
DeviceInfo device_info();

// True when the CPU has bf16 dot-product instructions (AVX512-BF16 or AMX) in /proc/cpuinfo: a
// flag, not a measurement (oneDNN capped below them by ONEDNN_MAX_CPU_ISA cannot use them).
bool cpu_has_native_bf16();

// What the convolution networks compute in. auto = on the CPU, what the compute probe measured
// (compute_probe.h): bf16 when it runs and is at least 1.15x faster than float32 (2x with
// AVX512-BF16 on Zen 4, about 10x with AMX), float32 elsewhere; float32 on CUDA.
enum class Precision { automatic, fp32, bf16 };
inline constexpr EnumName<Precision> kPrecisionNames[] = {{Precision::automatic, "auto"},
                                                          {Precision::fp32, "fp32"},
                                                          {Precision::bf16, "bf16"},
                                                          {Precision::fp32, "float32", true},
                                                          {Precision::bf16, "bfloat16", true}};
inline const char* to_string(Precision p) {
  return enum_to_string(kPrecisionNames, p);
}
inline Precision parse_precision(const std::string& s) {
  return enum_from_string(kPrecisionNames, "precision", s);
}

// Tensor layout for the convolution networks. auto = channels-last for bf16 on the CPU: 3-15x
// faster than NCHW with AMX, 1.2-1.9x with AVX512-BF16 alone (AMD Zen 4, bench/RESULTS.md);
// NCHW elsewhere (float32 Gatys runs as fast on NCHW, natively and with oneDNN capped at AVX2,
// though a lone convolution is faster channels-last; CUDA picks its own kernels).
enum class MemoryLayout { automatic, nchw, channels_last };
inline constexpr EnumName<MemoryLayout> kMemoryLayoutNames[] = {
    {MemoryLayout::automatic, "auto"},
    {MemoryLayout::nchw, "nchw"},
    {MemoryLayout::channels_last, "channels-last"},
    {MemoryLayout::nchw, "contiguous", true},
    {MemoryLayout::channels_last, "channels_last", true}};
inline const char* to_string(MemoryLayout layout) {
  return enum_to_string(kMemoryLayoutNames, layout);
}
inline MemoryLayout parse_memory_layout(const std::string& s) {
  return enum_from_string(kMemoryLayoutNames, "layout", s);
}

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
// The automatic choices come from cpu_compute_probe() on the CPU (measured once per machine).
// Explicit bf16 on a CPU where a bf16 convolution cannot run throws InputError.
ComputeFormat resolve_compute_format(Precision precision, MemoryLayout layout,
                                     torch::Device device);
// The same rule with the CPU's probe given (tests simulate CPUs through it).
ComputeFormat resolve_compute_format(Precision precision, MemoryLayout layout, torch::Device device,
                                     const ComputeProbe& cpu);

// Moves the calling thread (and the threads it starts later, such as LibTorch's OpenMP pool,
// which inherit it) to Linux's SCHED_IDLE class: it then runs only when no normal thread wants
// the CPU. The service's job workers use it so request threads answer in milliseconds while
// both cores are busy stylising. Returns false where the system refuses.
bool set_thread_idle_priority();

// The malloc serving this process: "tcmalloc" when the executable links gperftools' tcmalloc (the
// default build does), else "glibc". Why it matters: every training step, Gatys evaluation and
// video frame frees and re-allocates the same tensor-sized buffers. glibc hands each one over
// 32 MB back to the kernel and the next step faults its pages in again, zero-filled: on a 2-core
// VM that was two thirds of a Gatys run at 1024 px and 40% of a paper-network inference.
// tcmalloc keeps them for reuse, with a lower peak (bench/RESULTS.md, "Memory allocator").
std::string memory_allocator();

// Gives memory the allocator holds but no longer uses back to the system (a service calls it when
// a job ends, so an idle server does not sit on a Gatys run's peak).
void release_free_memory();

// Peak resident set size of this process so far, bytes.
int64_t peak_rss_bytes();

}  // namespace pastiche
