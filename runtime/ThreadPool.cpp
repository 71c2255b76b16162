//===- ThreadPool.cpp - Spinning worker pool -------------------------------===//
#include "ThreadPool.h"

#include <algorithm>
#if defined(__x86_64__)
#include <immintrin.h>
#define QC_PAUSE() _mm_pause()
#else
#define QC_PAUSE() ((void)0)
#endif

namespace qc::runtime {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < std::max(1, threads); ++i)
    workers.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
  stop = true;
  generation.fetch_add(1);
  for (std::thread &t : workers)
    t.join();
}

void ThreadPool::runChunks() {
  for (;;) {
    int64_t begin = next.fetch_add(chunk);
    if (begin >= total)
      return;
    (*job)(begin, std::min(total, begin + chunk));
  }
}

void ThreadPool::work() {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation.load(std::memory_order_acquire) == seen) {
      if (++spins < 1 << 16)
        QC_PAUSE();
      else
        std::this_thread::yield();
    }
    seen = generation.load(std::memory_order_acquire);
    if (stop)
      return;
    runChunks();
    busy.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::parallelFor(int64_t n, int64_t grain,
                             const std::function<void(int64_t, int64_t)> &fn) {
  if (n <= 0)
    return;
  grain = std::max<int64_t>(1, grain);
  if (workers.empty() || n <= grain) {
    for (int64_t b = 0; b < n; b += grain)
      fn(b, std::min(n, b + grain));
    return;
  }
  job = &fn;
  total = n;
  chunk = grain;
  next.store(0);
  busy.store(int(workers.size()));
  generation.fetch_add(1, std::memory_order_acq_rel);
  runChunks();
  while (busy.load(std::memory_order_acquire) != 0)
    QC_PAUSE();
}

} // namespace qc::runtime
