//===- ThreadPool.h - Worker pool for the runtime ---------------*- C++ -*-===//
//
// A transformer step hands out hundreds of short jobs per token, so idle
// workers first spin on the job ticket (a condition variable's wake-up
// would dominate the jobs), then yield, then sleep. A job is done when
// all of its chunks are, not when every worker has looked at it: a worker
// that the OS has put aside (another process busy on its core) costs the
// job nothing unless it holds a chunk; when such waits outweigh the
// caller's own work, jobs stay on the caller for a while.
//
//===----------------------------------------------------------------------===//
#ifndef QC_RUNTIME_THREADPOOL_H
#define QC_RUNTIME_THREADPOOL_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qc::runtime {

class ThreadPool {
public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return int(workers.size()) + 1; }

  /// Calls fn(begin, end) on chunks of [0, n) of `grain` items (the last one
  /// shorter) from every thread, the caller's included; returns when all
  /// chunks are done.
  void parallelFor(int64_t n, int64_t grain,
                   const std::function<void(int64_t, int64_t)> &fn);

private:
  void work();
  /// Claims and runs one chunk of the current job; false when none is left.
  bool runOne();
  /// Returns when the ticket differs from `seen` or the pool stops.
  void waitForJob(uint64_t seen);

  std::vector<std::thread> workers;
  /// The job's generation, its chunk count and the next chunk to claim, in
  /// one word: a claim that succeeds is a chunk of the job it names.
  std::atomic<uint64_t> ticket{0};
  std::atomic<int64_t> done{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  std::mutex sleepMutex;
  std::condition_variable wake;
  int64_t total = 0, grain = 1;
  /// The caller's time in its own chunks and waiting for others' in the
  /// current period; until serialUntil, jobs run on the caller alone.
  using Clock = std::chrono::steady_clock;
  Clock::duration worked{}, waited{};
  Clock::time_point periodStart = Clock::now(), serialUntil{};
  const std::function<void(int64_t, int64_t)> *job = nullptr;
};

} // namespace qc::runtime

#endif // QC_RUNTIME_THREADPOOL_H
