// Memory read bandwidth: each thread sums its share of a buffer far larger
// than the caches; the best of several passes, in GB/s. Built and run by
// bench/cpu/run.py.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  size_t bytes = size_t(2) << 30, n = bytes / sizeof(uint64_t);
  std::vector<uint64_t> buffer(n, 1);
  double best = 0;
  for (int pass = 0; pass < 5; ++pass) {
    std::vector<uint64_t> sums(threads);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        size_t b = n / threads * t, e = t + 1 == threads ? n : b + n / threads;
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = b; i + 4 <= e; i += 4) {
          s0 += buffer[i]; s1 += buffer[i + 1];
          s2 += buffer[i + 2]; s3 += buffer[i + 3];
        }
        sums[t] = s0 + s1 + s2 + s3;
      });
    for (auto &t : pool)
      t.join();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    uint64_t total = 0;
    for (uint64_t v : sums)
      total += v;
    if (total == 0)
      return 1; // keeps the sums alive
    best = std::max(best, double(bytes) / s / 1e9);
  }
  std::printf("%.2f\n", best);
  return 0;
}
