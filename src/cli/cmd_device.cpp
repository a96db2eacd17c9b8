// `pastiche device [--json] [--reprobe]`: the machine as Pastiche sees it, and why automatic
// precision and layout are what they are (the compute probe's figures, common/compute_probe.h).
#include <cstdio>
#include <iostream>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "common/compute_probe.h"
#include "common/runtime.h"
#include "fast/int8_conv.h"

namespace pastiche::cli {
namespace {

struct DeviceArgs {
  ComputeArgs compute;
  bool json = false;
  bool reprobe = false;
};

std::string gib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / (1 << 30));
  return text;
}

void show(const DeviceArgs& args) {
  configure_threads(args.compute.threads);
  const auto cache = compute_probe_cache_path();
  if (args.reprobe) {
    // Measured afresh and stored, so device_info() below (and every later run) reads it.
    const auto probe = measure_compute_probe(torch_probe_backend(), compute_probe_key());
    if (probe.busy)
      std::cerr << "warning: other programs held the cores while measuring; not cached: "
                << probe.summary() << "\n";
    else if (!save_compute_probe(cache, probe))
      std::cerr << "warning: could not write the probe cache '" << cache << "'\n";
  }
  const auto d = device_info();
  // What fast transfer's int8 = auto does here (fast/int8_conv.h).
  const bool int8_runs = d.device == "cpu" && int8_convolution_error().empty();
  const bool int8_auto =
      int8_runs && int8_by_default(resolve_compute_format(Precision::automatic,
                                                          MemoryLayout::automatic, torch::kCPU),
                                   torch::kCPU, kInt8MinSide);
  nlohmann::json int8 = nullptr;
  if (d.device == "cpu") {
    int8 = {
        {"runs", int8_runs}, {"error", int8_convolution_error()}, {"fast_automatic", int8_auto}};
    if (int8_auto) int8["fast_min_side"] = kInt8MinSide;
    if (int8_runs) {
      int8["activation_levels"] = int8_levels().activation;
      int8["weight_levels"] = 2 * int8_levels().weight + 1;
    }
  }
  if (args.json) {
    print_json({{"device", d.device},
                {"device_name", d.device_name},
                {"threads", d.threads},
                {"cores", d.cores},
                {"cuda_available", d.cuda_available},
                {"cuda_devices", d.cuda_devices},
                {"torch_version", d.torch_version},
                {"blas", d.blas},
                {"allocator", d.allocator},
                {"memory_total_bytes", d.memory_total_bytes},
                {"memory_available_bytes", d.memory_available_bytes},
                {"compute", d.device == "cpu" ? d.compute.report() : nlohmann::json(nullptr)},
                {"int8", int8},
                {"probe_cache", cache}});
    return;
  }
  std::cout << "device:      " << d.device << " (" << d.device_name << ")\n"
            << "threads:     " << d.threads << " of " << d.cores << " cores\n"
            << "torch:       " << d.torch_version << ", BLAS " << d.blas << ", allocator "
            << d.allocator << "\n"
            << "memory:      " << gib(d.memory_available_bytes) << " available of "
            << gib(d.memory_total_bytes) << "\n";
  if (d.device != "cpu") {
    std::cout << "automatic:   fp32 nchw (CUDA)\n";
    return;
  }
  const auto& c = d.compute;
  std::cout << "automatic:   " << (c.bf16 ? "bf16" : "fp32") << " "
            << (c.channels_last ? "channels-last" : "nchw") << "\n"
            << "probe:       " << c.summary() << "\n"
            << "probe cache: " << (cache.empty() ? "none (no HOME)" : cache) << "\n"
            << "fast int8:   ";
  if (!int8_runs) {
    std::cout << "does not run (" << int8_convolution_error() << ")\n";
    return;
  }
  std::cout << (int8_auto ? "on by default from " + std::to_string(kInt8MinSide) + " px"
                          : std::string("off by default (slower than bf16 here)"))
            << "; " << int8_levels().activation << " activation levels, weights within +-"
            << int8_levels().weight << "\n";
}

const bool device_registered = register_command(80, [](CLI::App& app) {
  auto args = std::make_shared<DeviceArgs>();
  auto* cmd = app.add_subcommand(
      "device", "Show the compute device and the measured automatic precision and layout");
  add_compute_flags(cmd, args->compute, /*with_device=*/false);
  cmd->add_flag("--json", args->json, "Print one JSON object on stdout");
  cmd->add_flag("--reprobe", args->reprobe,
                "Measure bf16 and float32 afresh and update the probe cache");
  cmd->callback([args] { show(*args); });
});

}  // namespace
}  // namespace pastiche::cli
