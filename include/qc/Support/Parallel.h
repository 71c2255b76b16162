//===- Parallel.h - Split a range over the cores ----------------*- C++ -*-===//
#ifndef QC_SUPPORT_PARALLEL_H
#define QC_SUPPORT_PARALLEL_H

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace qc {

/// Runs body(begin, end) over [0, count) in contiguous parts, one per core
/// (at most one per `grain` items), and returns when all are done.
template <typename Body>
void parallelRanges(int64_t count, int64_t grain, Body body) {
  int64_t threads = std::min<int64_t>(
      std::max(1u, std::thread::hardware_concurrency()),
      (count + grain - 1) / std::max<int64_t>(1, grain));
  if (threads <= 1) {
    body(int64_t(0), count);
    return;
  }
  int64_t step = (count + threads - 1) / threads;
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t)
    pool.emplace_back(body, std::min(count, t * step),
                      std::min(count, (t + 1) * step));
  body(int64_t(0), std::min(count, step));
  for (std::thread &th : pool)
    th.join();
}

} // namespace qc

#endif // QC_SUPPORT_PARALLEL_H
