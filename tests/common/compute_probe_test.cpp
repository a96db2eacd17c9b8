// The compute probe decides automatic precision and layout from measurements; these tests
// simulate CPUs through a fake backend, so they hold on any host and assert no timings.
#include "common/compute_probe.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/error.h"
#include "common/fixtures.h"
#include "common/runtime.h"

namespace pastiche {
namespace {

using testing::TempDir;
using testing::write_file;

constexpr const char* kNoPrimitive = "could not create a primitive descriptor iterator";

// A simulated CPU: whether bf16 runs and how long each format takes; counts what it is asked.
struct FakeCpu {
  std::string bf16_error;
  ProbeTimings ms{10.0, 8.0, 4.0};  // cpu_share 1: a quiet machine
  bool flag = true;
  int bf16_tries = 0;
  int timings = 0;
  bool asked_bf16_time = false;

  ProbeBackend backend() {
    return {[this] {
              ++bf16_tries;
              return bf16_error;
            },
            [this](bool with_bf16) {
              ++timings;
              asked_bf16_time = asked_bf16_time || with_bf16;
              auto t = ms;
              if (!with_bf16) t.bf16_channels_last_ms = 0;
              return t;
            },
            flag};
  }
};

// Sets an environment variable for one scope and restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ComputeProbe, AutomaticFallsBackToFp32WhenBf16PrimitivesCannotBeCreated) {
  FakeCpu cpu;  // bf16 would be twice as fast, if it could run
  cpu.bf16_error = kNoPrimitive;
  const auto probe = measure_compute_probe(cpu.backend(), "capped");
  EXPECT_FALSE(probe.bf16_runs);
  EXPECT_EQ(probe.bf16_error, kNoPrimitive);
  EXPECT_FALSE(cpu.asked_bf16_time);  // never timed: it would throw
  EXPECT_FALSE(probe.bf16);
  const auto f =
      resolve_compute_format(Precision::automatic, MemoryLayout::automatic, torch::kCPU, probe);
  EXPECT_EQ(f.dtype, torch::kFloat);
  EXPECT_FALSE(f.channels_last);
  EXPECT_NE(probe.summary().find(kNoPrimitive), std::string::npos) << probe.summary();
}

TEST(ComputeProbe, Bf16IsChosenOnlyWhenMeaningfullyFaster) {
  FakeCpu fast;  // 2x: bf16 channels-last
  auto probe = measure_compute_probe(fast.backend(), "k");
  EXPECT_TRUE(probe.bf16);
  EXPECT_TRUE(probe.channels_last);
  EXPECT_FALSE(probe.busy);
  auto f =
      resolve_compute_format(Precision::automatic, MemoryLayout::automatic, torch::kCPU, probe);
  EXPECT_EQ(f.dtype, torch::kBFloat16);
  EXPECT_TRUE(f.channels_last);
  // Explicit fp32 on the same CPU stays NCHW; an explicit layout always wins.
  EXPECT_FALSE(resolve_compute_format(Precision::fp32, MemoryLayout::automatic, torch::kCPU, probe)
                   .channels_last);
  EXPECT_FALSE(resolve_compute_format(Precision::automatic, MemoryLayout::nchw, torch::kCPU, probe)
                   .channels_last);
  // CUDA picks its own kernels: the CPU's probe does not apply.
  f = resolve_compute_format(Precision::automatic, MemoryLayout::automatic,
                             torch::Device(torch::kCUDA, 0), probe);
  EXPECT_EQ(f.dtype, torch::kFloat);
  EXPECT_FALSE(f.channels_last);

  FakeCpu marginal;  // the Intel AVX512-BF16 CPU without AMX: 1.1x
  marginal.ms = {11.0, 11.0, 10.0};
  probe = measure_compute_probe(marginal.backend(), "k");
  EXPECT_TRUE(probe.bf16_runs);
  EXPECT_FALSE(probe.bf16);
  EXPECT_FALSE(probe.channels_last);
  f = resolve_compute_format(Precision::automatic, MemoryLayout::automatic, torch::kCPU, probe);
  EXPECT_EQ(f.dtype, torch::kFloat);
  EXPECT_FALSE(f.channels_last);

  // bf16 must beat float32 in both layouts: 2x a lone NCHW convolution, 1.1x channels-last.
  FakeCpu reorders;
  reorders.ms = {20.0, 11.0, 10.0};
  EXPECT_FALSE(measure_compute_probe(reorders.backend(), "k").bf16);
}

TEST(ComputeProbe, ABusyMachineFallsBackToTheFlagRuleAndIsNotCached) {
  TempDir dir;
  const auto path = dir.file("compute-probe.json");
  FakeCpu busy;
  busy.ms = {16.0, 16.0, 16.0, 0.5};  // the second thread waited for a core: all alike
  auto probe = cached_compute_probe(path, "k", busy.backend());
  EXPECT_TRUE(probe.busy);
  EXPECT_TRUE(probe.bf16);  // the CPU has the flag and bf16 runs
  EXPECT_NE(probe.summary().find("not cached"), std::string::npos) << probe.summary();
  EXPECT_FALSE(load_compute_probe(path, "k").has_value());
  EXPECT_FALSE(save_compute_probe(path, probe));
  cached_compute_probe(path, "k", busy.backend());
  EXPECT_EQ(busy.timings, 2);  // measured again next time

  busy.bf16_error = kNoPrimitive;  // the flag, but bf16 cannot run
  EXPECT_FALSE(measure_compute_probe(busy.backend(), "k").bf16);
  busy.bf16_error.clear();
  busy.flag = false;
  EXPECT_FALSE(measure_compute_probe(busy.backend(), "k").bf16);
}

TEST(ComputeProbe, FailedTimingKeepsFloat32) {
  FakeCpu cpu;
  auto backend = cpu.backend();
  backend.time_formats = [](bool) -> ProbeTimings { throw std::runtime_error("no oneDNN"); };
  const auto probe = measure_compute_probe(backend, "k");
  EXPECT_TRUE(probe.bf16_runs);
  EXPECT_FALSE(probe.bf16);
}

TEST(ComputeProbe, ExplicitBf16WhereItCannotRunIsAnActionableInputError) {
  const auto probe = flag_rule_probe(true, kNoPrimitive, "capped");
  try {
    resolve_compute_format(Precision::bf16, MemoryLayout::automatic, torch::kCPU, probe);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("bf16 is not supported by this CPU"), std::string::npos) << message;
    EXPECT_NE(message.find("--precision fp32 or auto"), std::string::npos) << message;
    EXPECT_NE(message.find(kNoPrimitive), std::string::npos) << message;
  }
  // Where it runs, explicit bf16 is honoured even if the probe found it no faster.
  FakeCpu marginal;
  marginal.ms = {11.0, 11.0, 10.0};
  const auto slow = measure_compute_probe(marginal.backend(), "k");
  const auto f =
      resolve_compute_format(Precision::bf16, MemoryLayout::automatic, torch::kCPU, slow);
  EXPECT_EQ(f.dtype, torch::kBFloat16);
  EXPECT_TRUE(f.channels_last);
}

