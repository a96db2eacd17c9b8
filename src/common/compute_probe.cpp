#include "common/compute_probe.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "common/runtime.h"

namespace pastiche {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Bump when the workload or the stored fields change: older entries then no longer match.
constexpr int kProbeVersion = 1;
constexpr size_t kMaxCachedMachines = 8;

std::string cpuinfo_value(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) return {};
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    return value;
  }
  return {};
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string format_ms(double ms) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(ms < 10 ? 2 : 1) << ms;
  return out.str();
}

std::string format_name(bool bf16, bool channels_last) {
  return std::string(bf16 ? "bf16" : "fp32") + (channels_last ? " channels-last" : " nchw");
}

bool valid_ms(double ms) {
  return std::isfinite(ms) && ms > 0;
}

json to_json(const ComputeProbe& p) {
  return {{"bf16_runs", p.bf16_runs},
          {"bf16_error", p.bf16_error},
          {"cpu_flag", p.cpu_flag},
          {"fp32_nchw_ms", p.timings.fp32_nchw_ms},
          {"fp32_channels_last_ms", p.timings.fp32_channels_last_ms},
          {"bf16_channels_last_ms", p.timings.bf16_channels_last_ms},
          {"cpu_share", p.timings.cpu_share},
          {"probe_ms", p.probe_ms}};
}

// A stored entry, checked field by field: anything missing or out of range is a corrupt cache.
std::optional<ComputeProbe> from_json(const json& j, const std::string& key) {
  if (!j.is_object()) return std::nullopt;
  ComputeProbe p;
  p.key = key;
  p.measured = true;
  p.source = "cache";
  p.bf16_runs = j.at("bf16_runs").get<bool>();
  p.bf16_error = j.at("bf16_error").get<std::string>();
  p.cpu_flag = j.at("cpu_flag").get<bool>();
  auto& t = p.timings;
  t.fp32_nchw_ms = j.at("fp32_nchw_ms").get<double>();
  t.fp32_channels_last_ms = j.at("fp32_channels_last_ms").get<double>();
  t.bf16_channels_last_ms = j.at("bf16_channels_last_ms").get<double>();
  t.cpu_share = j.at("cpu_share").get<double>();
  p.probe_ms = j.at("probe_ms").get<double>();
  const auto zero_or_valid = [](double ms) { return ms == 0 || valid_ms(ms); };
  if (!zero_or_valid(t.fp32_nchw_ms) || !zero_or_valid(t.fp32_channels_last_ms) ||
      !zero_or_valid(t.bf16_channels_last_ms) || !std::isfinite(t.cpu_share) ||
      !std::isfinite(p.probe_ms) || p.bf16_runs != p.bf16_error.empty())
    return std::nullopt;
  decide(p);
  if (p.busy) return std::nullopt;  // never written so
  return p;
}

json read_cache_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return json::object();
  auto doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.value("version", 0) != kProbeVersion || !doc.contains("machines") ||
      !doc["machines"].is_object())
    return json::object();
  return doc;
}

double cpu_time_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

// The probe's workload: one VGG-like 3x3 convolution, 64->64 channels at 96x96, forward (the bulk
// of every network's time). One warm-up run per format (it creates oneDNN's primitive), then 5
// rounds through the formats; the fastest run of each counts. About 0.2 s on 2 Zen 4 cores.
ProbeTimings time_formats(bool with_bf16) {
  c10::InferenceMode not_inference(false);
  torch::NoGradGuard no_grad;
  struct Case {
    torch::Tensor x, w, b;
    double* best;
  };
  ProbeTimings t;
  std::vector<Case> cases;
  const auto add = [&](bool bf16, bool channels_last, double* best) {
    const auto dtype = bf16 ? torch::kBFloat16 : torch::kFloat;
    const auto layout =
        channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
    Case c{torch::rand({1, 64, 96, 96}).to(dtype).contiguous(layout),
           (torch::rand({64, 64, 3, 3}) * 0.05).to(dtype).contiguous(layout),
           torch::zeros({64}, dtype), best};
    (void)torch::conv2d(c.x, c.w, c.b, 1, 1);
    cases.push_back(std::move(c));
  };
  add(false, false, &t.fp32_nchw_ms);
  add(false, true, &t.fp32_channels_last_ms);
  if (with_bf16) add(true, true, &t.bf16_channels_last_ms);
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_time_ms();
  for (int round = 0; round < 5; ++round) {
    for (auto& c : cases) {
      const auto run_start = std::chrono::steady_clock::now();
      (void)torch::conv2d(c.x, c.w, c.b, 1, 1);
      const std::chrono::duration<double, std::milli> ms =
          std::chrono::steady_clock::now() - run_start;
      if (*c.best == 0 || ms.count() < *c.best) *c.best = ms.count();
    }
  }
  const std::chrono::duration<double, std::milli> wall = std::chrono::steady_clock::now() - start;
  t.cpu_share = (cpu_time_ms() - cpu_start) / (wall.count() * torch::get_num_threads());
  return t;
}

