// Measures, once per machine, whether bf16 convolutions run under oneDNN's ISA cap and which
// format runs them fastest, so automatic precision and layout are measured, not assumed from a
// CPU flag (issue 27: AVX2-capped oneDNN cannot create bf16 primitives; AVX512-BF16 without AMX
// was only 1.1x faster than float32 on one Intel CPU).
#pragma once
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace pastiche {

// bf16 is chosen only when at least this much faster than float32, which is the safe default.
inline constexpr double kProbeMinSpeedup = 1.15;
// Below this share of its threads' time on the cores (other programs running) the timings are
// noise: the CPU flag rule decides instead, and the result is not cached.
inline constexpr double kProbeMinCpuShare = 0.7;

// The probe's workload in each format: the fastest of its runs, ms; 0 = not measured.
struct ProbeTimings {
  double fp32_nchw_ms = 0;
  double fp32_channels_last_ms = 0;
  double bf16_channels_last_ms = 0;
  double cpu_share = 1;  // CPU time / (wall time x threads) while timing
};

// What the probe found for the CPU, and the automatic choice it implies.
struct ComputeProbe {
  std::string key;         // the machine it holds for (compute_probe_key())
  bool bf16_runs = false;  // a bf16 channels-last convolution and its backward ran
  std::string bf16_error;  // why not, when it did not
  bool cpu_flag = false;   // /proc/cpuinfo lists avx512_bf16 or amx_bf16
  bool measured = false;   // false: PASTICHE_PROBE=off, the CPU flag rule decided
  bool busy = false;       // measured, but while other programs held the cores: flag rule
  ProbeTimings timings;
  double probe_ms = 0;         // how long measuring took (when it was measured)
  std::string source;          // "measured", "cache" or "flags"
  bool bf16 = false;           // the automatic choice: bf16 channels-last, else fp32 NCHW
  bool channels_last = false;  // (float32 stays NCHW: measured faster over whole networks)
  // "fp32 nchw 18 ms, fp32 channels-last 9.7 ms, bf16 channels-last 1.8 ms (5.5x fp32) -> bf16
  // channels-last (measured in 320 ms)", for logs and `pastiche device`.
  std::string summary() const;
  // The choice, the figures and where they came from, for `pastiche device --json` and
  // /api/device.
  nlohmann::json report() const;
};

// How the probe touches the machine; tests substitute fakes for it.
struct ProbeBackend {
  // Runs a tiny bf16 channels-last convolution and its backward: "" when it ran, else the error.
  std::function<std::string()> try_bf16;
  // Times a VGG-like 3x3 convolution (64->64 channels, 96x96) in fp32 NCHW, fp32 channels-last
  // and (when asked) bf16 channels-last, interleaved so that a disturbance hits all of them.
  std::function<ProbeTimings(bool with_bf16)> time_formats;
  bool cpu_flag = false;  // the rule when the machine is busy
};
// The real one, on LibTorch and oneDNN.
ProbeBackend torch_probe_backend();

// Sets the choice (bf16, channels_last) from the figures: bf16 channels-last when bf16 runs and is
// at least kProbeMinSpeedup faster than float32 in both layouts (channels-last compares the
// arithmetic alone; a lone NCHW convolution pays reorders a network partly hides); when busy,
// bf16 when it runs and the CPU has the flag.
void decide(ComputeProbe& probe);
// Runs the backend and decides (source "measured").
ComputeProbe measure_compute_probe(const ProbeBackend& backend, const std::string& key);
// The rule before measuring (PASTICHE_PROBE=off): bf16 channels-last when the CPU has the bf16
// flag and bf16 runs (source "flags").
ComputeProbe flag_rule_probe(bool cpu_flag, const std::string& bf16_error, const std::string& key);

// CPU model, the bf16-relevant cpuinfo flags, ONEDNN_MAX_CPU_ISA, torch version, thread count.
std::string compute_probe_key();
// $PASTICHE_PROBE_CACHE, else $XDG_CACHE_HOME/pastiche/compute-probe.json, else
// ~/.cache/pastiche/compute-probe.json; "" when there is no home.
std::string compute_probe_cache_path();

// The result cached for key in the JSON file at path; nullopt when absent, corrupt or another
// machine's. Never throws.
std::optional<ComputeProbe> load_compute_probe(const std::string& path, const std::string& key);
// Adds probe under its key (replacing the atomically written file); false when it cannot. Never
// throws.
bool save_compute_probe(const std::string& path, const ComputeProbe& probe);
// The cached result for key, else a fresh measurement, then cached (unless busy).
ComputeProbe cached_compute_probe(const std::string& path, const std::string& key,
                                  const ProbeBackend& backend);

// The CPU's result for this process: computed once, thread-safe, from the cache file when it
// holds this machine's key (PASTICHE_PROBE=off: the flag rule, still checking bf16 runs).
const ComputeProbe& cpu_compute_probe();
// Whether a bf16 convolution runs on this CPU: "" when it does, else the error. Once per process.
const std::string& cpu_bf16_error();

}  // namespace pastiche
