//===- ThreadPoolTest.cpp - The runtime's worker pool ---------------------===//
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using qc::runtime::ThreadPool;

// Every item of every job runs exactly once, whatever the grain, across
// thousands of back-to-back jobs (the ticket names the job a claim is of).
TEST(ThreadPool, EveryItemOnceAcrossManyJobs) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> hits(1000);
  for (int job = 0; job < 3000; ++job) {
    int64_t n = 1 + job % 997, grain = 1 + job % 13;
    for (int64_t i = 0; i < n; ++i)
      hits[size_t(i)] = 0;
    pool.parallelFor(n, grain, [&](int64_t begin, int64_t end) {
      ASSERT_LT(begin, end);
      ASSERT_LE(end, n);
      for (int64_t i = begin; i < end; ++i)
        hits[size_t(i)].fetch_add(1);
    });
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(hits[size_t(i)].load(), 1) << "job " << job << " item " << i;
  }
}

// Workers that went to sleep between jobs wake for the next one, and the
// pool still returns only when all chunks are done.
TEST(ThreadPool, WakesSleepingWorkers) {
  ThreadPool pool(3);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30)); // past the yielding
    std::atomic<int64_t> sum{0};
    pool.parallelFor(10000, 7, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        sum += i;
    });
    EXPECT_EQ(sum.load(), 10000LL * 9999 / 2);
  }
}

// More chunks than the ticket counts: the grain grows to fit.
TEST(ThreadPool, HugeCounts) {
  ThreadPool pool(2);
  std::atomic<int64_t> items{0};
  pool.parallelFor(int64_t(3) << 20, 1,
                   [&](int64_t begin, int64_t end) { items += end - begin; });
  EXPECT_EQ(items.load(), int64_t(3) << 20);
}
