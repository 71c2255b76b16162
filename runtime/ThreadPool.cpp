//===- ThreadPool.cpp - Worker pool ----------------------------------------===//
#include "ThreadPool.h"

#include <algorithm>
#include <chrono>
#if defined(__x86_64__)
#include <immintrin.h>
#define QC_PAUSE() _mm_pause()
#else
#define QC_PAUSE() ((void)0)
#endif

namespace qc::runtime {
namespace {

// Ticket fields: generation (high 24 bits), chunk count, next chunk.
using Clock = std::chrono::steady_clock;
constexpr int kIndexBits = 20;
constexpr uint64_t kIndexMask = (uint64_t(1) << kIndexBits) - 1;
uint64_t nextOf(uint64_t t) { return t & kIndexMask; }
uint64_t chunksOf(uint64_t t) { return (t >> kIndexBits) & kIndexMask; }
uint64_t generationOf(uint64_t t) { return t >> (2 * kIndexBits); }
uint64_t makeTicket(uint64_t generation, uint64_t chunks) {
  return generation << (2 * kIndexBits) | chunks << kIndexBits;
}

// Spinning keeps a worker's wake-up within a job's length; yielding hands a
// shared core to whoever needs it; past that the worker sleeps.
constexpr auto kSpinFor = std::chrono::microseconds(100);
constexpr auto kYieldFor = std::chrono::milliseconds(2);
// How long the caller's waiting is weighed against its working, and how
// long jobs then stay on the caller when waiting outweighed it.
constexpr auto kPeriod = std::chrono::milliseconds(10);
constexpr auto kSerialFor = std::chrono::milliseconds(500);

/// Waits until `ready()`: spins, then yields; `sleep()` (if given) once the
/// yielding has lasted kYieldFor.
template <typename Ready, typename Sleep>
void waitUntil(Ready ready, Sleep sleep) {
  Clock::time_point start = Clock::now();
  for (int i = 1; !ready(); ++i) {
    if (i % 64)
      QC_PAUSE();
    else if (Clock::duration waited = Clock::now() - start; waited < kSpinFor)
      continue;
    else if (waited < kYieldFor)
      std::this_thread::yield();
    else if (!sleep())
      std::this_thread::yield();
  }
}

} // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < std::max(1, threads); ++i)
    workers.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(sleepMutex);
    stop = true;
    ticket.fetch_add(makeTicket(1, 0));
  }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
}

bool ThreadPool::runOne() {
  uint64_t t = ticket.load(std::memory_order_acquire);
  do {
    if (nextOf(t) >= chunksOf(t))
      return false;
  } while (!ticket.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel,
                                         std::memory_order_acquire));
  // The claimed chunk is of the job the ticket names: its caller waits for
  // it, so job, total and grain are that job's.
  int64_t begin = int64_t(nextOf(t)) * grain;
  (*job)(begin, std::min(total, begin + grain));
  done.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

void ThreadPool::waitForJob(uint64_t seen) {
  auto changed = [&] { return stop.load() || ticket.load() != seen; };
  waitUntil(changed, [&] {
    std::unique_lock<std::mutex> lock(sleepMutex);
    ++sleepers;
    wake.wait(lock, changed);
    --sleepers;
    return true;
  });
}

void ThreadPool::work() {
  while (!stop.load()) {
    uint64_t seen = ticket.load(std::memory_order_acquire);
    while (runOne())
      seen = ticket.load(std::memory_order_acquire);
    waitForJob(seen);
  }
}

void ThreadPool::parallelFor(int64_t n, int64_t grain,
                             const std::function<void(int64_t, int64_t)> &fn) {
  if (n <= 0)
    return;
  grain = std::max<int64_t>(1, grain);
  // The ticket counts chunks in kIndexBits.
  grain = std::max(grain, (n + int64_t(kIndexMask) - 1) / int64_t(kIndexMask));
  int64_t chunks = (n + grain - 1) / grain;
  Clock::time_point start = Clock::now();
  if (workers.empty() || chunks == 1 || start < serialUntil) {
    for (int64_t b = 0; b < n; b += grain)
      fn(b, std::min(n, b + grain));
    return;
  }
  job = &fn;
  total = n;
  this->grain = grain;
  done.store(0, std::memory_order_relaxed);
  uint64_t generation = generationOf(ticket.load()) + 1;
  ticket.store(makeTicket(generation, uint64_t(chunks)));
  if (sleepers.load() > 0) {
    { std::lock_guard<std::mutex> lock(sleepMutex); }
    wake.notify_all();
  }
  while (runOne()) {
  }
  Clock::time_point own = Clock::now();
  // Chunks other threads hold: the caller never sleeps on them.
  waitUntil([&] { return done.load(std::memory_order_acquire) == chunks; },
            [] { return false; });
  // A worker the OS set aside while it held a chunk (another process busy
  // on its core) makes the caller wait out its time slice. When waiting
  // takes more than a quarter of the caller's working time over a period,
  // jobs run on the caller alone for a while, then the workers are tried
  // again (bench/cpu/contention.py: 2 threads with one core busy as fast as
  // 1 thread; 0.63x with the waiting alone).
  Clock::time_point end = Clock::now();
  worked += own - start;
  waited += end - own;
  if (end - periodStart > kPeriod) {
    if (4 * waited > worked)
      serialUntil = end + kSerialFor;
    worked = waited = Clock::duration::zero();
    periodStart = end;
  }
}

} // namespace qc::runtime
