#include "common/runtime.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "common/error.h"

namespace pastiche {

int configure_threads(int n) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = n > 0 ? n : cores;
  torch::set_num_threads(threads);
  return torch::get_num_threads();
}

torch::Device select_device(const std::string& preference) {
  if (preference == "cpu") return torch::kCPU;
  if (preference == "cuda") {
    if (!torch::cuda::is_available())
      throw InputError("device 'cuda' requested but no CUDA device is available; use --device cpu");
    return torch::Device(torch::kCUDA, 0);
  }
  if (preference != "auto")
    throw InputError("unknown device '" + preference + "' (expected auto, cpu or cuda)");
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

namespace {

std::string read_first_match(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      auto colon = line.find(':');
      if (colon == std::string::npos) return {};
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return {};
}

int64_t meminfo_kb(const std::string& key) {
  auto value = read_first_match("/proc/meminfo", key);
  return value.empty() ? 0 : std::stoll(value);
}

std::string mapped_blas() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    for (const char* name : {"openblas", "libblas", "mkl", "blis"}) {
      if (line.find(name) != std::string::npos) return line.substr(line.find('/'));
    }
  }
  return "unknown";
}

}  // namespace

bool cpu_has_native_bf16() {
  static const bool has = [] {
    const auto flags = " " + read_first_match("/proc/cpuinfo", "flags") + " ";
    return flags.find(" avx512_bf16 ") != std::string::npos ||
           flags.find(" amx_bf16 ") != std::string::npos;
  }();
  return has;
}

torch::Tensor ComputeFormat::apply(const torch::Tensor& x) const {
  return x.to(dtype).contiguous(memory_format());
}

ComputeFormat resolve_compute_format(Precision precision, MemoryLayout layout, torch::Device device,
                                     const ComputeProbe& cpu) {
  const bool on_cpu = device.is_cpu();
  if (precision == Precision::bf16 && on_cpu && !cpu.bf16_runs) {
    const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
    throw InputError(std::string("--precision bf16 is not supported by this CPU") +
                     (cap && *cap
                          ? std::string(" under its oneDNN ISA cap ONEDNN_MAX_CPU_ISA=") + cap
                          : std::string(" and its oneDNN build")) +
                     ": a bf16 convolution cannot run (" +
                     (cpu.bf16_error.empty() ? std::string("not checked") : cpu.bf16_error) +
                     "); use --precision fp32 or auto");
  }
  ComputeFormat f;
  const bool bf16 =
      precision == Precision::bf16 || (precision == Precision::automatic && on_cpu && cpu.bf16);
  f.dtype = bf16 ? torch::kBFloat16 : torch::kFloat;
  // Automatic layout: channels-last for bf16 on the CPU (the probe measured bf16 there); float32
  // stays NCHW (a whole Gatys run is no faster channels-last, natively or capped at AVX2).
  f.channels_last =
      layout == MemoryLayout::automatic ? on_cpu && bf16 : layout == MemoryLayout::channels_last;
  return f;
}

ComputeFormat resolve_compute_format(Precision precision, MemoryLayout layout,
                                     torch::Device device) {
  if (!device.is_cpu()) return resolve_compute_format(precision, layout, device, ComputeProbe{});
  if (precision == Precision::automatic)
    return resolve_compute_format(precision, layout, device, cpu_compute_probe());
  ComputeProbe runs;  // an explicit precision: only whether bf16 runs at all matters
  if (precision == Precision::bf16) {
    runs.bf16_error = cpu_bf16_error();
    runs.bf16_runs = runs.bf16_error.empty();
  }
  return resolve_compute_format(precision, layout, device, runs);
}

bool set_thread_idle_priority() {
#ifdef SCHED_IDLE
  sched_param param{};
  param.sched_priority = 0;
  return sched_setscheduler(0, SCHED_IDLE, &param) == 0;  // 0 = the calling thread
#else
  return false;
#endif
}

namespace {
// tcmalloc's C entry point, looked up at run time so the core library needs no link to it (the
// fuzzer's sanitizer build brings its own malloc).
using ReleaseFn = void (*)();
ReleaseFn tcmalloc_release() {
  static const auto fn =
      reinterpret_cast<ReleaseFn>(dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"));
  return fn;
}
}  // namespace

std::string memory_allocator() {
  return tcmalloc_release() ? "tcmalloc" : "glibc";
}

void release_free_memory() {
  if (auto release = tcmalloc_release())
    release();
  else
    malloc_trim(0);
}

int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

DeviceInfo device_info() {
  DeviceInfo info;
  const auto device = select_device("auto");
  info.device = device.str();
  info.cuda_available = torch::cuda::is_available();
  info.cuda_devices = static_cast<int>(torch::cuda::device_count());
  info.device_name = read_first_match("/proc/cpuinfo", "model name");
  info.threads = torch::get_num_threads();
  info.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  info.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                       std::to_string(TORCH_VERSION_MINOR) + "." +
                       std::to_string(TORCH_VERSION_PATCH);
  info.blas = mapped_blas();
  info.allocator = memory_allocator();
  info.memory_total_bytes = meminfo_kb("MemTotal") * 1024;
  info.memory_available_bytes = meminfo_kb("MemAvailable") * 1024;
  info.peak_rss_bytes = peak_rss_bytes();
  if (device.is_cpu()) info.compute = cpu_compute_probe();
  return info;
}

}  // namespace pastiche
