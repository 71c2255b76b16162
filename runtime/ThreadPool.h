//===- ThreadPool.h - Spinning worker pool for the runtime ------*- C++ -*-===//
//
// Workers wait for the next job by spinning on a generation counter (then
// yielding), because a transformer step hands out hundreds of short jobs per
// token and a condition variable's wake-up latency would dominate them.
//
//===----------------------------------------------------------------------===//
#ifndef QC_RUNTIME_THREADPOOL_H
#define QC_RUNTIME_THREADPOOL_H

#include <atomic>
#include <cstdint>
#include <functional>
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
  void runChunks();

  std::vector<std::thread> workers;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> busy{0};
  std::atomic<int64_t> next{0};
  std::atomic<bool> stop{false};
  int64_t total = 0, chunk = 1;
  const std::function<void(int64_t, int64_t)> *job = nullptr;
};

} // namespace qc::runtime

#endif // QC_RUNTIME_THREADPOOL_H