std::string try_bf16_conv() {
  try {
    c10::InferenceMode not_inference(false);
    torch::AutoGradMode grad(true);
    const auto cl = torch::MemoryFormat::ChannelsLast;
    auto x = torch::randn({1, 16, 32, 32}).to(torch::kBFloat16).contiguous(cl).requires_grad_();
    auto w = torch::randn({16, 16, 3, 3}).to(torch::kBFloat16).contiguous(cl).requires_grad_();
    torch::conv2d(x, w, {}, 1, 1).sum().backward();
    if (!x.grad().defined() || !w.grad().defined()) return "the bf16 convolution has no gradient";
    return "";
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

std::string ComputeProbe::summary() const {
  std::string choice = format_name(bf16, channels_last);
  if (!bf16_runs && !bf16_error.empty()) choice += " (bf16 cannot run: " + bf16_error + ")";
  if (!measured) return "not measured (PASTICHE_PROBE=off), CPU flag rule -> " + choice;
  const auto& t = timings;
  std::string out = "fp32 nchw " + format_ms(t.fp32_nchw_ms) + " ms, fp32 channels-last " +
                    format_ms(t.fp32_channels_last_ms) + " ms";
  if (valid_ms(t.bf16_channels_last_ms) && valid_ms(t.fp32_channels_last_ms)) {
    const double fp32_ms = std::min(t.fp32_nchw_ms, t.fp32_channels_last_ms);
    out += ", bf16 channels-last " + format_ms(t.bf16_channels_last_ms) + " ms (" +
           format_ms(fp32_ms / t.bf16_channels_last_ms) + "x the faster fp32)";
  }
  if (busy) {
    out += ": other programs held the cores (" + std::to_string(std::lround(t.cpu_share * 100)) +
           "% CPU share), so the CPU flag rule decides, not cached";
  }
  out += " -> " + choice;
  if (source == "cache") return out + " (cached; measured in " + format_ms(probe_ms) + " ms)";
  return out + " (measured in " + format_ms(probe_ms) + " ms)";
}

nlohmann::json ComputeProbe::report() const {
  const auto ms = [](double v) { return v > 0 ? json(v) : json(nullptr); };
  return {{"precision", bf16 ? "bf16" : "fp32"},
          {"layout", channels_last ? "channels-last" : "nchw"},
          {"bf16_runs", bf16_runs},
          {"bf16_error", bf16_runs ? json(nullptr) : json(bf16_error)},
          {"cpu_bf16_flag", cpu_flag},
          {"source", source},
          {"busy", busy},
          {"timings_ms",
           {{"fp32_nchw", ms(timings.fp32_nchw_ms)},
            {"fp32_channels_last", ms(timings.fp32_channels_last_ms)},
            {"bf16_channels_last", ms(timings.bf16_channels_last_ms)}}},
          {"cpu_share", measured ? json(timings.cpu_share) : json(nullptr)},
          {"probe_ms", ms(probe_ms)},
          {"min_speedup", kProbeMinSpeedup},
          {"key", key},
          {"summary", summary()}};
}

void decide(ComputeProbe& p) {
  const auto& t = p.timings;
  p.busy = p.measured && t.cpu_share < kProbeMinCpuShare;
  if (p.busy || !p.measured) {
    p.bf16 = p.bf16_runs && p.cpu_flag;
  } else {
    const double bf16_ms = t.bf16_channels_last_ms * kProbeMinSpeedup;
    p.bf16 = p.bf16_runs && valid_ms(t.bf16_channels_last_ms) && valid_ms(t.fp32_nchw_ms) &&
             valid_ms(t.fp32_channels_last_ms) && bf16_ms <= t.fp32_nchw_ms &&
             bf16_ms <= t.fp32_channels_last_ms;
  }
  p.channels_last = p.bf16;
}

ComputeProbe measure_compute_probe(const ProbeBackend& backend, const std::string& key) {
  const auto start = std::chrono::steady_clock::now();
  ComputeProbe p;
  p.key = key;
  p.measured = true;
  p.source = "measured";
  p.cpu_flag = backend.cpu_flag;
  p.bf16_error = backend.try_bf16();
  p.bf16_runs = p.bf16_error.empty();
  try {
    p.timings = backend.time_formats(p.bf16_runs);
  } catch (const std::exception& e) {
    // Nothing measured: decide() keeps float32.
    spdlog::debug("compute probe: timing failed: {}", e.what());
    p.timings = ProbeTimings{};
  }
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  p.probe_ms = took.count();
  decide(p);
  return p;
}

ComputeProbe flag_rule_probe(bool cpu_flag, const std::string& bf16_error, const std::string& key) {
  ComputeProbe p;
  p.key = key;
  p.source = "flags";
  p.cpu_flag = cpu_flag;
  p.bf16_error = bf16_error;
  p.bf16_runs = bf16_error.empty();
  decide(p);
  return p;
}

ProbeBackend torch_probe_backend() {
  return {try_bf16_conv, time_formats, cpu_has_native_bf16()};
}

std::string compute_probe_key() {
  const auto flags = " " + cpuinfo_value("flags") + " ";
  std::string present;
  for (const char* flag : {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni"}) {
    if (flags.find(std::string(" ") + flag + " ") == std::string::npos) continue;
    present += (present.empty() ? "" : ",") + std::string(flag);
  }
  auto isa = env("ONEDNN_MAX_CPU_ISA");
  if (isa.empty()) isa = env("DNNL_MAX_CPU_ISA");
  return "cpu=" + cpuinfo_value("model name") + ";flags=" + present + ";onednn_max_cpu_isa=" + isa +
         ";torch=" + std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH) +
         ";threads=" + std::to_string(torch::get_num_threads()) +
         ";probe=" + std::to_string(kProbeVersion);
}

std::string compute_probe_cache_path() {
  if (auto path = env("PASTICHE_PROBE_CACHE"); !path.empty()) return path;
  if (auto xdg = env("XDG_CACHE_HOME"); !xdg.empty())
    return (fs::path(xdg) / "pastiche" / "compute-probe.json").string();
  if (auto home = env("HOME"); !home.empty())
    return (fs::path(home) / ".cache" / "pastiche" / "compute-probe.json").string();
  return "";
}

std::optional<ComputeProbe> load_compute_probe(const std::string& path, const std::string& key) {
  if (path.empty()) return std::nullopt;
  try {
    const auto doc = read_cache_file(path);
    if (!doc.contains("machines") || !doc["machines"].contains(key)) return std::nullopt;
    return from_json(doc["machines"][key], key);
  } catch (const std::exception&) {
    return std::nullopt;  // a field of the wrong type: as if there were no cache
  }
}

bool save_compute_probe(const std::string& path, const ComputeProbe& probe) {
  if (path.empty() || !probe.measured || probe.busy) return false;
  try {
    auto doc = read_cache_file(path);
    auto& machines = doc["machines"];
    if (!machines.is_object()) machines = json::object();
    while (machines.size() >= kMaxCachedMachines && !machines.contains(probe.key))
      machines.erase(machines.begin());
    machines[probe.key] = to_json(probe);
    doc["version"] = kProbeVersion;
    std::error_code ec;
    const auto parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    // Written aside and renamed over, so a concurrent reader sees the old file or the new one.
    const auto tmp = path + ".tmp." + std::to_string(getpid());
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << doc.dump(1) << "\n";
      if (!out.flush()) {
        fs::remove(tmp, ec);
        return false;
      }
    }
    fs::rename(tmp, path, ec);
    if (!ec) return true;
    fs::remove(tmp, ec);
    return false;
  } catch (const std::exception&) {
    return false;
  }
}

ComputeProbe cached_compute_probe(const std::string& path, const std::string& key,
                                  const ProbeBackend& backend) {
  if (auto cached = load_compute_probe(path, key)) return *cached;
  auto probe = measure_compute_probe(backend, key);
  if (!probe.busy && !save_compute_probe(path, probe))
    spdlog::debug("compute probe: could not write the cache '{}'", path);
  return probe;
}

const std::string& cpu_bf16_error() {
  static const std::string error = try_bf16_conv();
  return error;
}

const ComputeProbe& cpu_compute_probe() {
  static const ComputeProbe probe = [] {
    const auto key = compute_probe_key();
    ComputeProbe p;
    if (env("PASTICHE_PROBE") == "off") {
      p = flag_rule_probe(cpu_has_native_bf16(), cpu_bf16_error(), key);
    } else {
      auto backend = torch_probe_backend();
      backend.try_bf16 = [] { return cpu_bf16_error(); };
      p = cached_compute_probe(compute_probe_cache_path(), key, backend);
    }
    spdlog::debug("compute probe: {}", p.summary());
    return p;
  }();
  return probe;
}

}  // namespace pastiche