TEST(ComputeProbe, FlagRuleStillChecksThatBf16Runs) {
  auto p = flag_rule_probe(true, "", "k");
  EXPECT_TRUE(p.bf16 && p.channels_last);
  EXPECT_EQ(p.source, "flags");
  EXPECT_FALSE(p.measured);
  p = flag_rule_probe(true, kNoPrimitive, "k");
  EXPECT_FALSE(p.bf16 || p.channels_last);
  p = flag_rule_probe(false, "", "k");
  EXPECT_FALSE(p.bf16 || p.channels_last);
}

TEST(ComputeProbe, CacheRoundTripsAndAnotherKeyIsProbedAgain) {
  TempDir dir;
  const auto path = dir.file("cache/pastiche/compute-probe.json");  // directories created
  FakeCpu cpu;
  auto first = cached_compute_probe(path, "machine-a", cpu.backend());
  EXPECT_EQ(first.source, "measured");
  EXPECT_EQ(cpu.bf16_tries, 1);
  ASSERT_TRUE(std::filesystem::exists(path));

  auto again = cached_compute_probe(path, "machine-a", cpu.backend());
  EXPECT_EQ(cpu.bf16_tries, 1);  // not measured again
  EXPECT_EQ(again.source, "cache");
  EXPECT_EQ(again.key, "machine-a");
  EXPECT_EQ(again.bf16, first.bf16);
  EXPECT_EQ(again.channels_last, first.channels_last);
  EXPECT_DOUBLE_EQ(again.timings.fp32_nchw_ms, 10.0);
  EXPECT_DOUBLE_EQ(again.timings.fp32_channels_last_ms, 8.0);
  EXPECT_DOUBLE_EQ(again.timings.bf16_channels_last_ms, 4.0);
  EXPECT_DOUBLE_EQ(again.timings.cpu_share, 1.0);
  EXPECT_DOUBLE_EQ(again.probe_ms, first.probe_ms);

  // Another thread count, ISA cap or CPU is another key: probed again, and both are kept.
  cpu.bf16_error = kNoPrimitive;
  auto other = cached_compute_probe(path, "machine-b", cpu.backend());
  EXPECT_EQ(cpu.bf16_tries, 2);
  EXPECT_EQ(other.source, "measured");
  EXPECT_FALSE(other.bf16);
  auto b = load_compute_probe(path, "machine-b");
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->bf16_runs);
  EXPECT_EQ(b->bf16_error, kNoPrimitive);
  EXPECT_FALSE(b->bf16);
  auto a = load_compute_probe(path, "machine-a");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->bf16);
  EXPECT_FALSE(load_compute_probe(path, "machine-c").has_value());
}

