//===- Progress.h - A progress line with an ETA on a terminal ---*- C++ -*-===//
//
// Long steps (import, calibration, quantization) report progress on stderr
// when it is a terminal: done/total, elapsed time, an estimate of the time
// left, and what is being worked on. Logs and tests see nothing.
//
//===----------------------------------------------------------------------===//
#ifndef QC_SUPPORT_PROGRESS_H
#define QC_SUPPORT_PROGRESS_H

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace qc {

class Progress {
public:
  /// `total` units of work (bytes, tensors, windows) for the step `what`.
  Progress(const char *what, double total)
      : what(what), total(total), shown(total > 0 && ::isatty(2)),
        start(std::chrono::steady_clock::now()) {}
  ~Progress() {
    if (shown && started)
      std::fprintf(stderr, "\n");
  }
  Progress(const Progress &) = delete;
  Progress &operator=(const Progress &) = delete;

  /// `done` units finished, `item` the one now in hand.
  void update(double done, const std::string &item) {
    if (!shown)
      return;
    started = true;
    double elapsed = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    double left = done > 0 ? elapsed * (total - done) / done : 0;
    int filled = int(24 * done / total);
    std::fprintf(stderr, "\r%s [%.*s%*s] %3.0f%% %6.1fs ETA %6.1fs %-32.32s",
                 what, filled, "########################", 24 - filled, "",
                 100 * done / total, elapsed, left, item.c_str());
    std::fflush(stderr);
  }

private:
  const char *what;
  double total;
  bool shown, started = false;
  std::chrono::steady_clock::time_point start;
};

} // namespace qc

#endif // QC_SUPPORT_PROGRESS_H
