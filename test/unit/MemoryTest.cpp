//===- MemoryTest.cpp - What a process may allocate ------------------------===//
#include "qc/Support/Memory.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

namespace {

int64_t mappedBytes() {
  return qc::detail::readKilobytes("/proc/self/status", "VmSize:");
}

// ulimit -v: with 64 MB of address space left, that is all qc plans on.
TEST(Memory, AddressSpaceLimitBoundsWhatIsAvailable) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_AS, &saved), 0);
  int64_t mapped = mappedBytes();
  ASSERT_GT(mapped, 0);
  rlimit tight = saved;
  tight.rlim_cur = rlim_t(mapped + (64 << 20));
  if (saved.rlim_max != RLIM_INFINITY && tight.rlim_cur > saved.rlim_max)
    GTEST_SKIP() << "the hard address-space limit is already below that";
  ASSERT_EQ(setrlimit(RLIMIT_AS, &tight), 0);
  int64_t available = qc::availableMemoryBytes();
  ASSERT_EQ(setrlimit(RLIMIT_AS, &saved), 0);
  EXPECT_GT(available, 0);
  EXPECT_LE(available, int64_t(64) << 20);
  EXPECT_GT(available, int64_t(48) << 20); // nothing else was mapped since
}

TEST(Memory, EnvironmentCapAndItsUnits) {
  setenv("QC_MEMORY_LIMIT", "3K", 1);
  EXPECT_EQ(qc::availableMemoryBytes(), 3072);
  setenv("QC_MEMORY_LIMIT", "1.5m", 1);
  EXPECT_EQ(qc::availableMemoryBytes(), 1572864);
  setenv("QC_MEMORY_LIMIT", "2G", 1);
  EXPECT_LE(qc::availableMemoryBytes(), int64_t(2) << 30);
  for (const char *bad : {"", "K", "-1", "4X", "3KB", "1e400"}) {
    setenv("QC_MEMORY_LIMIT", bad, 1);
    EXPECT_THROW(qc::availableMemoryBytes(), qc::model::FormatError) << bad;
  }
  unsetenv("QC_MEMORY_LIMIT");
  EXPECT_THROW(qc::requireMemory(1e30, "a model of 1e30 bytes", "no"),
               qc::model::FormatError);
  EXPECT_NO_THROW(qc::requireMemory(1024, "a kilobyte", "no"));
}

TEST(Memory, ByteSizes) {
  EXPECT_EQ(qc::byteSize(999), "999 bytes");
  EXPECT_EQ(qc::byteSize(1832000), "1.83 MB");
  EXPECT_EQ(qc::byteSize(102400), "102 KB");
  EXPECT_EQ(qc::byteSize(16.5e9), "16.5 GB");
}

} // namespace