TEST(ComputeProbe, CorruptCacheIsIgnoredAndRewritten) {
  TempDir dir;
  const auto path = dir.file("compute-probe.json");
  for (const char* text : {"{not json", "[]", R"({"version": 1, "machines": []})",
                           R"({"version": 1, "machines": {"m": {"bf16_runs": "yes"}}})",
                           R"({"version": 1, "machines": {"m": {"bf16_runs": true, "bf16_error": "",
            "cpu_flag": true, "fp32_nchw_ms": -1, "fp32_channels_last_ms": 1,
            "bf16_channels_last_ms": 1, "cpu_share": 1, "probe_ms": 1}}})",
                           R"({"version": 999, "machines": {"m": {}}})"}) {
    write_file(path, text);
    EXPECT_FALSE(load_compute_probe(path, "m").has_value()) << text;
    FakeCpu cpu;
    const auto probe = cached_compute_probe(path, "m", cpu.backend());
    EXPECT_EQ(probe.source, "measured") << text;
    EXPECT_EQ(cpu.bf16_tries, 1) << text;
    EXPECT_TRUE(load_compute_probe(path, "m").has_value()) << text;  // rewritten whole
  }
}

TEST(ComputeProbe, UnwritableCacheIsNeverFatal) {
  TempDir dir;
  write_file(dir.file("blocker"), "a file where a directory should be");
  const auto path = dir.file("blocker/pastiche/compute-probe.json");
  FakeCpu cpu;
  EXPECT_FALSE(save_compute_probe(path, measure_compute_probe(cpu.backend(), "m")));
  const auto probe = cached_compute_probe(path, "m", cpu.backend());
  EXPECT_EQ(probe.source, "measured");
  EXPECT_TRUE(probe.bf16);
  // A directory in the file's place, or no path at all.
  EXPECT_FALSE(save_compute_probe(dir.path().string(), probe));
  EXPECT_FALSE(load_compute_probe(dir.path().string(), "m").has_value());
  EXPECT_FALSE(save_compute_probe("", probe));
  EXPECT_EQ(cached_compute_probe("", "m", cpu.backend()).source, "measured");
}

TEST(ComputeProbe, CachePathFollowsTheEnvironment) {
  ScopedEnv probe_cache("PASTICHE_PROBE_CACHE", nullptr);
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(compute_probe_cache_path(), "/xdg/pastiche/compute-probe.json");
  }
  {
    ScopedEnv xdg("XDG_CACHE_HOME", nullptr);
    ScopedEnv home("HOME", "/home/u");
    EXPECT_EQ(compute_probe_cache_path(), "/home/u/.cache/pastiche/compute-probe.json");
  }
  ScopedEnv override_path("PASTICHE_PROBE_CACHE", "/elsewhere/p.json");
  EXPECT_EQ(compute_probe_cache_path(), "/elsewhere/p.json");
}

TEST(ComputeProbe, KeyNamesTheCpuTheIsaCapTorchAndThreads) {
  // oneDNN reads ONEDNN_MAX_CPU_ISA when it first creates a primitive; nothing here creates one.
  std::string plain, capped;
  {
    ScopedEnv cap("ONEDNN_MAX_CPU_ISA", nullptr);
    plain = compute_probe_key();
  }
  {
    ScopedEnv cap("ONEDNN_MAX_CPU_ISA", "AVX2");
    capped = compute_probe_key();
  }
  EXPECT_NE(plain, capped);
  EXPECT_NE(capped.find("onednn_max_cpu_isa=AVX2"), std::string::npos) << capped;
  for (const char* part : {"cpu=", "flags=", "torch=", "threads="})
    EXPECT_NE(plain.find(part), std::string::npos) << part << " in " << plain;
}

// On the real machine: the probe measures every format it can run, and whatever it and the
// process-wide rule choose runs (no assertion on what they choose, nor on how fast).
TEST(ComputeProbe, TheRealProbeMeasuresAndItsChoiceRuns) {
  const auto probe = measure_compute_probe(torch_probe_backend(), compute_probe_key());
  EXPECT_EQ(probe.bf16_runs, cpu_bf16_error().empty()) << probe.bf16_error;
  EXPECT_GT(probe.timings.fp32_nchw_ms, 0);
  EXPECT_GT(probe.timings.fp32_channels_last_ms, 0);
  EXPECT_EQ(probe.timings.bf16_channels_last_ms > 0, probe.bf16_runs);
  EXPECT_GT(probe.timings.cpu_share, 0);
  EXPECT_FALSE(probe.summary().empty());
  for (const auto& cpu : {probe, cpu_compute_probe()}) {
    const auto f =
        resolve_compute_format(Precision::automatic, MemoryLayout::automatic, torch::kCPU, cpu);
    const auto w = f.apply(torch::randn({8, 3, 3, 3}));
    const auto y = torch::conv2d(f.apply(torch::rand({1, 3, 16, 16})), w, {}, 1, 1);
    EXPECT_EQ(y.scalar_type(), f.dtype);
  }
  EXPECT_EQ(
      resolve_compute_format(Precision::automatic, MemoryLayout::automatic, torch::kCPU).bf16(),
      cpu_compute_probe().bf16);
}

}  // namespace
}  // namespace pastiche
