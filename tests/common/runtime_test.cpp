#include "common/runtime.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <cstring>
#include <memory>
#include <thread>

#include "common/error.h"

namespace pastiche {
namespace {

TEST(Runtime, IdlePriorityAppliesToTheCallingThreadAndItsChildren) {
  const int caller = sched_getscheduler(0);
  int own = -1, child = -1;
  bool applied = false;
  std::thread worker([&] {
    applied = set_thread_idle_priority();
    own = sched_getscheduler(0);
    std::thread inner([&] { child = sched_getscheduler(0); });  // as OpenMP's pool would start
    inner.join();
  });
  worker.join();
  ASSERT_TRUE(applied);
  EXPECT_EQ(own, SCHED_IDLE);
  EXPECT_EQ(child, SCHED_IDLE);
  EXPECT_EQ(sched_getscheduler(0), caller);  // the test's own thread is untouched
}

TEST(Runtime, ComputeFormatResolvesExplicitChoices) {
  ComputeProbe cpu;  // a CPU where bf16 runs but was not measured faster
  cpu.bf16_runs = true;
  const auto fp32 = resolve_compute_format(Precision::fp32, MemoryLayout::nchw, torch::kCPU, cpu);
  EXPECT_EQ(fp32.dtype, torch::kFloat);
  EXPECT_FALSE(fp32.channels_last);
  const auto bf16 =
      resolve_compute_format(Precision::bf16, MemoryLayout::channels_last, torch::kCPU, cpu);
  EXPECT_EQ(bf16.dtype, torch::kBFloat16);
  EXPECT_TRUE(bf16.channels_last);
  const auto x = bf16.apply(torch::rand({1, 3, 8, 8}));
  EXPECT_EQ(x.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(x.is_contiguous(torch::MemoryFormat::ChannelsLast));
  // Automatic picks channels-last for float32 only where the probe measured it faster.
  EXPECT_FALSE(resolve_compute_format(Precision::fp32, MemoryLayout::automatic, torch::kCPU, cpu)
                   .channels_last);
  // The real explicit float32 path needs no probe and always runs.
  EXPECT_EQ(resolve_compute_format(Precision::fp32, MemoryLayout::nchw, torch::kCPU).dtype,
            torch::kFloat);
}

TEST(Runtime, ParsesLayoutAndPrecisionNames) {
  EXPECT_EQ(parse_memory_layout("channels-last"), MemoryLayout::channels_last);
  EXPECT_EQ(parse_memory_layout("nchw"), MemoryLayout::nchw);
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  EXPECT_THROW(parse_memory_layout("nhwc?"), InputError);
  EXPECT_THROW(parse_precision("fp8"), InputError);
}

#ifdef PASTICHE_TCMALLOC_LINKED
// The build links tcmalloc so that freed tensor buffers are reused instead of unmapped and
// faulted back in; this fails if the linker dropped it (it is never called by name).
TEST(Runtime, TcmallocServesTheProcessAndReleaseHandsFreePagesBack) {
  ASSERT_EQ(memory_allocator(), "tcmalloc");
  using Property = int (*)(const char*, size_t*);
  auto property =
      reinterpret_cast<Property>(dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty"));
  ASSERT_NE(property, nullptr);
  size_t free_before = 0, free_after = 0;
  {
    auto block = std::make_unique<char[]>(64 << 20);  // a tensor-sized buffer, touched
    std::memset(block.get(), 1, 64 << 20);
  }
  ASSERT_TRUE(property("tcmalloc.pageheap_free_bytes", &free_before));
  EXPECT_GE(free_before, size_t{64} << 20);  // kept for reuse, not unmapped
  release_free_memory();
  ASSERT_TRUE(property("tcmalloc.pageheap_free_bytes", &free_after));
  EXPECT_LT(free_after, size_t{1} << 20);
}
#else
TEST(Runtime, GlibcAllocatorIsReportedWithoutTcmalloc) {
  EXPECT_EQ(memory_allocator(), "glibc");
  release_free_memory();  // malloc_trim; must not crash
}
#endif

}  // namespace
}  // namespace pastiche
